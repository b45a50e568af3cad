"""A printer's OPC UA address space (docs/protocols/printer.md, "OPC UA"): names and values.

The printer is one object; its variables and methods have string NodeIds under the object's
own, `<root>.<name>` (`ns=1;s=Printer.Status.Ready` under the default root). The driver
(`drivers.printer.opcua`) and the simulator (`simulators.opcua_device.printer`) both take the
layout from here, so neither can drift from the other. Plain values only: asyncua stays in
`drivers.opcua` and the simulators.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from drivers.base import PrinterFault, UsageError

DEFAULT_ROOT: Final = "ns=1;s=Printer"
NAMESPACE_URI: Final = "urn:tracegate:printer"
MAX_FIELDS: Final = 9
"""Variable fields of a message: the symbol's payload and up to 8 human-readable lines."""

MODEL: Final = "Model"
CAPACITY: Final = "Capacity"
READY: Final = "Status.Ready"
JOB: Final = "Status.Job"
QUEUED: Final = "Status.Queued"
FAULTS: Final = "Status.Faults"
REPORT_SEQUENCE: Final = "Reports.Sequence"
HEARTBEAT: Final = "Controller.Heartbeat"
WATCHDOG_MS: Final = "Controller.WatchdogMs"

SELECT_JOB: Final = "SelectJob"
PRINT: Final = "Print"
PRINT_GO: Final = "PrintGo"
CLEAR: Final = "Clear"
FETCH_REPORT: Final = "FetchReport"

OK: Final = "OK"
"""The `Result` of a request carried out; any other result is a TGP/1 error code."""
PRINTED: Final = "PRINTED"
NACK: Final = "NACK"
GONE: Final = "GONE"
"""FetchReport's outcome for a sequence number the printer no longer (or never) held."""

_STRING_ROOT = re.compile(r"(ns=\d+;)?s=[^;]+")


@dataclass(frozen=True, slots=True)
class PrinterNodes:
    """The NodeIds of one printer, from its object's NodeId."""

    root: str = DEFAULT_ROOT

    def __post_init__(self) -> None:
        if not _STRING_ROOT.fullmatch(self.root):
            raise UsageError(
                f"printer object {self.root!r} is not a string NodeId",
                hint="write it like ns=1;s=Printer: the printer's nodes are named below it",
            )

    def node(self, name: str) -> str:
        return f"{self.root}.{name}"


def format_faults(faults: Iterable[PrinterFault]) -> str:
    """`Status.Faults`: the active faults, comma-separated; empty when there are none."""
    return ",".join(sorted(fault.value for fault in faults))


def parse_faults(text: str) -> frozenset[PrinterFault] | None:
    """The faults named in `Status.Faults`; None when a name is not a known fault."""
    if not text:
        return frozenset()
    try:
        return frozenset(PrinterFault(name) for name in text.split(","))
    except ValueError:
        return None


def padded(values: Iterable[str]) -> list[str]:
    """Method arguments for the field slots: the values, then empty strings up to MAX_FIELDS."""
    given = list(values)
    if len(given) > MAX_FIELDS:
        raise UsageError(f"{len(given)} fields; a printer message has at most {MAX_FIELDS}")
    return given + [""] * (MAX_FIELDS - len(given))
