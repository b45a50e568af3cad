"""The line PLC as the runtime sees it: unit triggers, verdicts, bin sensor, packing signals.

The PLC interface the gateway expects is written down in docs/protocols/line-plc.md: one OPC
UA event per occurrence ("trigger <ref>", "reject <ref>", "case <n>", "pallet <n>",
"state <Name>", "changeover format|material <name>"), a `SetVerdict(ref, accept)` method
answering whether the verdict reached the unit before the gate, and the PackML state and command
variables.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from drivers.base import DeviceHealth, DeviceUnavailableError, DriverError, UsageError
from drivers.line_plc.protocol import OutcomeCode, VerdictAck
from drivers.opcua.client import OpcUaClient

CHANGEOVER_KINDS = ("format", "material")
REQUIRED_TAGS = ("packml_state", "packml_command", "verdict_object", "verdict_method")
T = TypeVar("T")
LINK_BACK_WITHIN_S = 10.0
"""How long the gateway's start waits for a PLC link that dropped to come back."""


class PlcEventKind(StrEnum):
    TRIGGER = "trigger"
    REJECT = "reject"
    CASE = "case"
    PALLET = "pallet"
    STATE = "state"
    CHANGEOVER = "changeover"


@dataclass(frozen=True, slots=True)
class PlcEvent:
    kind: PlcEventKind
    number: int
    """Unit reference, case or pallet count; 0 for a state change."""
    text: str
    """The state name for a state change, "format <name>" or "material <name>" for a
    changeover, else the raw message."""
    received_at: float
    """time.monotonic() when the gateway received it."""


def parse_event(message: str, received_at: float) -> PlcEvent | None:
    """One PLC event message, or None when it is none of ours."""
    word, _, rest = message.strip().partition(" ")
    try:
        kind = PlcEventKind(word)
    except ValueError:
        return None
    if kind is PlcEventKind.STATE:
        return PlcEvent(kind, 0, rest, received_at)
    if kind is PlcEventKind.CHANGEOVER:
        what, _, name = rest.partition(" ")
        if what not in CHANGEOVER_KINDS or not name.strip():
            return None
        return PlcEvent(kind, 0, rest, received_at)
    try:
        number = int(rest)
    except ValueError:
        return None
    return PlcEvent(kind, number, message, received_at)


class LinePlc:
    def __init__(self, client: OpcUaClient, tags: Mapping[str, str]) -> None:
        missing = [t for t in REQUIRED_TAGS if t not in tags]
        if missing:
            raise UsageError(
                f"the line PLC's tag map lacks {', '.join(missing)}",
                device=client.name,
                hint="add them under the line-plc device's tags (docs/protocols/line-plc.md)",
            )
        self.client = client
        self.name = client.name
        self._tags = dict(tags)

    def health(self) -> DeviceHealth:
        return self.client.health()

    async def retry_while_down(
        self, call: Callable[[], Awaitable[T]], timeout: float = LINK_BACK_WITHIN_S
    ) -> T:
        """`call()`, made again once the link is back if the link was down, for up to `timeout`
        seconds; then the driver's "not connected" error. For what a starting gateway asks the
        PLC (the restart's settling, bringing it to Execute): a moment's loss of the link (the
        driver reconnects by itself) delays the start instead of ending `tracegate run`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return await call()
            except DeviceUnavailableError:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise
                await self.client.wait_up(remaining)

    async def events(self) -> AsyncIterator[PlcEvent]:
        async for event in self.client.events():
            parsed = parse_event(event.message, time.monotonic())
            if parsed is not None:
                yield parsed

    async def set_verdict(self, ref: int, accept: bool) -> VerdictAck:
        outputs = await self.client.call(
            self._tags["verdict_object"], self._tags["verdict_method"], [ref, accept]
        )
        try:
            return VerdictAck(int(outputs[0]))  # type: ignore[arg-type]
        except (IndexError, TypeError, ValueError) as error:
            raise DriverError(
                f"SetVerdict answered {outputs!r}, not a verdict acknowledgement",
                device=self.name,
                hint="the PLC must return 0 applied, 1 late, 2 unknown or 3 conflict",
            ) from error

    @property
    def knows_outcomes(self) -> bool:
        return "outcome_method" in self._tags

    async def unit_outcome(self, ref: int) -> OutcomeCode:
        outputs = await self.client.call(
            self._tags["verdict_object"], self._tags["outcome_method"], [ref]
        )
        try:
            return OutcomeCode(int(outputs[0]))  # type: ignore[arg-type]
        except (IndexError, TypeError, ValueError) as error:
            raise DriverError(f"UnitOutcome answered {outputs!r}", device=self.name) from error

    async def command(self, command: str) -> None:
        await self.client.write({self._tags["packml_command"]: command})

    async def packml_state(self) -> int:
        value = (await self.client.read([self._tags["packml_state"]]))[
            self._tags["packml_state"]
        ].value
        if not isinstance(value, int):
            raise DriverError(f"PackML state is {value!r}, not a number", device=self.name)
        return value
