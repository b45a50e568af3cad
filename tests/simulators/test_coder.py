"""The coder behind every printer simulator: random requests keep its promises.

Whatever the controller asks in whatever order (selects, data, print-go, clears, faults coming
and going, prints with NACKs and defects), every unit the coder queued gets exactly one report,
no unit it refused gets any, a blocking fault leaves nothing queued, and its status says so.
"""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.base import PrinterFault
from drivers.printer.protocol import ErrorCode, NackCode
from simulators.coder import (
    BLOCKING_FAULTS,
    Coder,
    CoderReport,
    PrintFaults,
    QueuedUnit,
    Refusal,
    Watchdog,
)

JOBS = {"j": ("code",), "k": ("code", "lot")}
CAPACITY = 5

Op = tuple[str, object]
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("select"), st.sampled_from(["j", "k", "nope"])),
        st.tuples(st.just("queue"), st.integers(0, 12)),
        st.tuples(st.just("trigger"), st.none()),
        st.tuples(st.just("go"), st.none()),
        st.tuples(st.just("fault"), st.sampled_from([*BLOCKING_FAULTS, PrinterFault.INK_LOW])),
        st.tuples(st.just("clear"), st.none()),
    ),
    max_size=60,
)


class Recorder:
    def __init__(self) -> None:
        self.reports: list[CoderReport] = []
        self.faults: list[frozenset[PrinterFault]] = []

    async def report(self, report: CoderReport) -> None:
        self.reports.append(report)

    async def faults_changed(self, faults: frozenset[PrinterFault]) -> None:
        self.faults.append(faults)


async def run(ops: list[Op], seed: int) -> None:
    faults = PrintFaults(nack=0.3, skip=0.2, wrong_data=0.1)
    coder = Coder(jobs=JOBS, capacity=CAPACITY, print_interval=None, print_faults=faults, seed=seed)
    recorder = Recorder()
    coder.listener = recorder
    accepted: list[str] = []
    for op, arg in ops:
        if op == "select":
            await coder.select(str(arg), JOBS.get(str(arg), ("code",)))
        elif op == "queue":
            ref = f"U{arg}"
            lines = ("lot",)[: len(coder.job[1]) - 1] if coder.job else ()
            if not isinstance(await coder.queue_unit(ref, f"P{arg}", lines), Refusal):
                accepted.append(ref)
        elif op == "trigger":
            await coder.trigger()
        elif op == "go":
            item = coder.take_next()
            if isinstance(item, QueuedUnit):
                await coder.print_unit(item)
        elif op == "fault":
            assert isinstance(arg, PrinterFault)
            await coder.set_fault(arg, arg not in coder.faults)
        else:
            await coder.clear()
        reported = [r.unit_ref for r in recorder.reports]
        assert coder.queued == len(accepted) - len(reported)
        assert coder.queued <= CAPACITY
        blocking = coder.blocking_fault() is not None
        if blocking:
            assert coder.queued == 0
        status = coder.status()
        assert status.ready == (coder.job is not None and not blocking)
        assert (PrinterFault.BUFFER_FULL in status.faults) == (coder.queued >= CAPACITY)
    await coder.clear()
    reported = [r.unit_ref for r in recorder.reports]
    assert sorted(reported) == sorted(accepted), "every queued unit gets exactly one report"
    for report in recorder.reports:
        if report.printed:
            assert coder.printed[report.unit_ref].sent_payload == f"P{report.unit_ref[1:]}"


@settings(max_examples=150, deadline=None)
@given(ops=OPS, seed=st.integers(0, 1000))
def test_every_queued_unit_gets_exactly_one_report(ops: list[Op], seed: int) -> None:
    asyncio.run(run(ops, seed))


async def test_a_blocking_fault_refuses_the_queue_with_its_code() -> None:
    recorder = Recorder()
    coder = Coder(jobs=JOBS, print_interval=None)
    coder.listener = recorder
    assert await coder.select("j", ["code"]) is None
    for ref in ("A", "B"):
        assert await coder.queue_unit(ref, "x", ()) in (1, 2)
    await coder.set_fault(PrinterFault.HEAD)
    assert [(r.unit_ref, r.code) for r in recorder.reports] == [
        ("A", NackCode.HEAD),
        ("B", NackCode.HEAD),
    ]
    assert recorder.faults == [frozenset({PrinterFault.HEAD})]
    refused = await coder.queue_unit("C", "x", ())
    assert refused == Refusal(ErrorCode.FAULT, "printer head")
    assert set(BLOCKING_FAULTS) == {
        PrinterFault.OFFLINE,
        PrinterFault.INK_OUT,
        PrinterFault.HEAD,
        PrinterFault.OTHER,
    }


def test_the_watchdog_expires_once_after_the_heartbeat_stops() -> None:
    watchdog = Watchdog(2.0)
    assert not watchdog.expired(100.0), "not armed before the first heartbeat"
    watchdog.beat(1, 100.0)
    watchdog.beat(1, 101.5)
    assert not watchdog.expired(101.9)
    assert watchdog.expired(102.1)
    assert not watchdog.expired(103.0), "expires once"
    watchdog.beat(2, 104.0)
    assert not watchdog.expired(105.0)
    watchdog.timeout_s = 0
    assert not watchdog.expired(500.0), "0 never expires"
