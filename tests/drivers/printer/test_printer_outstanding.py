"""The book of units a printer driver owes a report: exactly one each, whatever happens."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.base import PrintItem, PrintOutcome, UsageError
from drivers.health import HealthTracker
from drivers.printer.outstanding import CONNECTION_LOST, Outstanding, check_item

OPS = st.lists(
    st.tuples(st.sampled_from(["expect", "printed", "refused", "write_off"]), st.integers(0, 6)),
    max_size=40,
)


@given(OPS)
def test_every_expected_unit_gets_exactly_one_report(ops: list[tuple[str, int]]) -> None:
    async def run() -> None:
        health = HealthTracker("p", "printer")
        book = Outstanding("p", health)
        expected: list[str] = []
        for op, n in ops:
            ref = f"U{n}"
            if op == "expect":
                if ref in book:
                    with pytest.raises(UsageError):
                        book.expect(PrintItem(ref, "x"))
                    continue
                book.expect(PrintItem(ref, "x"))
                expected.append(ref)
            elif op == "write_off":
                book.write_off()
            else:
                outcome = PrintOutcome.PRINTED if op == "printed" else PrintOutcome.REFUSED
                book.settle(ref, outcome, None if op == "printed" else "MISSED: x")
        book.write_off()
        book.close()
        reports = [report async for report in book.stream()]
        assert sorted(r.unit_ref for r in reports) == sorted(expected)
        assert all(r.at is not None for r in reports)

    asyncio.run(run())


async def test_a_report_nobody_waits_for_is_a_health_error_and_a_write_off_says_why() -> None:
    health = HealthTracker("p", "printer")
    book = Outstanding("p", health)
    assert not book.settle("ghost", PrintOutcome.PRINTED, None)
    assert health.snapshot().error_count == 1
    book.expect(PrintItem("A", "x"))
    assert book.write_off() == 1
    report = await anext(book.stream())
    assert (report.unit_ref, report.outcome, report.reason) == (
        "A",
        PrintOutcome.REFUSED,
        CONNECTION_LOST,
    )


def test_a_unit_must_fit_the_selected_job() -> None:
    with pytest.raises(UsageError, match="no job loaded"):
        check_item("p", None, PrintItem("A", "x"))
    with pytest.raises(UsageError, match="has 1 values, job 'j' has 2 fields"):
        check_item("p", ("j", ("code", "lot")), PrintItem("A", "x"))
    check_item("p", ("j", ("code", "lot")), PrintItem("A", "x", ("LOT 1",)))
