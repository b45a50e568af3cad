"""What the line runtime publishes about a line: PackML state, counters, speed, the current
batch and each device's health. Plain Python values in; the OPC UA variables follow."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from asyncua.server.server import Server

from gateway.opcua_server.model import LineNodes, ObjectNodes, write_values

BATCH_COUNTS: Final = {
    "issued": "IssuedCount",
    "accepted": "AcceptedCount",
    "rejected": "RejectedCount",
    "sampled": "SampledCount",
    "destroyed": "DestroyedCount",
    "voided": "VoidedCount",
}
"""`ebr.journal.batch_counts` names → BatchType variables."""


class LineNode:
    def __init__(self, server: Server, line_id: str, nodes: LineNodes) -> None:
        self._server = server
        self.line_id = line_id
        self._nodes = nodes
        self.batch_id: int | None = None

    @property
    def device_ids(self) -> tuple[str, ...]:
        return tuple(self._nodes.devices)

    async def update(
        self,
        *,
        packml_state: int | None = None,
        packml_state_name: str | None = None,
        good: int | None = None,
        rejected: int | None = None,
        total: int | None = None,
        speed_upm: float | None = None,
    ) -> None:
        """Set the given values; those left None keep their value."""
        await self._write(
            self._nodes.line,
            PackMLState=_int(packml_state),
            PackMLStateName=packml_state_name,
            GoodCount=_int(good),
            RejectedCount=_int(rejected),
            TotalCount=_int(total),
            SpeedUpm=None if speed_upm is None else float(speed_upm),
        )

    async def update_batch(
        self,
        *,
        batch_id: int | None = None,
        product_id: str | None = None,
        lot: str | None = None,
        status: str | None = None,
        planned_quantity: int | None = None,
        counts: Mapping[str, int] | None = None,
        balanced: bool | None = None,
    ) -> None:
        """The line's current batch; `counts` as `batch_counts` gives them (other keys are
        ignored)."""
        if batch_id is not None:
            self.batch_id = int(batch_id)
        values: dict[str, Any] = {
            "BatchId": _int(batch_id),
            "ProductId": product_id,
            "Lot": lot,
            "Status": status,
            "PlannedQuantity": _int(planned_quantity),
            "ReconciliationBalanced": None if balanced is None else bool(balanced),
        }
        for name, variable in BATCH_COUNTS.items():
            if counts is not None and name in counts:
                values[variable] = int(counts[name])
        await self._write(self._nodes.batch, **values)

    async def update_device(
        self,
        device_id: str,
        *,
        state: str | None = None,
        last_update: datetime | None = None,
        error_count: int | None = None,
        last_error: str | None = None,
    ) -> None:
        nodes = self._nodes.devices.get(device_id)
        if nodes is None:
            known = ", ".join(self._nodes.devices) or "none"
            raise ValueError(
                f"line {self.line_id} has no device {device_id!r} in the OPC UA model "
                f"(its devices: {known}); add it to the line's devices in the site file"
            )
        await self._write(
            nodes,
            ConnectionState=state,
            LastUpdate=last_update,
            ErrorCount=_int(error_count),
            LastError=last_error,
        )

    async def _write(self, nodes: ObjectNodes, **values: Any) -> None:
        given = {name: value for name, value in values.items() if value is not None}
        await write_values(self._server, nodes, given)


def _int(value: int | None) -> int | None:
    return None if value is None else int(value)
