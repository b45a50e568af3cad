"""Reading one batch's whole record from the store into a `BatchReport`, once.

Everything is read through one connection in one transaction (REPEATABLE READ on PostgreSQL;
SQLite's transactions see one snapshot), so the report shows one moment of the record; only
the journal's counts and its verification are taken in transactions of their own, right after.

Which signatures belong to the batch: those on the batch itself, on its journal entries
(`<batch>:<seq>`), on its entries and deviations, on its packaging order, and on the recipe
version its control recipe was copied from.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import Connection, Engine, and_, or_, select

from ebr.audit.chain import utc_text
from ebr.audit.models import SignatureRow
from ebr.errors import NotFoundError
from ebr.execution.kinds import Step
from ebr.execution.models import (
    DeviationRow,
    EntryRow,
    ExceptionRow,
    ExecutionStepRow,
    ScheduledCheckRow,
)
from ebr.execution.signing import DEVIATION_OBJECT, ENTRY_OBJECT
from ebr.journal import EventKind, batch_counts, verify_journal
from ebr.models import Batch, JournalEventRow, Line, Product, Site
from ebr.recipes.models import PackagingOrderRow, RecipeRow
from ebr.recipes.signed import ORDER_OBJECT, VERSION_OBJECT, version_object_id
from ebr.report.model import (
    BatchReport,
    CheckRecord,
    ControlRecipeInfo,
    DeviationRecord,
    EntryRecord,
    ExceptionRecord,
    Person,
    ProductInfo,
    Reconciliation,
    ReleaseStatus,
    ReportHeader,
    Section,
    SignatureRecord,
    StepRecord,
)
from ebr.users_models import UserRow

PRODUCTION_SECTIONS: Final = ("events", "parameters", "checks")
SECTION_ORDER: Final = tuple(
    name
    for step in Step
    for name in ((step.value, *PRODUCTION_SECTIONS) if step is Step.PRODUCTION else (step.value,))
)
"""Sections in the order of the steps they belong to; a section not listed comes last."""
DECIDED: Final = ("released", "rejected")
RECONCILIATION_TOPIC: Final = "reconciliation"


def collect_report(engine: Engine, batch_id: int) -> BatchReport:
    """The batch's record as it stands; `NotFoundError` for an unknown batch."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        header = _header(conn, batch_id)
        steps = _steps(conn, batch_id)
        sections = _sections(conn, batch_id)
        exceptions = _exceptions(conn, batch_id)
        deviations = _deviations(conn, batch_id)
        checks = _checks(conn, batch_id)
        signatures = _signatures(conn, header, sections, deviations)
        reconciliation = _reconciliation(conn, batch_id)
        release = _release(conn, batch_id, header.batch_status)
        named = _named_people(steps, sections, exceptions, deviations, signatures)
        if reconciliation is not None:
            named.append(reconciliation.recorded_by)
        persons = _persons(conn, [*named, release.decided_by])
    return BatchReport(
        header=header,
        steps=steps,
        sections=sections,
        exceptions=exceptions,
        deviations=deviations,
        checks=checks,
        signatures=signatures,
        persons=persons,
        counts=batch_counts(engine, batch_id),
        journal_verified=verify_journal(engine, batch_id).ok,
        reconciliation=reconciliation,
        release=release,
    )


def _header(conn: Connection, batch_id: int) -> ReportHeader:
    row = conn.execute(
        select(
            Batch.__table__,
            Product.name.label("product_name"),
            Product.gtin,
            Site.id.label("site_id"),
            Site.company_name,
            Line.name.label("line_name"),
        )
        .join(Product, Batch.product_id == Product.id)
        .join(Site, Product.site_id == Site.id)
        .join(Line, Batch.line_id == Line.id)
        .where(Batch.id == batch_id)
    ).first()
    if row is None:
        raise NotFoundError(
            f"unknown batch {batch_id}",
            hint="check the batch id (`tracegate trace batch ID` shows a batch)",
        )
    order = conn.execute(
        select(
            PackagingOrderRow.number,
            PackagingOrderRow.quantity,
            PackagingOrderRow.recipe_id,
            PackagingOrderRow.recipe_version,
            PackagingOrderRow.control_recipe_sha256,
            RecipeRow.name.label("recipe_name"),
        )
        .outerjoin(RecipeRow, RecipeRow.id == PackagingOrderRow.recipe_id)
        .where(PackagingOrderRow.batch_id == batch_id)
    ).first()
    recipe = None
    if order is not None and order.recipe_id is not None:
        recipe = ControlRecipeInfo(
            recipe_id=order.recipe_id,
            version=str(order.recipe_version),
            hash=order.control_recipe_sha256 or "",
            name=order.recipe_name,
        )
    quantity = row.planned_quantity
    if quantity is None and order is not None:
        quantity = order.quantity
    return ReportHeader(
        record_id=f"{row.site_id}:{batch_id}",
        batch_id=batch_id,
        site_id=row.site_id,
        site_name=row.company_name,
        line_id=row.line_id,
        line_name=row.line_name,
        product=ProductInfo(row.product_id, row.product_name, row.gtin),
        lot=row.lot,
        expiry=_day(row.expiry),
        production_date=_day(row.production_date),
        planned_quantity=quantity,
        batch_status=row.status,
        created_at=utc_text(row.created_at),
        order_number=None if order is None else order.number,
        control_recipe=recipe,
    )


def _steps(conn: Connection, batch_id: int) -> tuple[StepRecord, ...]:
    rows = conn.execute(
        select(ExecutionStepRow.__table__)
        .where(ExecutionStepRow.batch_id == batch_id)
        .order_by(ExecutionStepRow.id)
    )
    return tuple(StepRecord(row.step, row.done_by, utc_text(row.done_at)) for row in rows)


def _sections(conn: Connection, batch_id: int) -> tuple[Section, ...]:
    rows = list(
        conn.execute(
            select(EntryRow.__table__).where(EntryRow.batch_id == batch_id).order_by(EntryRow.id)
        )
    )
    superseded_by = {row.supersedes: row.id for row in rows if row.supersedes is not None}
    by_section: dict[str, list[EntryRecord]] = {}
    for row in rows:
        by_section.setdefault(row.section, []).append(_entry(row, superseded_by.get(row.id)))

    def place(name: str) -> int:
        return SECTION_ORDER.index(name) if name in SECTION_ORDER else len(SECTION_ORDER)

    ordered = sorted(by_section, key=place)
    return tuple(Section(name, tuple(by_section[name])) for name in ordered)


def _entry(row: Any, superseded_by: int | None) -> EntryRecord:
    return EntryRecord(
        id=row.id,
        section=row.section,
        name=row.name,
        value=row.value,
        unit=row.unit,
        low=row.low,
        high=row.high,
        in_limits=row.in_limits,
        source=row.source,
        recorded_by=row.recorded_by,
        recorded_at=utc_text(row.recorded_at),
        reason=row.reason,
        evidence=row.evidence,
        supersedes=row.supersedes,
        superseded_by=superseded_by,
    )


def _exceptions(conn: Connection, batch_id: int) -> tuple[ExceptionRecord, ...]:
    rows = conn.execute(
        select(ExceptionRow.__table__)
        .where(ExceptionRow.batch_id == batch_id)
        .order_by(ExceptionRow.id)
    )
    return tuple(
        ExceptionRecord(
            id=row.id,
            kind=row.kind,
            severity=row.severity,
            subject=row.subject,
            reference=row.ref,
            raised_at=utc_text(row.raised_at),
            acknowledged_by=row.acknowledged_by,
            acknowledged_at=_moment(row.acknowledged_at),
            comment=row.comment,
        )
        for row in rows
    )


def _deviations(conn: Connection, batch_id: int) -> tuple[DeviationRecord, ...]:
    rows = conn.execute(
        select(DeviationRow.__table__)
        .where(DeviationRow.batch_id == batch_id)
        .order_by(DeviationRow.id)
    )
    return tuple(
        DeviationRecord(
            id=row.id,
            severity=row.severity,
            title=row.title,
            description=row.description,
            reason=row.reason,
            qms_reference=row.qms_reference,
            entry_id=row.entry_id,
            status=row.status,
            opened_by=row.opened_by,
            opened_at=utc_text(row.opened_at),
            closed_by=row.closed_by,
            closed_at=_moment(row.closed_at),
            close_reason=row.close_reason,
        )
        for row in rows
    )


def _checks(conn: Connection, batch_id: int) -> tuple[CheckRecord, ...]:
    rows = conn.execute(
        select(ScheduledCheckRow.__table__)
        .where(ScheduledCheckRow.batch_id == batch_id)
        .order_by(ScheduledCheckRow.due_at, ScheduledCheckRow.id)
    )
    return tuple(CheckRecord(row.name, utc_text(row.due_at), row.entry_id) for row in rows)


def _signatures(
    conn: Connection,
    header: ReportHeader,
    sections: Iterable[Section],
    deviations: Iterable[DeviationRecord],
) -> tuple[SignatureRecord, ...]:
    batch = str(header.batch_id)
    objects = [
        (ENTRY_OBJECT, [str(entry.id) for section in sections for entry in section.entries]),
        (DEVIATION_OBJECT, [str(deviation.id) for deviation in deviations]),
    ]
    if header.order_number is not None:
        objects.append((ORDER_OBJECT, [header.order_number]))
    recipe = header.control_recipe
    if recipe is not None and recipe.version.isdigit():
        objects.append((VERSION_OBJECT, [version_object_id(recipe.recipe_id, int(recipe.version))]))
    sig = SignatureRow
    owned = [
        and_(sig.object_type == "batch", sig.object_id == batch),
        and_(sig.object_type == "journal_entry", sig.object_id.startswith(f"{batch}:")),
        *(and_(sig.object_type == kind, sig.object_id.in_(ids)) for kind, ids in objects if ids),
    ]
    rows = conn.execute(select(sig.__table__).where(or_(*owned)).order_by(sig.signed_at, sig.id))
    return tuple(
        SignatureRecord(
            printed_name=row.printed_name,
            username=row.username,
            meaning=row.meaning,
            action=row.action,
            object_type=row.object_type,
            object_id=row.object_id,
            signed_at=row.signed_at,
            record_hash=row.record_hash,
        )
        for row in rows
    )


def _reconciliation(conn: Connection, batch_id: int) -> Reconciliation | None:
    """The last reconciliation the line recorded (a journal note, topic `reconciliation`)."""
    journal = JournalEventRow
    notes = conn.execute(
        select(journal.at, journal.data)
        .where(journal.batch_id == batch_id, journal.kind == EventKind.NOTE.value)
        .order_by(journal.seq.desc())
    )
    for at, text in notes:
        data = json.loads(text)
        if data.get("topic") != RECONCILIATION_TOPIC:
            continue
        counts = data.get("counts") or {}
        return Reconciliation(
            balanced=_flag(data.get("balanced")),
            counts={name: n for name, n in counts.items() if type(n) is int},
            journal_verified=_flag(data.get("journal_verified")),
            recorded_by=data.get("user"),
            recorded_at=utc_text(at),
        )
    return None


def _release(conn: Connection, batch_id: int, status: str) -> ReleaseStatus:
    """Released or rejected as the journal's last phase change to that status says."""
    if status not in DECIDED:
        return ReleaseStatus("not_released", None, None, None)
    journal = JournalEventRow
    phases = conn.execute(
        select(journal.at, journal.data)
        .where(journal.batch_id == batch_id, journal.kind == EventKind.BATCH_PHASE.value)
        .order_by(journal.seq.desc())
    )
    for at, text in phases:
        data = json.loads(text)
        if data.get("to") == status:
            return ReleaseStatus(status, data.get("user"), utc_text(at), data.get("reason"))
    return ReleaseStatus(status, None, None, None)


def _named_people(
    steps: Iterable[StepRecord],
    sections: Iterable[Section],
    exceptions: Iterable[ExceptionRecord],
    deviations: Iterable[DeviationRecord],
    signatures: Iterable[SignatureRecord],
) -> list[str | None]:
    return [
        *(step.done_by for step in steps),
        *(entry.recorded_by for section in sections for entry in section.entries),
        *(exception.acknowledged_by for exception in exceptions),
        *(name for d in deviations for name in (d.opened_by, d.closed_by)),
        *(signature.username for signature in signatures),
    ]


def _persons(conn: Connection, usernames: Iterable[str | None]) -> tuple[Person, ...]:
    """The accounts of the people named, in order of first mention; names that are no
    account (the gateway) are left out."""
    wanted = list(dict.fromkeys(name for name in usernames if name))
    if not wanted:
        return ()
    known: Mapping[str, str] = {
        row.username: row.full_name
        for row in conn.execute(
            select(UserRow.username, UserRow.full_name).where(UserRow.username.in_(wanted))
        )
    }
    return tuple(Person(name, known[name]) for name in wanted if name in known)


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _moment(value: datetime | None) -> str | None:
    return None if value is None else utc_text(value)


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()
