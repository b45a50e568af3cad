"""The printer contract: `drivers.base.Printer` as each transport gives it, against its simulator.

TGP/1 over TCP (with the TCP fault injector's splits, delays and garbage), OPC UA and Modbus
registers: every scenario runs the same assertions; the faults only change which outcome a
unit gets, never the rule that each unit handed to the printer gets exactly one report.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
import pytest_asyncio

from drivers.base import (
    DeviceUnavailableError,
    LinkState,
    Printer,
    PrinterFault,
    PrintItem,
    PrintOutcome,
    PrintReport,
    UsageError,
)
from drivers.modbus.settings import TcpSettings
from drivers.opcua.settings import OpcUaSettings
from drivers.printer import TcpPrinter
from drivers.printer.modbus import ModbusPrinter
from drivers.printer.opcua import OpcUaPrinter
from simulators.coder import Coder, CoderFront, CoderSettings
from simulators.faults import FaultInjector, Faults
from simulators.modbus_device.printer import ModbusPrinterSimulator
from simulators.opcua_device.printer import OpcUaPrinterSimulator
from simulators.ports import free_port
from simulators.printer import PrinterSimulator, PrintFaults

JOB = "unit-label"
FIELDS = ("code", "gtin_hri", "lot_hri")
GS = "\x1d"

AnyPrinter = TcpPrinter | OpcUaPrinter | ModbusPrinter
pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass(frozen=True)
class Scenario:
    transport: str
    name: str
    print_faults: PrintFaults = field(default_factory=PrintFaults)
    faults: Faults = field(default_factory=Faults)
    offline: bool = False
    all_printed: bool = True

    @property
    def id(self) -> str:
        return f"{self.transport}-{self.name}"


SCENARIOS = [
    Scenario("tcp", "clean"),
    Scenario(
        "tcp", "split-and-delayed", faults=Faults(delay=0.01, split_rate=1.0, split_pause=0.005)
    ),
    Scenario("tcp", "nacks", print_faults=PrintFaults(nack=0.5), all_printed=False),
    Scenario("tcp", "offline", offline=True, all_printed=False),
    Scenario("tcp", "garbage", faults=Faults(garbage_rate=0.2), all_printed=False),
    *(
        scenario
        for transport in ("opcua", "modbus")
        for scenario in (
            Scenario(transport, "clean"),
            Scenario(transport, "nacks", print_faults=PrintFaults(nack=0.5), all_printed=False),
            Scenario(transport, "offline", offline=True, all_printed=False),
        )
    ),
]


@dataclass
class Line:
    scenario: Scenario
    simulator: CoderFront
    printer: AnyPrinter
    drop_link: Callable[[], Awaitable[object]]
    """Drop the printer's connection as a pulled cable would (the simulator stays up)."""


class OpcUaPrinters:
    """One OPC UA printer server for the module, started on first use (asyncua needs seconds
    to build a server); each test fits it with a fresh coder."""

    def __init__(self) -> None:
        self._server: OpcUaPrinterSimulator | None = None

    async def get(self) -> OpcUaPrinterSimulator:
        if self._server is None:
            server = OpcUaPrinterSimulator(port=free_port(), jobs={JOB: FIELDS})
            await server.start()
            self._server = server
        return self._server

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def opcua_printers() -> AsyncIterator[OpcUaPrinters]:
    printers = OpcUaPrinters()
    try:
        yield printers
    finally:
        await printers.close()


def opcua_settings(endpoint: str) -> OpcUaSettings:
    return OpcUaSettings(
        name="printer-1",
        endpoint=endpoint,
        publishing_interval_ms=20,
        stale_after_s=1.0,
        request_timeout_s=1.0,
        reconnect_initial_s=0.05,
    )


@pytest_asyncio.fixture(loop_scope="module", params=SCENARIOS, ids=lambda s: s.id)
async def line(
    request: pytest.FixtureRequest, opcua_printers: OpcUaPrinters
) -> AsyncIterator[Line]:
    scenario: Scenario = request.param
    settings = CoderSettings(jobs={JOB: FIELDS}, print_faults=scenario.print_faults, seed=7)
    offline = {PrinterFault.OFFLINE} if scenario.offline else set()
    if scenario.transport == "tcp":
        injector = FaultInjector(scenario.faults, seed=7)
        simulator = PrinterSimulator(injector=injector, **settings)
        simulator.faults.update(offline)
        async with simulator, TcpPrinter("printer-1", "127.0.0.1", simulator.port) as printer:
            await printer.wait_until_up(5)
            yield Line(scenario, simulator, printer, _sync(injector.disconnect_all))
    elif scenario.transport == "opcua":
        server = await opcua_printers.get()
        await server.install(Coder(**settings))
        server.faults.update(offline)
        async with OpcUaPrinter(opcua_settings(server.endpoint), root=server.root) as printer:
            await printer.wait_until_up(5)
            yield Line(scenario, server, printer, _sync(server.disconnect))
    else:
        registers = ModbusPrinterSimulator(**settings)
        registers.faults.update(offline)
        async with registers:
            transport = TcpSettings("127.0.0.1", registers.port)
            async with ModbusPrinter("printer-1", transport) as printer:
                await printer.wait_until_up(5)
                yield Line(scenario, registers, printer, _sync(registers.disconnect))


def _sync(action: Callable[[], object]) -> Callable[[], Awaitable[object]]:
    async def run() -> object:
        return action()

    return run


def unit(i: int) -> PrintItem:
    return PrintItem(
        unit_ref=f"U{i:05d}",
        payload=f"]d2010950110153000317270501{GS}10AB-{i}{GS}21SER{i:06d}",
        text_lines=("GTIN 09501101530003", f"LOT AB-{i}"),
    )


async def load(printer: AnyPrinter) -> None:
    for _ in range(50):
        try:
            await printer.load_job(JOB, FIELDS)
            return
        except DeviceUnavailableError:
            await printer.wait_until_up(5)
    raise AssertionError("could not load the job")


async def send_all(printer: AnyPrinter, items: list[PrintItem]) -> list[PrintItem]:
    """Send each item, retrying those that never reached the printer; returns the handed over."""
    handed: list[PrintItem] = []
    for item in items:
        for _ in range(50):
            try:
                await printer.send(item)
                handed.append(item)
                break
            except DeviceUnavailableError:
                await printer.wait_until_up(5)
                await load(printer)
    return handed


async def wait_for_state(printer: AnyPrinter, state: LinkState, timeout: float) -> float:
    """Seconds until the printer's health shows `state`."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with asyncio.timeout(timeout):
        while printer.health().state is not state:
            await asyncio.sleep(0.01)
    return loop.time() - start


async def collect(printer: AnyPrinter, count: int, timeout: float = 10) -> list[PrintReport]:
    reports: list[PrintReport] = []
    async with asyncio.timeout(timeout):
        async for report in printer.reports():
            reports.append(report)
            if len(reports) == count:
                break
    return reports


async def test_every_printer_driver_satisfies_the_protocol() -> None:
    assert isinstance(TcpPrinter("p", "127.0.0.1", 1), Printer)
    assert isinstance(OpcUaPrinter(opcua_settings("opc.tcp://127.0.0.1:1")), Printer)
    assert isinstance(ModbusPrinter("p", TcpSettings("127.0.0.1", 1)), Printer)


async def test_health_after_connect(line: Line) -> None:
    health = line.printer.health()
    expected = LinkState.DEGRADED if line.scenario.offline else LinkState.UP
    if line.scenario.name != "garbage":
        assert health.state is expected
    assert health.kind == "printer"
    assert health.name == "printer-1"


async def test_every_unit_handed_over_gets_exactly_one_report(line: Line) -> None:
    await load(line.printer)
    items = [unit(i) for i in range(40)]
    handed = await send_all(line.printer, items)
    reports = await collect(line.printer, len(handed))
    assert sorted(r.unit_ref for r in reports) == sorted(i.unit_ref for i in handed)
    assert all(r.at is not None for r in reports)
    for report in reports:
        if report.outcome is PrintOutcome.REFUSED:
            assert report.reason
    if line.scenario.all_printed:
        assert len(handed) == len(items)
        refused = [r.reason for r in reports if r.outcome is not PrintOutcome.PRINTED]
        assert not refused, f"a clean printer refused units: {refused}"
    printed = {r.unit_ref for r in reports if r.outcome is PrintOutcome.PRINTED}
    sent = {i.unit_ref: i for i in handed}
    for ref in printed:
        on_unit = line.simulator.printed[ref]
        assert on_unit.payload == sent[ref].payload
        assert on_unit.text_lines == sent[ref].text_lines
    if line.scenario.offline:
        assert not printed
        assert all(r.reason and r.reason.startswith("OFFLINE") for r in reports)
    if line.scenario.name == "nacks":
        refused = [r for r in reports if r.outcome is PrintOutcome.REFUSED]
        assert refused
        assert printed
        nacked = [r for r in refused if r.reason and r.reason.startswith("MISSED")]
        assert nacked, "the printer's own NACKs come through with its code"
        written_off = [r for r in refused if r not in nacked]
        assert all(r.reason and r.reason.endswith("not printed") for r in written_off), (
            "any other refusal is the driver writing off a unit it could not confirm "
            "(a request that timed out on a loaded machine)"
        )


async def test_status_reports_job_and_faults(line: Line) -> None:
    await load(line.printer)
    for _ in range(20):
        try:
            status = await line.printer.status()
            break
        except DeviceUnavailableError:
            await line.printer.wait_until_up(5)
            await load(line.printer)
    assert status.job == JOB
    if line.scenario.offline:
        assert PrinterFault.OFFLINE in status.faults
        assert not status.ready
    else:
        assert status.ready
        assert PrinterFault.OFFLINE not in status.faults


async def test_unknown_job_is_refused_as_usage_error(line: Line) -> None:
    for job, fields, refusal in (
        ("NO-SUCH-JOB", FIELDS, "UNKNOWN_JOB"),
        (JOB, ("code",), "FIELDS"),
    ):
        for _ in range(20):
            try:
                with pytest.raises(UsageError, match=refusal):
                    await line.printer.load_job(job, fields)
                break
            except DeviceUnavailableError:
                await line.printer.wait_until_up(5)
        else:
            raise AssertionError("the printer never answered the SELECT")


async def test_unconfirmed_units_are_reported_when_the_link_drops(line: Line) -> None:
    if isinstance(line.simulator, PrinterSimulator):
        line.simulator.injector.faults = Faults()
    await line.simulator.install(Coder(jobs={JOB: FIELDS}, print_interval=None))
    await load(line.printer)
    handed = await send_all(line.printer, [unit(i) for i in range(5)])
    assert line.simulator.queued == len(handed) == 5
    await line.drop_link()
    reports = await collect(line.printer, 5)
    assert {r.unit_ref for r in reports} == {i.unit_ref for i in handed}
    assert {r.outcome for r in reports} == {PrintOutcome.REFUSED}
    assert all(r.reason and "connection lost" in r.reason for r in reports)
    await line.printer.wait_until_up(5)
    assert line.printer.health().state is LinkState.UP
    assert line.simulator.queued == 0, "the printer still holds units written off"
    await load(line.printer)
    (late,) = await send_all(line.printer, [unit(9)])
    await line.simulator.trigger()
    (report,) = await collect(line.printer, 1)
    assert (report.unit_ref, report.outcome) == (late.unit_ref, PrintOutcome.PRINTED)
