"""TcpPrinter against the simulator: what happens when the printer misbehaves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from drivers.base import (
    DeviceUnavailableError,
    LinkState,
    PrinterFault,
    PrintItem,
    PrintOutcome,
    UsageError,
)
from drivers.printer import TcpPrinter
from simulators.printer import PrinterSimulator

JOB, FIELDS = "unit", ("code", "lot")


@pytest.fixture
async def simulator() -> AsyncIterator[PrinterSimulator]:
    async with PrinterSimulator(jobs={JOB: FIELDS}, print_interval=None) as sim:
        yield sim


@pytest.fixture
async def printer(simulator: PrinterSimulator) -> AsyncIterator[TcpPrinter]:
    async with TcpPrinter("p", "127.0.0.1", simulator.port) as printer:
        await printer.wait_until_up(5)
        await printer.load_job(JOB, FIELDS)
        yield printer


async def seconds_until(printer: TcpPrinter, state: LinkState, limit: float) -> float:
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with asyncio.timeout(limit):
        while printer.health().state is not state:
            await asyncio.sleep(0.01)
    return loop.time() - start


def item(ref: str) -> PrintItem:
    return PrintItem(ref, f"01095011015300032{ref}", (f"LOT {ref}",))


async def test_a_silent_printer_is_down_within_two_seconds(
    simulator: PrinterSimulator, printer: TcpPrinter
) -> None:
    await printer.send(item("A"))
    simulator.injector.faults.silent = True
    assert await seconds_until(printer, LinkState.DOWN, 2.0) < 2.0
    report = await anext(printer.reports())
    assert report.unit_ref == "A"
    assert report.outcome is PrintOutcome.REFUSED
    simulator.injector.faults.silent = False
    await seconds_until(printer, LinkState.UP, 5.0)
    assert (await printer.status()).job == JOB


async def test_a_truncated_reply_resets_the_connection(
    simulator: PrinterSimulator, printer: TcpPrinter
) -> None:
    await printer.send(item("A"))
    simulator.injector.faults.truncate_rate = 1.0
    with pytest.raises(DeviceUnavailableError):
        await printer.status()
    simulator.injector.faults.truncate_rate = 0.0
    report = await anext(printer.reports())
    assert (report.unit_ref, report.outcome) == ("A", PrintOutcome.REFUSED)
    await seconds_until(printer, LinkState.UP, 5.0)
    assert printer.health().error_count >= 1


async def test_what_never_reached_the_printer_raises_and_is_not_reported(
    simulator: PrinterSimulator,
) -> None:
    printer = TcpPrinter("p", "127.0.0.1", simulator.port)
    with pytest.raises(DeviceUnavailableError, match="not connected"):
        await printer.send(item("A"))
    async with printer:
        await printer.wait_until_up(5)
        with pytest.raises(UsageError, match="no job loaded"):
            await printer.send(item("A"))
        await printer.load_job(JOB, FIELDS)
        with pytest.raises(UsageError, match="has 2 fields"):
            await printer.send(PrintItem("B", "x"))
        await printer.send(item("A"))
        with pytest.raises(UsageError, match="already queued"):
            await printer.send(item("A"))
        assert printer.health().details["awaiting_confirmation"] == "1"
        assert simulator.queued == 1


async def test_refusals_faults_and_prints_are_reported(
    simulator: PrinterSimulator, printer: TcpPrinter
) -> None:
    simulator.capacity = 1
    await printer.send(item("A"))
    await printer.send(item("B"))
    reports = printer.reports()
    full = await anext(reports)
    assert (full.unit_ref, full.outcome) == ("B", PrintOutcome.REFUSED)
    assert full.reason is not None
    assert full.reason.startswith("BUFFER_FULL")
    assert PrinterFault.BUFFER_FULL in (await printer.status()).faults
    await simulator.trigger()
    printed = await anext(reports)
    assert (printed.unit_ref, printed.outcome) == ("A", PrintOutcome.PRINTED)
    await printer.send(item("C"))
    await simulator.set_fault(PrinterFault.HEAD)
    head = await anext(reports)
    assert (head.unit_ref, head.outcome, head.reason) == (
        "C",
        PrintOutcome.REFUSED,
        "HEAD: printer head",
    )
    await seconds_until(printer, LinkState.DEGRADED, 2.0)
    assert printer.health().details["faults"] == "head"
    await simulator.set_fault(PrinterFault.HEAD, False)
    await seconds_until(printer, LinkState.UP, 2.0)


async def test_a_newer_connection_takes_over_and_the_old_one_reports_its_units(
    simulator: PrinterSimulator, printer: TcpPrinter
) -> None:
    await printer.send(item("A"))
    async with TcpPrinter("second", "127.0.0.1", simulator.port) as second:
        await second.wait_until_up(5)
        report = await anext(printer.reports())
        assert (report.unit_ref, report.outcome) == ("A", PrintOutcome.REFUSED)
    await seconds_until(printer, LinkState.UP, 5.0)


async def test_software_print_go_fires_each_unit(simulator: PrinterSimulator) -> None:
    async with TcpPrinter("p", "127.0.0.1", simulator.port, print_go=True) as printer:
        await printer.wait_until_up(5)
        await printer.load_job(JOB, FIELDS)
        await printer.send(item("A"))
        report = await anext(printer.reports())
        assert (report.unit_ref, report.outcome) == ("A", PrintOutcome.PRINTED)
        assert simulator.printed["A"].payload == item("A").payload
        assert simulator.queued == 0
