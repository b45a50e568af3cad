"""The running line as the MES sees it on the gateway's OPC UA server: PackML state, counters,
speed, the current batch and device health once a second, batch phase changes and alarm
transitions as events.

Publishing never touches the unit path: values are taken from the runtime's memory, events are
queued and sent by the publisher's own task, and a failure to publish is logged, not raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from drivers.base import DeviceHealth
from drivers.line_plc.protocol import PackMLState
from ebr.catalog import batch_info
from gateway.alarms.manager import AlarmTransition
from gateway.line.runtime import LineRuntime
from gateway.opcua_server import GatewayOpcUaServer, LineNode
from serialization.lifecycle import BatchPhase

log = logging.getLogger("tracegate.line.mes")

DRAIN_S = 2.0
"""How long the events still queued at the end may take to leave."""


class MesPublisher:
    def __init__(
        self, runtime: LineRuntime, server: GatewayOpcUaServer, *, every_s: float = 1.0
    ) -> None:
        self.runtime = runtime
        self.server = server
        self.node: LineNode = server.line(runtime.line.id)
        self.every_s = every_s
        self._events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._phase = runtime.supervisor.phase
        self._lot = ""
        self._last_total = 0
        self._last_at = time.monotonic()
        runtime.supervisor.on_phase = self._phase_changed
        self._unsubscribe = runtime.alarms.subscribe(self._alarm)

    async def run(self) -> None:
        """Publish until cancelled; the phase and alarm hooks are removed at the end."""
        info = await asyncio.to_thread(batch_info, self.runtime.store.engine, self.runtime.batch_id)
        self._lot = info.lot if info else ""
        sender = asyncio.create_task(self._send_events())
        try:
            await self._guarded(
                self.node.update_batch(
                    batch_id=self.runtime.batch_id,
                    product_id=info.product_id if info else None,
                    lot=self._lot,
                    status=self.runtime.supervisor.phase.value,
                )
            )
            while True:
                await self._guarded(self.publish_values())
                await asyncio.sleep(self.every_s)
        finally:
            self._unsubscribe()
            self.runtime.supervisor.on_phase = None
            await self._guarded(self.publish_values())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(DRAIN_S):
                    await self._events.join()
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    async def publish_values(self) -> None:
        runtime = self.runtime
        ledger = runtime.pipeline.ledger
        total = len(ledger.issued)
        now = time.monotonic()
        speed = (total - self._last_total) * 60 / max(now - self._last_at, 1e-3)
        self._last_total, self._last_at = total, now
        state = runtime.supervisor.plc_state
        await self.node.update(
            packml_state=state,
            packml_state_name=_state_name(state),
            good=len(ledger.accepted),
            rejected=len(ledger.rejected),
            total=total,
            speed_upm=speed,
        )
        balanced = runtime.final.balanced if runtime.final is not None else None
        await self.node.update_batch(
            counts={
                "issued": total,
                "accepted": len(ledger.accepted),
                "rejected": len(ledger.rejected),
                "sampled": len(ledger.sampled),
                "destroyed": len(ledger.destroyed),
            },
            balanced=balanced,
        )
        for health in self._device_health():
            if health.name in self.node.device_ids:
                await self.node.update_device(
                    health.name,
                    state=health.state.value,
                    last_update=health.since,
                    error_count=health.error_count,
                    last_error=health.last_error or "",
                )

    def _device_health(self) -> list[DeviceHealth]:
        devices = self.runtime.devices
        found = [devices.plc.health(), devices.printer.health(), devices.camera.health()]
        for level in devices.levels.values():
            found += [d.health() for d in (level.camera, level.printer) if d is not None]
        return found

    def _phase_changed(self, phase: BatchPhase) -> None:
        before, self._phase = self._phase, phase
        self._events.put_nowait(
            {
                "kind": "phase",
                "batch_id": self.runtime.batch_id,
                "line_id": self.runtime.line.id,
                "from_phase": before.value,
                "to_phase": phase.value,
            }
        )

    def _alarm(self, transition: AlarmTransition) -> None:
        definition = self.runtime.alarms.definition(transition.alarm_id)
        self._events.put_nowait(
            {
                "kind": "alarm",
                "alarm_id": transition.alarm_id,
                "state": str(transition.new),
                "priority": int(definition.priority),
                "message": definition.message,
                "line_id": self.runtime.line.id,
                "detail": transition.detail,
                "at": transition.at,
            }
        )

    async def _send_events(self) -> None:
        while True:
            event = await self._events.get()
            try:
                kind = event.pop("kind")
                if kind == "phase":
                    event["lot"] = self._lot
                    await self._guarded(self.server.publish_batch_phase(**event))
                else:
                    await self._guarded(self.server.publish_alarm(**event))
            finally:
                self._events.task_done()

    @staticmethod
    async def _guarded(work: Any) -> None:
        try:
            await work
        except Exception:
            log.exception("publishing to the OPC UA server failed")


def _state_name(state: int | None) -> str | None:
    """The PackML state's name ("Execute" for 6); None when unknown or not a PackML number."""
    if state is None:
        return None
    try:
        return PackMLState(state).name.title()
    except ValueError:
        return None
