"""A coder behind an OPC UA server, with the node layout of docs/protocols/printer.md (OPC UA).

The same `simulators.coder.Coder` as the TGP/1 simulator: the methods of the `Printer` object
are its requests, `Reports.Sequence` counts its reports (each kept for `FetchReport` in a
window of the last `report_memory`), the `Status` variables follow its state every scan.
When the controller's `Controller.Heartbeat` stops changing for `Controller.WatchdogMs`, the
coder drops its queue with NACK CLEARED, as a coder that lost its controller does.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from asyncua import ua

from drivers.printer import opcua_nodes as nodes
from drivers.printer.protocol import MAX_UNIT_REF, ErrorCode, NackCode, PrinterFault
from simulators.coder import (
    Coder,
    CoderFront,
    CoderReport,
    PrintedUnit,
    PrintFaults,
    Refusal,
    Watchdog,
)
from simulators.line_plc.server import PlcSecurity
from simulators.opcua_device.server import OpcUaDeviceServer, argument, plain

_S, _I32, _I64, _U32, _B = (
    ua.VariantType.String,
    ua.VariantType.Int32,
    ua.VariantType.Int64,
    ua.VariantType.UInt32,
    ua.VariantType.Boolean,
)
_RESULT = [argument("Result", _S, "OK, or a TGP/1 error code"), argument("Text", _S)]


class OpcUaPrinterSimulator(CoderFront, OpcUaDeviceServer):
    """A printer on `opc.tcp://host:port`; `root` is its object's NodeId once started."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int,
        security: PlcSecurity | None = None,
        jobs: Mapping[str, Sequence[str]] | None = None,
        capacity: int = 64,
        print_interval: float | None = 0.01,
        print_faults: PrintFaults | None = None,
        on_print: Callable[[PrintedUnit], None] | None = None,
        seed: int | None = None,
        model: str = "tracegate-sim",
        watchdog_s: float = 2.0,
        report_memory: int = 1024,
    ) -> None:
        super().__init__(
            host=host,
            port=port,
            object_name="Printer",
            namespace_uri=nodes.NAMESPACE_URI,
            server_name="tracegate printer simulator",
            security=security,
        )
        self.coder = Coder(
            jobs=jobs,
            capacity=capacity,
            print_interval=print_interval,
            print_faults=print_faults,
            on_print=on_print,
            seed=seed,
            model=model,
        )
        self.coder.listener = self
        self.watchdog = Watchdog(watchdog_s)
        self.reports: OrderedDict[int, CoderReport] = OrderedDict()
        self.report_sequence = 0
        self._report_memory = report_memory

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        await super().start()
        await self.coder.start()

    async def close(self) -> None:
        await self.coder.close()
        await super().close()

    # --- the coder's listener -----------------------------------------------------------------

    async def report(self, report: CoderReport) -> None:
        self.report_sequence += 1
        self.reports[self.report_sequence] = report
        while len(self.reports) > self._report_memory:
            self.reports.popitem(last=False)
        await self.show(nodes.REPORT_SEQUENCE, self.report_sequence)
        await self._show_status()

    async def faults_changed(self, faults: frozenset[PrinterFault]) -> None:
        await self._show_status()

    # --- the address space --------------------------------------------------------------------

    async def build(self) -> None:
        await self.add_variable(nodes.MODEL, self.coder.model, _S)
        await self.add_variable(nodes.CAPACITY, self.coder.capacity, _I32)
        await self.add_variable(nodes.READY, False, _B)
        await self.add_variable(nodes.JOB, "", _S)
        await self.add_variable(nodes.QUEUED, 0, _I32)
        await self.add_variable(nodes.FAULTS, nodes.format_faults(self.coder.faults), _S)
        await self.add_variable(nodes.REPORT_SEQUENCE, 0, _I64)
        await self.add_variable(nodes.HEARTBEAT, 0, _U32, writable=True)
        await self.add_variable(
            nodes.WATCHDOG_MS, round(self.watchdog.timeout_s * 1000), _U32, writable=True
        )
        fields = [argument(f"Field{i}", _S) for i in range(1, nodes.MAX_FIELDS + 1)]
        values = [argument(f"Value{i}", _S) for i in range(1, nodes.MAX_FIELDS + 1)]
        await self.add_method(
            nodes.SELECT_JOB, self._select, [argument("Job", _S), *fields], _RESULT
        )
        await self.add_method(
            nodes.PRINT,
            self._print,
            [argument("UnitRef", _S), *values],
            [*_RESULT, argument("Queued", _I32)],
        )
        await self.add_method(
            nodes.PRINT_GO, self._print_go, [], [*_RESULT, argument("UnitRef", _S)]
        )
        await self.add_method(nodes.CLEAR, self._clear, [], [*_RESULT, argument("Count", _I32)])
        await self.add_method(
            nodes.FETCH_REPORT,
            self._fetch_report,
            [argument("Sequence", _I64)],
            [
                argument("Outcome", _S, "PRINTED, NACK or GONE"),
                argument("UnitRef", _S),
                argument("Code", _S, "the NACK code"),
                argument("Text", _S),
            ],
        )

    async def scan(self) -> None:
        now = time.monotonic()
        self.watchdog.timeout_s = (self.value(nodes.WATCHDOG_MS) or 0) / 1000
        self.watchdog.beat(self.value(nodes.HEARTBEAT), now)
        if self.watchdog.expired(now):
            await self.coder.refuse_queue(NackCode.CLEARED, "controller heartbeat lost")
        await self._show_status()

    async def _show_status(self) -> None:
        status = self.coder.status()
        await self.show(nodes.CAPACITY, self.coder.capacity)
        await self.show(nodes.READY, status.ready)
        await self.show(nodes.JOB, status.job or "")
        await self.show(nodes.QUEUED, status.queued)
        await self.show(nodes.FAULTS, nodes.format_faults(status.faults))

    # --- methods ------------------------------------------------------------------------------

    async def _select(self, parent: ua.NodeId, job: Any, *fields: Any) -> list[ua.Variant]:
        names = _trimmed(fields)
        if "" in names:
            return _result(Refusal(ErrorCode.ARGS, "a field name is empty"))
        refused = await self.coder.select(str(plain(job)), names)
        await self._show_status()
        return _result(refused)

    async def _print(self, parent: ua.NodeId, unit_ref: Any, *values: Any) -> list[ua.Variant]:
        ref, given = str(plain(unit_ref)), [str(plain(v)) for v in values]
        count = len(self.coder.job[1]) if self.coder.job is not None else 1
        queued: Refusal | int
        if not 1 <= len(ref) <= MAX_UNIT_REF:
            queued = Refusal(ErrorCode.ARGS, f"unit reference of {len(ref)} characters; 1-64")
        elif any(given[count:]):
            queued = Refusal(ErrorCode.FIELDS, f"the message has {count} fields")
        else:
            queued = await self.coder.queue_unit(ref, given[0], given[1:count])
        await self._show_status()
        if isinstance(queued, Refusal):
            return [*_result(queued), ua.Variant(0, _I32)]
        return [*_result(None), ua.Variant(queued, _I32)]

    async def _print_go(self, parent: ua.NodeId) -> list[ua.Variant]:
        item = self.coder.take_next()
        if isinstance(item, Refusal):
            return [*_result(item), ua.Variant("", _S)]
        await self.coder.print_unit(item)
        await self._show_status()
        return [*_result(None), ua.Variant(item.unit_ref, _S)]

    async def _clear(self, parent: ua.NodeId) -> list[ua.Variant]:
        count = await self.coder.clear()
        await self._show_status()
        return [*_result(None), ua.Variant(count, _I32)]

    async def _fetch_report(self, parent: ua.NodeId, sequence: Any) -> list[ua.Variant]:
        report = self.reports.get(int(plain(sequence)))
        if report is None:
            found = (nodes.GONE, "", "", "")
        elif report.code is None:
            found = (nodes.PRINTED, report.unit_ref, "", "")
        else:
            found = (nodes.NACK, report.unit_ref, report.code.value, report.text)
        return [ua.Variant(value, _S) for value in found]


def _trimmed(values: Sequence[Any]) -> list[str]:
    """The field slots without the empty ones at the end."""
    texts = [str(plain(v)) for v in values]
    while texts and not texts[-1]:
        texts.pop()
    return texts


def _result(refused: Refusal | None) -> list[ua.Variant]:
    if refused is None:
        return [ua.Variant(nodes.OK, _S), ua.Variant("", _S)]
    return [ua.Variant(refused.code.value, _S), ua.Variant(refused.text, _S)]
