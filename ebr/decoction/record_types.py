"""The kinds of record a batch's decoction pieces record holds, and what each one needs.

For each kind: its table, the annex section it is checked against, which of its values the
table repeats as columns (for the database's own checks and for searching), who may record it,
and whether a batch has one current record of the kind or many.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, DateTime, Table

from ebr.decoction.fields import (
    INSPECTION,
    PROCESS_STEP,
    PRODUCTION,
    RECALL,
    SALE,
    SOURCE_SECTIONS,
    Section,
)
from ebr.decoction.models import (
    HerbSourceRow,
    InspectionRow,
    ProcessStepRow,
    ProductionRow,
    RecallRow,
    SaleRow,
)
from ebr.models import Base
from ebr.users import BUSINESS_ROLES, Role


class RecordType(StrEnum):
    PRODUCTION = "production"
    HERB_SOURCE = "herb-source"
    PROCESS_STEP = "process-step"
    INSPECTION = "inspection"
    SALE = "sale"
    RECALL = "recall"


@dataclass(frozen=True, slots=True)
class RecordSpec:
    type: RecordType
    label: str
    table: Table
    sections: tuple[Section, ...]
    """One section; a herb source's section depends on its `source` (self-grown or
    purchased)."""
    columns: Mapping[str, str]
    """Column name → path of its value in the record (`customer.name`)."""
    roles: frozenset[Role]
    one_per_batch: bool = False

    @property
    def object_type(self) -> str:
        return f"decoction_{self.type.value.replace('-', '_')}"

    @property
    def event_name(self) -> str:
        return self.type.value.replace("-", "_")

    def row_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The table's columns for a checked record (dates and times as Python values)."""
        row: dict[str, Any] = {"fields": dict(values)}
        for column, path in self.columns.items():
            row[column] = _typed(self.table, column, _at(values, path))
        return row


def _table(row: type[Base]) -> Table:
    return Base.metadata.tables[row.__tablename__]


QA_ONLY = frozenset({Role.QA})
RECALL_ROLES = frozenset({Role.QA, Role.SUPERVISOR})

SPECS: Mapping[RecordType, RecordSpec] = {
    spec.type: spec
    for spec in (
        RecordSpec(
            RecordType.PRODUCTION,
            "production record",
            _table(ProductionRow),
            (PRODUCTION,),
            {"product_name": "product_name"},
            BUSINESS_ROLES,
            one_per_batch=True,
        ),
        RecordSpec(
            RecordType.HERB_SOURCE,
            "herb source",
            _table(HerbSourceRow),
            tuple(SOURCE_SECTIONS.values()),
            {"kind": "source", "herb_name": "herb_name"},
            BUSINESS_ROLES,
        ),
        RecordSpec(
            RecordType.PROCESS_STEP,
            "process step",
            _table(ProcessStepRow),
            (PROCESS_STEP,),
            {
                "kind": "kind",
                "method": "method",
                "operator": "operator",
                "started_at": "started_at",
                "finished_at": "finished_at",
            },
            BUSINESS_ROLES,
        ),
        RecordSpec(
            RecordType.INSPECTION,
            "inspection conclusion",
            _table(InspectionRow),
            (INSPECTION,),
            {
                "conclusion": "conclusion",
                "standard": "standard",
                "report_number": "report_number",
                "inspector_name": "inspector.name",
                "inspected_on": "inspected_on",
            },
            QA_ONLY,
            one_per_batch=True,
        ),
        RecordSpec(
            RecordType.SALE,
            "sale",
            _table(SaleRow),
            (SALE,),
            {
                "sold_on": "sold_on",
                "destination": "destination",
                "customer_name": "customer.name",
                "quantity": "quantity.value",
                "unit": "quantity.unit",
                "piece_batch_number": "piece_batch_number",
            },
            BUSINESS_ROLES,
        ),
        RecordSpec(
            RecordType.RECALL,
            "recall",
            _table(RecallRow),
            (RECALL,),
            {
                "recalled_on": "recalled_on",
                "company": "company",
                "product": "product",
                "recall_reason": "reason",
            },
            RECALL_ROLES,
        ),
    )
}


def _at(values: Mapping[str, Any], path: str) -> Any:
    found: Any = values
    for key in path.split("."):
        found = found.get(key) if isinstance(found, Mapping) else None
    return found


def _typed(table: Table, column: str, value: Any) -> Any:
    if value is None or not isinstance(value, str):
        return value
    kind = table.c[column].type
    if isinstance(kind, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    return value
