"""The batch report as one value (`docs/ebr.md`, "The report").

`collect_report` fills a `BatchReport` from the store once; the PDF and the JSON renderers only
format it, so the two can never tell different stories. Every field is data as recorded: times
are UTC ISO 8601 text as the store and the signatures write them, codes (steps, sources,
meanings, kinds) are the stored codes, and translation is the renderers' business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

JsonValue: TypeAlias = str | int | float | bool | list["JsonValue"] | dict[str, "JsonValue"] | None
"""A recorded value or evidence, as the store holds it (JSON)."""


@dataclass(frozen=True, slots=True)
class ProductInfo:
    id: str
    name: str
    gtin: str | None


@dataclass(frozen=True, slots=True)
class ControlRecipeInfo:
    """The control recipe the batch was packed to: the snapshot of one approved master batch
    record version, identified by its SHA-256."""

    recipe_id: str
    version: str
    hash: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ReportHeader:
    record_id: str
    """`<site>:<batch id>`, the batch production record's identity."""
    batch_id: int
    site_id: str
    site_name: str
    line_id: str
    line_name: str
    product: ProductInfo
    lot: str
    expiry: str | None
    production_date: str | None
    planned_quantity: int | None
    batch_status: str
    created_at: str
    order_number: str | None
    control_recipe: ControlRecipeInfo | None


@dataclass(frozen=True, slots=True)
class StepRecord:
    step: str
    done_by: str | None
    done_at: str


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """One recorded value. A correction is a later entry that `supersedes` an earlier one; both
    are kept, and the correction is `changed_after_first_entry`."""

    id: int
    section: str
    name: str
    value: JsonValue
    unit: str | None
    low: str | None
    """Decimal text, as the limit was given."""
    high: str | None
    in_limits: bool | None
    source: str
    recorded_by: str | None
    recorded_at: str
    reason: str | None
    evidence: JsonValue
    supersedes: int | None
    superseded_by: int | None

    @property
    def changed_after_first_entry(self) -> bool:
        return self.supersedes is not None

    @property
    def current(self) -> bool:
        """The value that stands: no later correction replaced it."""
        return self.superseded_by is None


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    entries: tuple[EntryRecord, ...]

    def entry(self, entry_id: int) -> EntryRecord | None:
        return next((entry for entry in self.entries if entry.id == entry_id), None)


@dataclass(frozen=True, slots=True)
class ExceptionRecord:
    id: int
    kind: str
    severity: str
    subject: str
    reference: str
    raised_at: str
    acknowledged_by: str | None
    acknowledged_at: str | None
    comment: str | None


@dataclass(frozen=True, slots=True)
class DeviationRecord:
    id: int
    severity: str
    title: str
    description: str
    reason: str
    qms_reference: str | None
    entry_id: int | None
    status: str
    opened_by: str | None
    opened_at: str
    closed_by: str | None
    closed_at: str | None
    close_reason: str | None


@dataclass(frozen=True, slots=True)
class CheckRecord:
    """An in-process check that was due; `entry_id` is its recorded result once done."""

    name: str
    due_at: str
    entry_id: int | None


@dataclass(frozen=True, slots=True)
class SignatureRecord:
    printed_name: str
    username: str
    meaning: str
    action: str
    object_type: str
    object_id: str
    signed_at: str
    record_hash: str


@dataclass(frozen=True, slots=True)
class Person:
    username: str
    full_name: str


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The batch-end reconciliation as the line recorded it in the journal."""

    balanced: bool | None
    counts: Mapping[str, int]
    journal_verified: bool | None
    recorded_by: str | None
    recorded_at: str


@dataclass(frozen=True, slots=True)
class ReleaseStatus:
    status: str
    """`released`, `rejected`, or `not_released`."""
    decided_by: str | None
    decided_at: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class BatchReport:
    header: ReportHeader
    steps: tuple[StepRecord, ...]
    sections: tuple[Section, ...]
    exceptions: tuple[ExceptionRecord, ...]
    deviations: tuple[DeviationRecord, ...]
    checks: tuple[CheckRecord, ...]
    signatures: tuple[SignatureRecord, ...]
    persons: tuple[Person, ...]
    """Everyone the record names, with the full name the account holds."""
    counts: Mapping[str, int]
    """Units per outcome, counted from the journal now."""
    journal_verified: bool
    """The batch's journal chain verifies now (hashes, links, replayed states)."""
    reconciliation: Reconciliation | None
    release: ReleaseStatus

    def entry(self, entry_id: int) -> EntryRecord | None:
        for section in self.sections:
            found = section.entry(entry_id)
            if found is not None:
                return found
        return None
