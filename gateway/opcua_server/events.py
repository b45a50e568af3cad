"""OPC UA events for batch phase changes and alarms, emitted from the Server object.

Clients subscribe to events on the Server object (ns=0;i=2253), as OPC UA clients do by
default, and select the fields of `BatchPhaseEventType` or `AlarmEventType` (docs/opcua.md).
Alarms are plain events, not AlarmConditionType conditions: acknowledging, confirming and
shelving stay at the gateway's alarm manager (ISA-18.2), which asyncua's condition support does
not model; each event carries the alarm's new state instead.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, Final

from asyncua import ua
from asyncua.server.event_generator import EventGenerator
from asyncua.server.server import Server
from asyncua.ua.object_ids import ObjectIds

SEVERITY_BY_PRIORITY: Final = {1: 250, 2: 500, 3: 750, 4: 1000}
"""ISA-18.2 priority (low … urgent) → OPC UA Severity (1-1000)."""


class EventPublisher:
    def __init__(self, batch_phase: EventGenerator, alarm: EventGenerator) -> None:
        self._batch_phase = batch_phase
        self._alarm = alarm
        self._lock = asyncio.Lock()

    @classmethod
    async def create(
        cls, server: Server, batch_phase_type: ua.NodeId, alarm_type: ua.NodeId
    ) -> EventPublisher:
        emitter = ua.NodeId(ua.Int32(ObjectIds.Server))
        return cls(
            await server.get_event_generator(batch_phase_type, emitter),
            await server.get_event_generator(alarm_type, emitter),
        )

    async def batch_phase(
        self,
        *,
        batch_id: int,
        line_id: str,
        lot: str,
        from_phase: str,
        to_phase: str,
        user: str | None,
        reason: str | None,
        at: datetime | None,
    ) -> None:
        await self._trigger(
            self._batch_phase,
            f"batch {lot} ({batch_id}) on {line_id}: {from_phase} → {to_phase}",
            500,
            at,
            BatchId=ua.Variant(int(batch_id), ua.VariantType.Int64),
            LineId=line_id,
            Lot=lot,
            FromPhase=from_phase,
            ToPhase=to_phase,
            UserName=user or "",
            Reason=reason or "",
        )

    async def alarm(
        self,
        *,
        alarm_id: str,
        state: str,
        priority: int,
        message: str,
        line_id: str,
        detail: str,
        at: datetime | None,
    ) -> None:
        if priority not in SEVERITY_BY_PRIORITY:
            raise ValueError(f"alarm {alarm_id}: priority {priority} is not 1 (low) to 4 (urgent)")
        await self._trigger(
            self._alarm,
            message,
            SEVERITY_BY_PRIORITY[priority],
            at,
            AlarmId=alarm_id,
            AlarmState=state,
            Priority=ua.Variant(int(priority), ua.VariantType.Int32),
            LineId=line_id,
            Detail=detail,
        )

    async def _trigger(
        self,
        generator: EventGenerator,
        message: str,
        severity: int,
        at: datetime | None,
        **fields: Any,
    ) -> None:
        async with self._lock:
            event = generator.event
            event.Severity = severity
            for name, value in fields.items():
                setattr(event, name, value)
            await generator.trigger(time_attr=at or datetime.now(UTC), message=message)
