"""Serials and codes from the enterprise: serial lists, serial ranges and whole-code lists.

A file is checked completely before anything is written: malformed or foreign codes, bad check
characters, duplicates inside the file or against the store, unknown products — every problem is
reported with its row, and a file with any bad row imports nothing. A file is imported once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select

from ebr.audit.actor import StoreWriter
from ebr.catalog import load_product, load_rule
from ebr.code_states import codes_by_key
from ebr.errors import NotFoundError, StoreError
from ebr.models import Code, Import, SerialPool
from ebr.sql import insert_returning_id
from serialization.coding import CodeFactory, serial_key
from serialization.errors import CodeFormatError, SerializationError
from serialization.rules import CodingRule, LotData, PackagingLevel, ProductMaster, SerialGenerator
from serialization.states import CodeState

KINDS = ("serial", "code", "range")


@dataclass(frozen=True, slots=True)
class ImportProblem:
    location: str
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" + (f" ({self.hint})" if self.hint else "")


class ImportRejectedError(StoreError):
    def __init__(self, source: str, problems: list[ImportProblem]) -> None:
        super().__init__(
            f"{source}: {len(problems)} problem(s); nothing was imported",
            hint="fix every listed row and import the whole file again",
        )
        self.problems = problems


@dataclass(frozen=True, slots=True)
class ImportEntry:
    location: str
    product_id: str
    level: str
    kind: str
    value: str
    end: str | None = None


@dataclass(frozen=True, slots=True)
class ImportSummary:
    import_id: int
    product_id: str
    level: str
    kind: str
    rows: int
    pool_id: int


@dataclass
class _Group:
    """Rows of one product level and kind; a range group holds one range."""

    product: ProductMaster
    level: PackagingLevel
    rule: CodingRule
    kind: str
    rows: list[tuple[str, str, str | None]] = field(default_factory=list)
    """(key, serial, data) for lists; (start, end, None) for a range."""


def read_entries(name: str, content: bytes) -> list[ImportEntry]:
    """Rows of a CSV or JSON import file; raises `ImportRejectedError` on a malformed file."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRejectedError(
            name,
            [ImportProblem(f"byte {error.start}", "the file is not UTF-8", "save it as UTF-8")],
        ) from None
    if name.lower().endswith(".json"):
        return list(_json_entries(name, text))
    if name.lower().endswith(".csv"):
        try:
            return list(_csv_entries(name, text))
        except csv.Error as error:
            raise ImportRejectedError(
                name,
                [
                    ImportProblem(
                        "CSV",
                        f"not readable as CSV: {error}",
                        "check the quotes; a field holds at most 131072 characters",
                    )
                ],
            ) from None
    raise ImportRejectedError(
        name, [ImportProblem(name, "unknown file type", "give a .csv or .json file")]
    )


def _csv_entries(name: str, text: str) -> Iterator[ImportEntry]:
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or ())
    kind = (
        "serial"
        if "serial" in columns
        else "code"
        if "code" in columns
        else "range"
        if {"range_start", "range_end"} <= columns
        else None
    )
    if "product" not in columns or kind is None:
        raise ImportRejectedError(
            name,
            [
                ImportProblem(
                    "line 1",
                    f"header has columns {sorted(columns)}",
                    "the header needs `product`, optional `level`, and `serial`, `code`, or "
                    "`range_start` and `range_end`",
                )
            ],
        )
    for line_no, row in enumerate(reader, start=2):
        value = row.get("range_start" if kind == "range" else kind) or ""
        yield ImportEntry(
            location=f"line {line_no}",
            product_id=(row.get("product") or "").strip(),
            level=(row.get("level") or "unit").strip(),
            kind=kind,
            value=value.strip(),
            end=(row.get("range_end") or "").strip() if kind == "range" else None,
        )


def _json_entries(name: str, text: str) -> Iterator[ImportEntry]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportRejectedError(
            name,
            [ImportProblem(f"line {error.lineno} column {error.colno}", f"bad JSON: {error.msg}")],
        ) from None
    except (ValueError, RecursionError) as error:
        raise ImportRejectedError(
            name,
            [
                ImportProblem(
                    "document",
                    f"bad JSON: {str(error)[:120]}",
                    "numbers of at most 4300 digits, nesting at most a few hundred levels",
                )
            ],
        ) from None
    groups = document if isinstance(document, list) else [document]
    for index, group in enumerate(groups):
        where = f"[{index}]" if isinstance(document, list) else ""
        if not isinstance(group, dict) or not isinstance(group.get("product"), str):
            raise ImportRejectedError(
                name,
                [
                    ImportProblem(
                        where or "document",
                        "expected an object with `product`",
                        'e.g. {"product": "amox-500", "level": "unit", "serials": ["…"]}',
                    )
                ],
            )
        product, level = group["product"], str(group.get("level", "unit"))
        for key, kind in (("serials", "serial"), ("codes", "code"), ("ranges", "range")):
            items = group.get(key, [])
            if not isinstance(items, list):
                raise ImportRejectedError(
                    name,
                    [
                        ImportProblem(
                            f"{where}{'.' if where else ''}{key}",
                            f"`{key}` must be a list, not {type(items).__name__}",
                            f'e.g. "{key}": ["…"]',
                        )
                    ],
                )
            for i, item in enumerate(items):
                location = f"{where}{'.' if where else ''}{key}[{i}]"
                if kind == "range":
                    bounds = item if isinstance(item, dict) else {}
                    yield ImportEntry(
                        location,
                        product,
                        level,
                        kind,
                        str(bounds.get("start", "")),
                        str(bounds.get("end", "")),
                    )
                else:
                    yield ImportEntry(location, product, level, kind, str(item))


class CodeImporter(StoreWriter):
    def import_file(self, path: Path) -> list[ImportSummary]:
        return self.import_bytes(path.name, path.read_bytes())

    def import_bytes(self, name: str, content: bytes) -> list[ImportSummary]:
        digest = hashlib.sha256(content).hexdigest()
        entries = read_entries(name, content)
        if not entries:
            raise ImportRejectedError(name, [ImportProblem(name, "the file has no rows")])
        with self._engine.begin() as conn:
            earlier = conn.execute(select(Import).where(Import.sha256 == digest)).first()
            if earlier is not None:
                raise ImportRejectedError(
                    name,
                    [
                        ImportProblem(
                            name,
                            f"this file was imported already, as {earlier.filename!r} on "
                            f"{earlier.imported_at:%Y-%m-%d %H:%M} (import {earlier.id})",
                            "each file is imported once",
                        )
                    ],
                )
            problems: list[ImportProblem] = []
            groups = self._validate(conn, entries, problems)
            if problems:
                raise ImportRejectedError(name, problems)
            now = self._clock()
            import_id = insert_returning_id(
                conn,
                insert(Import).values(
                    filename=name, sha256=digest, rows=len(entries), imported_at=now
                ),
            )
            summaries = [self._write(conn, int(import_id), group, now) for group in groups]
            self._audit.record(
                conn,
                [
                    self._actor.event(
                        "codes.imported",
                        "import",
                        import_id,
                        action="create",
                        new={
                            "file": name,
                            "sha256": digest,
                            "rows": len(entries),
                            "pools": [
                                {
                                    "product": x.product_id,
                                    "level": x.level,
                                    "kind": x.kind,
                                    "count": x.rows,
                                    "pool_id": x.pool_id,
                                }
                                for x in summaries
                            ],
                        },
                    )
                ],
            )
            return summaries

    def _validate(
        self, conn: Connection, entries: list[ImportEntry], problems: list[ImportProblem]
    ) -> list[_Group]:
        setups: dict[tuple[str, str], tuple[ProductMaster, PackagingLevel, CodingRule] | None] = {}
        lists: dict[tuple[str, str, str], _Group] = {}
        ranges: list[tuple[str, _Group]] = []
        seen: dict[str, str] = {}
        for entry in entries:
            ident = (entry.product_id, entry.level)
            if ident not in setups:
                setups[ident] = _setup_for(conn, entry, problems)
            setup = setups[ident]
            if setup is None:
                continue
            group = _Group(*setup, entry.kind)
            try:
                row = _entry_row(group, entry)
            except SerializationError as error:
                problems.append(ImportProblem(entry.location, str(error)))
                continue
            if entry.kind == "range":
                group.rows.append(row)
                ranges.append((entry.location, group))
                continue
            key = row[0]
            if key in seen:
                problems.append(
                    ImportProblem(
                        entry.location,
                        f"{entry.value} is a duplicate of {seen[key]}",
                        "each code appears once",
                    )
                )
                continue
            seen[key] = entry.location
            lists.setdefault((*ident, entry.kind), group).rows.append(row)
        for key, (_code_id, state) in codes_by_key(conn, list(seen)).items():
            problems.append(
                ImportProblem(
                    seen[key],
                    f"code {key} is already in the store ({CodeState(state).label})",
                    "a code is never issued twice; remove the row",
                )
            )
        problems.extend(_range_overlaps(conn, ranges))
        problems.sort(key=lambda p: _order(p.location))
        return [*lists.values(), *(group for _, group in ranges)]

    def _write(
        self, conn: Connection, import_id: int, group: _Group, now: datetime
    ) -> ImportSummary:
        values: dict[str, Any] = {
            "product_id": group.product.id,
            "level": group.level.value,
            "kind": "range" if group.kind == "range" else "list",
            "import_id": import_id,
            "created_at": now,
            "next_counter": 0,
        }
        count = len(group.rows)
        if group.kind == "range":
            start, end, _ = group.rows[0]
            count = int(end) - int(start) + 1
            values.update(range_start=int(start), domain_size=count, length=len(start))
        pool_id = insert_returning_id(conn, insert(SerialPool).values(**values))
        if group.kind != "range":
            conn.execute(
                insert(Code),
                [
                    {
                        "key": key,
                        "pool_id": pool_id,
                        "serial": serial,
                        "data": data,
                        "state": int(CodeState.UNALLOCATED),
                        "allocation_id": None,
                    }
                    for key, serial, data in group.rows
                ],
            )
        return ImportSummary(
            import_id, group.product.id, group.level.value, group.kind, count, pool_id
        )


def _setup_for(
    conn: Connection, entry: ImportEntry, problems: list[ImportProblem]
) -> tuple[ProductMaster, PackagingLevel, CodingRule] | None:
    try:
        level = PackagingLevel(entry.level)
    except ValueError:
        problems.append(
            ImportProblem(
                entry.location, f"unknown level {entry.level!r}", "use unit, bundle, case or pallet"
            )
        )
        return None
    try:
        product = load_product(conn, entry.product_id)
        rule = load_rule(conn, entry.product_id, level)
    except NotFoundError as error:
        problems.append(ImportProblem(entry.location, error.message, error.hint))
        return None
    if rule.serial is not None and rule.serial.generator is not SerialGenerator.IMPORTED:
        problems.append(
            ImportProblem(
                entry.location,
                f"product {product.id!r} generates its own {level.value} serials "
                f"({rule.serial.generator.value})",
                "set the level's coding rule to `generator: imported` to use enterprise serials",
            )
        )
        return None
    return product, level, rule


def _entry_row(group: _Group, entry: ImportEntry) -> tuple[str, str, str | None]:
    if not entry.value:
        raise CodeFormatError(f"empty {entry.kind}", hint=f"give a {entry.kind} on every row")
    if entry.kind == "serial":
        return serial_key(group.rule, group.product, entry.value), entry.value, None
    if entry.kind == "code":
        code = CodeFactory(group.rule, group.product, LotData(lot="0")).from_data(entry.value)
        return code.key, code.serial, code.data
    start, end = entry.value, entry.end or ""
    if not (start.isdigit() and end.isdigit() and len(start) == len(end)):
        raise CodeFormatError(
            f"range {start!r}..{end!r} is not two numbers of the same width",
            hint="write both ends with the same number of digits, e.g. 000100000 and 000199999",
        )
    if int(end) < int(start):
        raise CodeFormatError(f"range ends ({end}) before it starts ({start})", hint="swap them")
    serial_key(group.rule, group.product, start)
    serial_key(group.rule, group.product, end)
    return start, end, None


def _range_overlaps(conn: Connection, ranges: list[tuple[str, _Group]]) -> list[ImportProblem]:
    """Ranges overlapping each other in the file or a range already imported for the product."""
    problems: list[ImportProblem] = []
    claimed: dict[tuple[str, str, int], list[tuple[int, int, str]]] = {}
    for location, group in ranges:
        start, end, _ = group.rows[0]
        ident = (group.product.id, group.level.value, len(start))
        if ident not in claimed:
            stored = conn.execute(
                select(SerialPool.id, SerialPool.range_start, SerialPool.domain_size).where(
                    SerialPool.product_id == group.product.id,
                    SerialPool.level == group.level.value,
                    SerialPool.kind == "range",
                    SerialPool.length == len(start),
                )
            ).all()
            claimed[ident] = [
                (first, first + size - 1, f"imported range pool {pool_id}")
                for pool_id, first, size in stored
                if first is not None and size is not None
            ]
        low, high = int(start), int(end)
        for other_low, other_high, where in claimed[ident]:
            if low <= other_high and other_low <= high:
                problems.append(
                    ImportProblem(
                        location,
                        f"range {start}..{end} overlaps {where} "
                        f"({str(other_low).zfill(len(start))}..{str(other_high).zfill(len(start))})",
                        "serial ranges must not overlap: a code is never issued twice",
                    )
                )
                break
        claimed[ident].append((low, high, location))
    return problems


def _order(location: str) -> tuple[int, str]:
    digits = "".join(ch if ch.isdigit() else " " for ch in location).split()
    return (int(digits[0]) if digits else 0, location)
