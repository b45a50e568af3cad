"""Harnesses for serial-number imports (CSV and JSON files) and the platforms' relation XML.

`read_entries` documents `ImportRejectedError` (with a located problem and a hint) for a
malformed file; `relation_problems` returns its findings as a list and raises nothing.
"""

from __future__ import annotations

from ebr.imports import ImportRejectedError, read_entries
from fuzz.bytes_input import require

# import ImportRejectedError, read_entries
from gateway.platform_exchange.relations import relation_problems


def _read(name: str, data: bytes) -> None:
    try:
        entries = read_entries(name, data)
    except ImportRejectedError as error:
        require(error.problems, error)
        return
    for entry in entries:
        require(entry.location, entry)
        require(entry.kind in ("serial", "code", "range"), entry)


def fuzz_serial_import_csv(data: bytes) -> None:
    _read("serials.csv", data)


def fuzz_serial_import_json(data: bytes) -> None:
    _read("serials.json", data)


def fuzz_platform_relations_xml(data: bytes) -> None:
    for problem in relation_problems(data):
        require(isinstance(problem, str), problem)
        require(problem, problem)
