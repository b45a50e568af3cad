"""The uplinks of a site, from its site file's `uplinks` section: the outbox feed for the
journal, one dispatcher per destination, and the watch that turns the outbox's level, the
destinations' health and quarantined messages into alarms.

    service = UplinkService.from_site(config, engine, alarms=alarms)
    journal = Journal(engine, ..., hook=service.feed)
    async with service:
        ...  # the dispatchers run until the block ends
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from config import SiteConfig
from config.uplinks import (
    EpcisHttpDestination,
    MqttDestination,
    SiteDatabaseDestination,
    UplinksSection,
)
from drivers.backoff import Backoff
from drivers.base import DeviceHealth, LinkState
from ebr.outbox import Outbox, OutboxLimits, OutboxMessage
from gateway.alarms.catalog import OUTBOX_FULL, OUTBOX_HIGH_WATER, UPLINK_DOWN, UPLINK_QUARANTINE
from gateway.alarms.manager import AlarmManager
from gateway.epcis.from_journal import ExportSettings
from gateway.uplink.dispatcher import Dispatcher, DispatcherSettings
from gateway.uplink.epcis_http import EpcisCaptureUplink
from gateway.uplink.mqtt import Metrics, MqttUplink
from gateway.uplink.outbox_feed import OutboxFeed
from gateway.uplink.site_database import SiteDatabaseUplink
from gateway.uplink.uplinks import Uplink
from serialization.epcis.identifiers import DEFAULT_PRIVATE_BASE

WATCH_EVERY_S = 2.0
OUTBOX_SOURCE = "outbox"


class UplinkService:
    def __init__(
        self,
        section: UplinksSection,
        engine: Engine,
        *,
        site_id: str,
        zone: tzinfo,
        base_dir: Path = Path(),
        alarms: AlarmManager | None = None,
        telemetry: Callable[[], Metrics] | None = None,
        watch_every_s: float = WATCH_EVERY_S,
    ) -> None:
        limits = section.outbox
        self.outbox = Outbox(
            engine,
            limits=OutboxLimits(limits.max_rows, limits.max_bytes, limits.high_water),
        )
        settings = ExportSettings(zone=zone, private_base=section.id_base or DEFAULT_PRIVATE_BASE)
        self.feed = OutboxFeed(self.outbox, [d.id for d in section.destinations], settings)
        self.alarms = alarms
        self.watch_every_s = watch_every_s
        self.dispatchers = [
            Dispatcher(
                self.outbox,
                build_uplink(
                    destination,
                    site_id=site_id,
                    base_dir=base_dir,
                    telemetry=telemetry or self.telemetry,
                ),
                settings=DispatcherSettings(
                    page=destination.page,
                    backoff=Backoff(initial=section.retry.initial_s, cap=section.retry.max_s),
                ),
                on_quarantine=self._quarantined,
            )
            for destination in section.destinations
        ]
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    def from_site(
        cls, config: SiteConfig, engine: Engine, *, alarms: AlarmManager | None = None
    ) -> UplinkService:
        if config.uplinks is None:
            raise ValueError("the site file has no uplinks section")
        return cls(
            config.uplinks,
            engine,
            site_id=config.site.id,
            zone=ZoneInfo(config.site.timezone),
            base_dir=config.base_dir,
            alarms=alarms,
        )

    async def __aenter__(self) -> UplinkService:
        for dispatcher in self.dispatchers:
            self._tasks.append(
                asyncio.create_task(dispatcher.run(), name=f"uplink-{dispatcher.destination}")
            )
        self._tasks.append(asyncio.create_task(self._watch(), name="uplink-watch"))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def health(self) -> list[DeviceHealth]:
        return [dispatcher.health() for dispatcher in self.dispatchers]

    def telemetry(self) -> Metrics:
        """What the MQTT state topics carry by default: the uplinks' own state."""
        metrics: dict[str, str | int | float | bool] = {}
        for dispatcher in self.dispatchers:
            metrics[f"uplink/{dispatcher.destination}/state"] = dispatcher.health().state.value
            metrics[f"uplink/{dispatcher.destination}/delivered"] = dispatcher.stats.delivered
        return metrics

    async def watch_once(self) -> None:
        """Raise or clear OUTBOX_HIGH_WATER, OUTBOX_FULL, UPLINK_DOWN, UPLINK_QUARANTINE."""
        if self.alarms is None:
            return
        level = await asyncio.to_thread(self.outbox.level)
        self._condition(OUTBOX_HIGH_WATER.id, OUTBOX_SOURCE, level.high, level.describe())
        self._condition(OUTBOX_FULL.id, OUTBOX_SOURCE, level.full, level.describe())
        for dispatcher in self.dispatchers:
            health = dispatcher.health()
            self._condition(
                UPLINK_DOWN.id,
                dispatcher.destination,
                health.state is LinkState.DOWN,
                f"{dispatcher.destination}: {health.last_error or 'down'}",
            )
            quarantined = await asyncio.to_thread(self.outbox.quarantined, dispatcher.destination)
            if not quarantined:
                self.alarms.clear(UPLINK_QUARANTINE.id, dispatcher.destination)

    async def _watch(self) -> None:
        while True:
            await self.watch_once()
            await asyncio.sleep(self.watch_every_s)

    def _condition(self, alarm_id: str, source: str, active: bool, detail: str) -> None:
        assert self.alarms is not None
        if active:
            self.alarms.activate(alarm_id, source, detail)
        else:
            self.alarms.clear(alarm_id, source)

    def _quarantined(self, message: OutboxMessage, reason: str) -> None:
        if self.alarms is not None:
            self.alarms.activate(
                UPLINK_QUARANTINE.id,
                message.destination,
                f"{message.sender} #{message.seq} (batch {message.batch_id}, journal seq "
                f"{message.journal_seq}): {reason}",
            )


def build_uplink(
    destination: EpcisHttpDestination | MqttDestination | SiteDatabaseDestination,
    *,
    site_id: str,
    base_dir: Path,
    telemetry: Callable[[], Metrics] | None = None,
) -> Uplink:
    if isinstance(destination, EpcisHttpDestination):
        return EpcisCaptureUplink(
            destination.id,
            destination.url,
            events_per_document=destination.events_per_document,
            timeout_s=destination.timeout_s,
            job_timeout_s=destination.job_timeout_s,
            token=_secret(base_dir, destination.token_file),
        )
    if isinstance(destination, MqttDestination):
        return MqttUplink(
            destination.id,
            destination.host,
            destination.port,
            site_id=site_id,
            node_id=destination.node_id,
            topic_prefix=destination.topic_prefix,
            client_id=destination.client_id,
            username=destination.username,
            password=_secret(base_dir, destination.password_file),
            telemetry=telemetry,
            telemetry_every_s=destination.telemetry_every_s,
        )
    return SiteDatabaseUplink(destination.id, destination.url)


def _secret(base_dir: Path, name: str | None) -> str | None:
    if name is None:
        return None
    return (base_dir / name).read_text(encoding="utf-8").strip()
