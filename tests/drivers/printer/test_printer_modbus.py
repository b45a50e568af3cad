"""The Modbus printer driver against the Modbus printer simulator: what is particular to
registers (texts, the boot id, the heartbeat watchdog, print-go); the shared contract is in
tests/contract/test_contract_printer.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from drivers.base import LinkState, PrintItem, PrintOutcome, PrintReport, UsageError
from drivers.modbus.settings import TcpSettings
from drivers.printer import modbus_map as rmap
from drivers.printer.modbus import ModbusPrinter
from drivers.printer.protocol import NackCode
from simulators.modbus_device.printer import ModbusPrinterSimulator

JOB, FIELDS = "unit-label", ("code", "hri")


@pytest.fixture
async def simulator() -> AsyncIterator[ModbusPrinterSimulator]:
    async with ModbusPrinterSimulator(jobs={JOB: FIELDS}, print_interval=None) as sim:
        yield sim


async def connected(simulator: ModbusPrinterSimulator, **options: object) -> ModbusPrinter:
    printer = ModbusPrinter("p", TcpSettings("127.0.0.1", simulator.port), **options)
    printer.start()
    await printer.wait_until_up(5)
    await printer.load_job(JOB, FIELDS)
    return printer


async def next_report(printer: ModbusPrinter) -> PrintReport:
    async with asyncio.timeout(5):
        return await anext(printer.reports())


async def test_payload_separators_and_chinese_lines_land_on_the_unit(
    simulator: ModbusPrinterSimulator,
) -> None:
    printer = await connected(simulator)
    try:
        item = PrintItem("U1", "0109501101530003\x1d10批A\x1d21%X", ("批号 A1 有效期",))
        await printer.send(item)
        await simulator.trigger()
        report = await next_report(printer)
    finally:
        await printer.close()
    assert report.outcome is PrintOutcome.PRINTED
    unit = simulator.printed["U1"]
    assert (unit.payload, unit.text_lines) == (item.payload, item.text_lines)


async def test_a_payload_too_long_is_refused_before_anything_is_sent(
    simulator: ModbusPrinterSimulator,
) -> None:
    printer = await connected(simulator)
    try:
        with pytest.raises(UsageError) as refused:
            await printer.send(PrintItem("U1", "0" * 129, ("x",)))
        assert refused.value.hint is not None
        assert printer.health().details["awaiting_confirmation"] == "0"
        assert simulator.queued == 0
        await printer.send(PrintItem("U2", "0" * 128, ("x",)))
        assert simulator.queued == 1
    finally:
        await printer.close()


async def test_a_printer_that_restarted_costs_its_queue_and_is_resynchronised(
    simulator: ModbusPrinterSimulator,
) -> None:
    printer = await connected(simulator)
    try:
        await printer.send(PrintItem("U1", "A", ("a",)))
        simulator.boot_id = simulator.boot_id % 0xFFFF + 1
        simulator.registers.set_value(rmap.BOOT_ID, simulator.boot_id)
        report = await next_report(printer)
        assert (report.unit_ref, report.outcome) == ("U1", PrintOutcome.REFUSED)
        assert "the printer restarted" in (report.reason or "")
        await printer.wait_until_up(5)
        assert simulator.queued == 0, "the resync cleared what the printer still held"
        await printer.send(PrintItem("U2", "B", ("b",)))
        await simulator.trigger()
        report = await next_report(printer)
        assert (report.unit_ref, report.outcome) == ("U2", PrintOutcome.PRINTED)
    finally:
        await printer.close()


async def test_a_silent_controller_makes_the_printer_drop_its_queue(
    simulator: ModbusPrinterSimulator,
) -> None:
    printer = await connected(simulator, watchdog_ms=300)
    await printer.send(PrintItem("U1", "A", ("a",)))
    await printer.close()
    assert simulator.queued == 1
    async with asyncio.timeout(3):
        while simulator.queued:
            await asyncio.sleep(0.02)
    (sequence, report) = simulator.mailbox[-1]
    assert (report.unit_ref, report.code) == ("U1", NackCode.CLEARED)
    assert sequence


async def test_print_go_fires_each_unit(simulator: ModbusPrinterSimulator) -> None:
    printer = await connected(simulator, print_go=True)
    try:
        await printer.send(PrintItem("U1", "A", ("a",)))
        report = await next_report(printer)
        assert (report.unit_ref, report.outcome) == ("U1", PrintOutcome.PRINTED)
        assert printer.health().state is LinkState.UP
    finally:
        await printer.close()
