"""What a subscriber of the OPC UA client receives: feeds, their callbacks, neutral events.

A feed is one `subscribe()` or `events()` caller. asyncua calls the handler from its publish
loop; the handler turns each notification into a neutral value at once and queues it, dropping
the oldest when a slow consumer lets the bounded queue fill.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from asyncua import ua
from asyncua.common.node import Node

from drivers.base import Quality, TagValue
from drivers.opcua.convert import tag_value, utc

log = logging.getLogger("tracegate.drivers.opcua")

_FEED_QUEUE_BOUND = 10_000


@dataclass(frozen=True, slots=True)
class OpcUaEvent:
    """An OPC UA event in neutral terms."""

    message: str
    severity: int
    source_time: datetime | None
    received_time: datetime


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(eq=False)
class Feed:
    """One `subscribe()` or `events()` caller: its queue and, while connected, its subscription."""

    node_ids: tuple[str, ...]
    tags: tuple[str, ...]
    events: bool = False
    queue_size: int = 1
    """The monitored item's queue on the server: values (or events) it keeps between two
    publishes; 1 keeps only the newest value."""
    queue: asyncio.Queue[Any] = field(default_factory=lambda: asyncio.Queue(_FEED_QUEUE_BOUND))
    last: dict[str, TagValue] = field(default_factory=dict)
    subscription: Any = None
    alive_at: float = 0.0
    stale: bool = False
    resubscribe: bool = False

    def put(self, item: Any) -> None:
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(item)

    def report(self, tag: str, value: TagValue) -> None:
        self.last[tag] = value
        self.put((tag, value))

    def report_stale(self) -> None:
        """Each tag once with its last value marked STALE (events have no value to mark)."""
        if self.stale or self.events:
            return
        self.stale = True
        received = now()
        for tag in self.tags:
            previous = self.last.get(tag)
            self.put(
                (
                    tag,
                    TagValue(
                        value=previous.value if previous else None,
                        quality=Quality.STALE,
                        source_time=previous.source_time if previous else None,
                        received_time=received,
                    ),
                )
            )


class Handler:
    """asyncua subscription callbacks, translated at once into neutral values."""

    def __init__(
        self, feed: Feed, tag_of: Mapping[str, str], on_value: Callable[[TagValue], None]
    ) -> None:
        self._feed = feed
        self._tag_of = dict(tag_of)
        self._on_value = on_value

    def datachange_notification(self, node: Node, val: Any, data: Any) -> None:
        tag = self._tag_of.get(node.nodeid.to_string())
        if tag is None:
            return
        self._feed.alive_at = time.monotonic()
        self._feed.stale = False
        value = tag_value(data.monitored_item.Value, now())
        self._on_value(value)
        self._feed.report(tag, value)

    def event_notification(self, event: Any) -> None:
        self._feed.alive_at = time.monotonic()
        message = getattr(event, "Message", None)
        text = message.Text if isinstance(message, ua.LocalizedText) else str(message or "")
        self._feed.put(
            OpcUaEvent(
                message=text or "",
                severity=int(getattr(event, "Severity", 0) or 0),
                source_time=utc(getattr(event, "Time", None)),
                received_time=now(),
            )
        )

    def status_change_notification(self, status: Any) -> None:
        code = getattr(status, "Status", None)
        if isinstance(code, ua.StatusCode) and not code.is_good():
            log.warning("subscription status %s: re-creating it", code.name)
            self._feed.resubscribe = True
            self._feed.report_stale()
