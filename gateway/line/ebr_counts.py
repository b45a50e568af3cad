"""The batch's counts: the PLC's own counters against what the gateway counted.

The PLC counts every unit at its trigger sensor and every unit its bin sensor sees fall; the
gateway counts the triggers it received (and the ones it inferred from a gap in the unit
references) and the reject confirmations. A difference means events were lost between them.
Read when the batch is reconciled, with the line stopped; a counter still moving (events in
flight) is read again for a moment before the difference counts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from config.ebr import PlcCountersConfig
from drivers.base import DriverError, TagSource
from gateway.line.pipeline import PipelineCounts

SETTLE_S = 2.0


@dataclass(frozen=True, slots=True)
class CountComparison:
    name: str
    """`total` or `rejected`."""
    tag: str
    plc: int | None
    gateway: int
    problem: str | None = None
    """Why the PLC's counter could not be read."""

    @property
    def differs(self) -> bool:
        return self.plc is not None and self.plc != self.gateway


def gateway_counts(counts: PipelineCounts) -> dict[str, int]:
    """The gateway's numbers the PLC's counters are compared with."""
    return {
        "total": counts.triggers + counts.missed_triggers,
        "rejected": counts.reject_confirmed,
    }


async def compare_counts(
    plc: TagSource,
    counters: PlcCountersConfig,
    gateway: Callable[[], Mapping[str, int]],
    *,
    settle_s: float = SETTLE_S,
) -> list[CountComparison]:
    """Each configured counter read from the PLC next to the gateway's number (`gateway`
    gives the gateway's numbers as they are now)."""
    tags = (("total", counters.total), ("rejected", counters.rejected))
    wanted = {name: tag for name, tag in tags if tag is not None}
    if not wanted:
        return []
    deadline = time.monotonic() + settle_s
    while True:
        comparisons = await _read(plc, wanted, gateway())
        if not any(c.differs for c in comparisons) or time.monotonic() >= deadline:
            return comparisons
        await asyncio.sleep(0.1)


async def _read(
    plc: TagSource, wanted: Mapping[str, str], gateway: Mapping[str, int]
) -> list[CountComparison]:
    try:
        values = await plc.read(list(wanted.values()))
    except DriverError as error:
        return [
            CountComparison(name, tag, None, gateway[name], str(error))
            for name, tag in wanted.items()
        ]
    comparisons = []
    for name, tag in wanted.items():
        read = values.get(tag)
        value = None if read is None else read.value
        if isinstance(value, bool) or not isinstance(value, int):
            comparisons.append(
                CountComparison(name, tag, None, gateway[name], f"{tag} read {value!r}")
            )
        else:
            comparisons.append(CountComparison(name, tag, value, gateway[name]))
    return comparisons
