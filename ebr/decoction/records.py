"""Recording a batch's decoction pieces data (seed 001 annex 1): the service the command line,
the HMI and the API share.

Each write checks the record against the annex's fields first, then, in one transaction, locks
the batch row (so two people correcting the same batch queue up on PostgreSQL as they do on
SQLite), writes the rows and their audit entries. A refusal writes nothing.

Records are never changed: `correct` adds a new version naming the one it supersedes, with a
reason, audited as a `modify` with the old and the new values. Only the current version of a
record can be corrected, and a production record or an inspection conclusion exists once per
batch (later versions are corrections).

Who may record what: any business role records production data, herb sources, process steps
and sales; only QA records the inspection conclusion; QA or a supervisor records a recall.
Administrators record nothing (they hold no GMP rights).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ebr.audit.chain import utc_text
from ebr.audit.trail import AuditEvent, AuditTrail
from ebr.decoction.attachments import check_file, decoded, encoded
from ebr.decoction.errors import (
    AttachmentRejectedError,
    DecoctionError,
    FieldProblem,
    InvalidRecordError,
    RecordConflictError,
)
from ebr.decoction.fields import (
    SECTIONS,
    SOURCE_FIELD,
    SOURCE_SECTIONS,
    Section,
    attachment_field,
)
from ebr.decoction.models import AttachmentContentRow, AttachmentRow, HerbSourceRow
from ebr.decoction.record_types import SPECS, RecordSpec, RecordType
from ebr.decoction.validation import validate
from ebr.errors import NotFoundError
from ebr.models import Batch
from ebr.sql import insert_returning_id
from ebr.users import BUSINESS_ROLES, PermissionDeniedError, Role, Session


@dataclass(frozen=True, slots=True)
class BatchInfo:
    id: int
    product_id: str
    lot: str
    production_date: str | None


@dataclass(frozen=True, slots=True)
class RecordView:
    """One version of a record, as recorded."""

    type: RecordType
    id: int
    batch_id: int
    values: dict[str, Any]
    recorded_at: str
    recorded_by: str | None
    supersedes: int | None
    reason: str | None
    superseded_by: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "recorded_at": self.recorded_at,
            "recorded_by": self.recorded_by,
            "supersedes": self.supersedes,
            "reason": self.reason,
            "superseded_by": self.superseded_by,
            "values": self.values,
        }


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    id: int
    batch_id: int
    field: str
    herb_source_id: int | None
    filename: str
    media_type: str
    size: int
    sha256: str
    recorded_at: str
    recorded_by: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "field": self.field,
            "herb_source_id": self.herb_source_id,
            "filename": self.filename,
            "media_type": self.media_type,
            "size": self.size,
            "sha256": self.sha256,
            "recorded_at": self.recorded_at,
            "recorded_by": self.recorded_by,
        }


class DecoctionRecords:
    def __init__(self, engine: Engine, trail: AuditTrail) -> None:
        self._engine = engine
        self._trail = trail

    # --- records ----------------------------------------------------------------------------

    def add(
        self, user: Session, batch_id: int, record_type: RecordType, payload: object
    ) -> RecordView:
        return self.add_many(user, batch_id, record_type, [payload])[0]

    def add_many(
        self, user: Session, batch_id: int, record_type: RecordType, payloads: Sequence[object]
    ) -> list[RecordView]:
        """Record several records of one kind in one transaction: all of them or none."""
        spec = SPECS[RecordType(record_type)]
        _may_record(user, spec.roles, spec.label)
        if not payloads:
            raise DecoctionError(f"no {spec.label} to record", hint="give at least one record")
        with self._engine.begin() as conn:
            batch = locked_batch(conn, batch_id)
            values = [
                _checked(spec, batch, payload, _which(spec, index, len(payloads)))
                for index, payload in enumerate(payloads, start=1)
            ]
            if spec.one_per_batch:
                self._refuse_second(conn, spec, batch, len(values))
            views = [self._insert(conn, spec, batch, user, one) for one in values]
            self._trail.record(
                conn,
                [
                    _event(user, spec, "recorded", view, action="create", new=_audited(view))
                    for view in views
                ],
            )
        return views

    def correct(
        self,
        user: Session,
        record_type: RecordType,
        record_id: int,
        payload: object,
        *,
        reason: str,
    ) -> RecordView:
        """A new version of the record, superseding `record_id`, for the reason given."""
        spec = SPECS[RecordType(record_type)]
        _may_record(user, spec.roles, spec.label)
        why = reason.strip() if isinstance(reason, str) else ""
        if not why:
            raise DecoctionError(
                f"a correction of {spec.label} {record_id} needs a reason",
                hint="say why the recorded values are changed (R-AUD-1)",
            )
        with self._engine.begin() as conn:
            old = _view(spec, _row(conn, spec, record_id))
            batch = locked_batch(conn, old.batch_id)
            newer = conn.execute(
                select(spec.table.c.id).where(spec.table.c.supersedes == record_id)
            ).scalar_one_or_none()
            if newer is not None:
                raise RecordConflictError(
                    f"{spec.label} {record_id} was already corrected by {spec.label} {newer}",
                    hint=f"correct the current version, {newer}",
                )
            values = _checked(spec, batch, payload, f"the correction of {spec.label} {record_id}")
            view = self._insert(conn, spec, batch, user, values, supersedes=old.id, reason=why)
            self._trail.record(
                conn,
                [
                    _event(
                        user,
                        spec,
                        "corrected",
                        view,
                        action="modify",
                        old=_audited(old),
                        new=_audited(view),
                        reason=why,
                    )
                ],
            )
        return view

    def records(
        self, batch_id: int, record_type: RecordType, *, history: bool = False
    ) -> list[RecordView]:
        """The batch's records of a kind, oldest first: the current versions, or with
        `history` every version (each superseded one naming its successor)."""
        spec = SPECS[RecordType(record_type)]
        with self._engine.connect() as conn:
            read_batch(conn, batch_id)
            rows = conn.execute(
                select(spec.table)
                .where(spec.table.c.batch_id == batch_id)
                .order_by(spec.table.c.id)
            ).all()
        views = [_view(spec, row) for row in rows]
        successor = {view.supersedes: view.id for view in views if view.supersedes is not None}
        linked = [replace(view, superseded_by=successor.get(view.id)) for view in views]
        return linked if history else [view for view in linked if view.superseded_by is None]

    def batch(self, batch_id: int) -> BatchInfo:
        with self._engine.connect() as conn:
            return read_batch(conn, batch_id)

    # --- attachments ------------------------------------------------------------------------

    def attach(
        self,
        user: Session,
        batch_id: int,
        field: str,
        filename: str,
        content: bytes,
        *,
        herb_source_id: int | None = None,
    ) -> AttachmentInfo:
        """Attach a file to a file field of the batch's record; a herb source's field names
        the (current) herb source it documents."""
        _may_record(user, BUSINESS_ROLES, "attachment")
        found = attachment_field(field)
        if found is None:
            known = ", ".join(
                f.key for section in SECTIONS.values() for f in section.attachment_fields
            )
            raise AttachmentRejectedError(
                f"{field!r} is not a file field of the decoction pieces record",
                hint=f"attach to one of: {known}",
            )
        section, spec_field = found
        checked = check_file(spec_field, filename, content)
        with self._engine.begin() as conn:
            locked_batch(conn, batch_id)
            _check_source_link(conn, section, batch_id, herb_source_id, spec_field.label)
            content_id = _stored_content(conn, checked.sha256, content)
            now = self._trail.now()
            values = {
                "batch_id": batch_id,
                "herb_source_id": herb_source_id,
                "field": spec_field.key,
                "filename": checked.filename,
                "media_type": checked.media_type.value,
                "size": checked.size,
                "sha256": checked.sha256,
                "content_id": content_id,
                "recorded_at": now,
                "recorded_by_user_id": user.user_id,
                "recorded_by": user.username,
            }
            attachment_id = insert_returning_id(conn, insert(AttachmentRow).values(**values))
            info = _attachment_info({**values, "id": attachment_id})
            self._trail.record(
                conn,
                [
                    AuditEvent(
                        "decoction.attachment_added",
                        "decoction_attachment",
                        str(attachment_id),
                        action="create",
                        new={"batch_id": batch_id, **info.as_json()},
                        user_id=user.user_id,
                        username=user.username,
                    )
                ],
            )
        return info

    def attachments(self, batch_id: int) -> list[AttachmentInfo]:
        with self._engine.connect() as conn:
            read_batch(conn, batch_id)
            rows = conn.execute(
                select(AttachmentRow.__table__)
                .where(AttachmentRow.batch_id == batch_id)
                .order_by(AttachmentRow.id)
            ).mappings()
            return [_attachment_info(row) for row in rows]

    def attachment_content(self, attachment_id: int) -> tuple[AttachmentInfo, bytes]:
        """The file as attached, after checking its SHA-256; a mismatch is recorded in the
        audit trail and raised as `AttachmentCorruptError`."""
        with self._engine.connect() as conn:
            row = (
                conn.execute(
                    select(AttachmentRow.__table__, AttachmentContentRow.content)
                    .join(AttachmentContentRow, AttachmentContentRow.id == AttachmentRow.content_id)
                    .where(AttachmentRow.id == attachment_id)
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFoundError(
                f"attachment {attachment_id} does not exist",
                hint="list the batch's attachments to find its id",
            )
        info = _attachment_info(row)
        what = f"attachment {attachment_id} ({info.filename}) of batch {info.batch_id}"
        try:
            return info, decoded(row["content"], sha256=info.sha256, size=info.size, what=what)
        except DecoctionError:
            self._trail.append(
                [
                    AuditEvent(
                        "decoction.attachment_corrupt",
                        "decoction_attachment",
                        str(attachment_id),
                        action="system",
                        new={"batch_id": info.batch_id, "sha256": info.sha256},
                    )
                ]
            )
            raise

    # --- internals --------------------------------------------------------------------------

    def _refuse_second(
        self, conn: Connection, spec: RecordSpec, batch: BatchInfo, adding: int
    ) -> None:
        if adding > 1:
            raise RecordConflictError(
                f"a batch has one {spec.label}; {adding} were given",
                hint=f"record one {spec.label}, and correct it if it changes",
            )
        existing = conn.execute(
            select(spec.table.c.id).where(spec.table.c.batch_id == batch.id).limit(1)
        ).scalar_one_or_none()
        if existing is not None:
            current = _current_id(conn, spec, int(existing))
            raise RecordConflictError(
                f"batch {batch.id} already has its {spec.label} ({spec.label} {current})",
                hint=f"correct {spec.label} {current} with a reason instead",
            )

    def _insert(
        self,
        conn: Connection,
        spec: RecordSpec,
        batch: BatchInfo,
        user: Session,
        values: Mapping[str, Any],
        *,
        supersedes: int | None = None,
        reason: str | None = None,
    ) -> RecordView:
        now = self._trail.now()
        row = {
            **spec.row_values(values),
            "batch_id": batch.id,
            "recorded_at": now,
            "recorded_by_user_id": user.user_id,
            "recorded_by": user.username,
            "reason": reason,
            "supersedes": supersedes,
        }
        if spec.type is RecordType.PRODUCTION:
            row["product_id"] = batch.product_id
        record_id = insert_returning_id(conn, insert(spec.table).values(**row))
        return RecordView(
            spec.type,
            record_id,
            batch.id,
            dict(values),
            utc_text(now),
            user.username,
            supersedes,
            reason,
        )


def read_batch(conn: Connection, batch_id: int) -> BatchInfo:
    return _batch_info(conn, batch_id, lock=False)


def locked_batch(conn: Connection, batch_id: int) -> BatchInfo:
    """The batch, its row locked until the transaction ends (PostgreSQL; SQLite's writers
    are serialised already)."""
    return _batch_info(conn, batch_id, lock=True)


def _batch_info(conn: Connection, batch_id: int, *, lock: bool) -> BatchInfo:
    query = select(Batch.id, Batch.product_id, Batch.lot, Batch.production_date).where(
        Batch.id == batch_id
    )
    if lock:
        query = query.with_for_update(key_share=True)
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(
            f"batch {batch_id} does not exist",
            hint="give the id of a batch of this site",
        )
    made = None if row.production_date is None else row.production_date.isoformat()
    return BatchInfo(int(row.id), str(row.product_id), str(row.lot), made)


def _may_record(user: Session, roles: frozenset[Role], what: str) -> None:
    if user.role not in roles:
        allowed = " or ".join(sorted(role.value for role in roles))
        raise PermissionDeniedError(
            f"{user.username} is {user.role.value}, and only {allowed} may record this ({what})",
            hint=f"ask someone with the role {allowed} to record it",
        )


def _which(spec: RecordSpec, index: int, count: int) -> str:
    return f"{spec.label} {index} of {count}" if count > 1 else f"the {spec.label}"


def _checked(spec: RecordSpec, batch: BatchInfo, payload: object, what: str) -> dict[str, Any]:
    """The record's values, checked against its section and against the batch."""
    if spec.type is RecordType.HERB_SOURCE:
        return _checked_source(payload, what)
    section = spec.sections[0]
    values = validate(section, payload, what=what, fixed={"production_batch_number": batch.lot})
    problems = _batch_problems(spec, batch, section, values)
    if problems:
        raise InvalidRecordError(what, problems)
    return values


def _checked_source(payload: object, what: str) -> dict[str, Any]:
    kind_section = Section("herb_source", "药材来源", "herb source", "", (SOURCE_FIELD,))
    if not isinstance(payload, Mapping):
        return validate(kind_section, payload, what=what)
    names = (SOURCE_FIELD.key, SOURCE_FIELD.zh)
    given = {name: value for name, value in payload.items() if name in names}
    rest = {name: value for name, value in payload.items() if name not in names}
    try:
        kind = validate(kind_section, given, what=what)[SOURCE_FIELD.key]
    except InvalidRecordError:
        kind = None
    if kind is None:
        raise InvalidRecordError(
            what,
            [
                FieldProblem(
                    SOURCE_FIELD.key,
                    SOURCE_FIELD.label,
                    f"must say where the herbs came from, not {given or 'nothing'}",
                    "write source: 自种 (self_grown) or source: 购进 (purchased)",
                )
            ],
        )
    values = validate(SOURCE_SECTIONS[kind], rest, what=f"{what} ({kind})")
    return {SOURCE_FIELD.key: kind, **values}


def _batch_problems(
    spec: RecordSpec, batch: BatchInfo, section: Section, values: Mapping[str, Any]
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if spec.type is RecordType.PRODUCTION:
        made = values.get("production_date")
        if batch.production_date is not None and made != batch.production_date:
            problems.append(
                FieldProblem(
                    "production_date",
                    section.field("production_date").label,
                    f"is {made}, but batch {batch.id} was produced on {batch.production_date}",
                    f"write {batch.production_date}, the batch's production date",
                )
            )
    if spec.type is RecordType.PROCESS_STEP:
        started = datetime.fromisoformat(values["started_at"])
        finished = datetime.fromisoformat(values["finished_at"])
        if finished < started:
            problems.append(
                FieldProblem(
                    "finished_at",
                    section.field("finished_at").label,
                    f"{values['finished_at']} is before the start {values['started_at']}",
                    "correct the start or the end time",
                )
            )
    return problems


def _row(conn: Connection, spec: RecordSpec, record_id: int) -> Row[Any]:
    row = conn.execute(select(spec.table).where(spec.table.c.id == record_id)).first()
    if row is None:
        raise NotFoundError(
            f"{spec.label} {record_id} does not exist",
            hint=f"list the batch's {spec.label} records to find the id",
        )
    return row


def _current_id(conn: Connection, spec: RecordSpec, record_id: int) -> int:
    current = record_id
    while True:
        newer = conn.execute(
            select(spec.table.c.id).where(spec.table.c.supersedes == current)
        ).scalar_one_or_none()
        if newer is None:
            return current
        current = int(newer)


def _view(spec: RecordSpec, row: Row[Any]) -> RecordView:
    data = row._mapping
    return RecordView(
        spec.type,
        int(data["id"]),
        int(data["batch_id"]),
        dict(data["fields"]),
        utc_text(data["recorded_at"]),
        data["recorded_by"],
        data["supersedes"],
        data["reason"],
    )


def _audited(view: RecordView) -> dict[str, Any]:
    return {"batch_id": view.batch_id, **view.values}


def _event(
    user: Session,
    spec: RecordSpec,
    what: str,
    view: RecordView,
    *,
    action: str,
    old: object = None,
    new: object = None,
    reason: str | None = None,
) -> AuditEvent:
    return AuditEvent(
        f"decoction.{spec.event_name}_{what}",
        spec.object_type,
        str(view.id),
        action=action,
        old=old,
        new=new,
        reason=reason,
        user_id=user.user_id,
        username=user.username,
    )


def _check_source_link(
    conn: Connection, section: Section, batch_id: int, herb_source_id: int | None, label: str
) -> None:
    if section.key not in SOURCE_SECTIONS:
        if herb_source_id is not None:
            raise AttachmentRejectedError(
                f"{label} belongs to the batch's {section.en} record, not to a herb source",
                hint="attach it without naming a herb source",
            )
        return
    kind = SOURCE_SECTIONS[section.key]
    if herb_source_id is None:
        raise AttachmentRejectedError(
            f"{label} documents a {kind.en} herb source; which one was not said",
            hint="name the herb source the file belongs to (its id)",
        )
    source = conn.execute(
        select(HerbSourceRow.batch_id, HerbSourceRow.kind).where(HerbSourceRow.id == herb_source_id)
    ).first()
    if source is None or source.batch_id != batch_id:
        raise NotFoundError(
            f"batch {batch_id} has no herb source {herb_source_id}",
            hint="list the batch's herb sources to find the id",
        )
    if source.kind != section.key:
        raise AttachmentRejectedError(
            f"{label} is a field of {kind.en}, but herb source {herb_source_id} is "
            f"{SOURCE_SECTIONS[source.kind].en}",
            hint="attach it to a herb source of the right kind, or pick the right field",
        )
    newer = conn.execute(
        select(HerbSourceRow.id).where(HerbSourceRow.supersedes == herb_source_id)
    ).scalar_one_or_none()
    if newer is not None:
        current = _current_id(conn, SPECS[RecordType.HERB_SOURCE], herb_source_id)
        raise RecordConflictError(
            f"herb source {herb_source_id} was corrected; its current version is {current}",
            hint=f"attach the file to herb source {current}",
        )


def _stored_content(conn: Connection, sha256: str, content: bytes) -> int:
    """The id of the stored content with this SHA-256, stored now if it is new."""
    statement = (
        pg_insert(AttachmentContentRow)
        if conn.dialect.name == "postgresql"
        else sqlite_insert(AttachmentContentRow)
    )
    conn.execute(
        statement.values(
            sha256=sha256, size=len(content), content=encoded(content)
        ).on_conflict_do_nothing(index_elements=["sha256"])
    )
    found = select(AttachmentContentRow.id).where(AttachmentContentRow.sha256 == sha256)
    return int(conn.execute(found).scalar_one())


def _attachment_info(row: Mapping[Any, Any]) -> AttachmentInfo:
    recorded_at = row["recorded_at"]
    return AttachmentInfo(
        int(row["id"]),
        int(row["batch_id"]),
        str(row["field"]),
        row["herb_source_id"],
        str(row["filename"]),
        str(row["media_type"]),
        int(row["size"]),
        str(row["sha256"]),
        utc_text(recorded_at) if isinstance(recorded_at, datetime) else str(recorded_at),
        row["recorded_by"],
    )
