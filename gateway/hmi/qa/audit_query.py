"""The audit trail as QA filters it: by time range (UTC), object (type and id), event and
user, one page at a time in chain order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Engine, func, select

from ebr.audit.chain import utc_text
from ebr.audit.models import AuditEntry
from ebr.audit.trail import RECORD_COLUMNS, AuditRecord
from gateway.hmi.errors import HmiError

TIME_FORMATS: Final = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")
TEXT_FIELDS: Final = ("object_type", "object_id", "event", "user")
MAX_TEXT: Final = 200


@dataclass(frozen=True, slots=True)
class AuditFilter:
    since: datetime | None = None
    until: datetime | None = None
    object_type: str | None = None
    object_id: str | None = None
    event: str | None = None
    user: str | None = None

    def trail_filters(self) -> dict[str, Any]:
        """As `AuditTrail.entries`, `export_csv` and `export_pdf` take them."""
        chosen = {
            "since": self.since,
            "until": self.until,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "event": self.event,
            "username": self.user,
        }
        return {name: value for name, value in chosen.items() if value is not None}

    def query_values(self) -> dict[str, str]:
        """The filter as the form's fields, for links to other pages and exports."""
        values = {
            "since": _field_time(self.since),
            "until": _field_time(self.until),
            "object_type": self.object_type or "",
            "object_id": self.object_id or "",
            "event": self.event or "",
            "user": self.user or "",
        }
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True, slots=True)
class AuditPage:
    records: list[AuditRecord]
    page: int
    pages: int
    total: int


def parse_filter(params: dict[str, str]) -> AuditFilter:
    """The filter from the query's fields; a bad value is refused with what, where and how."""
    texts: dict[str, str | None] = {}
    for name in TEXT_FIELDS:
        value = params.get(name, "").strip()
        if len(value) > MAX_TEXT:
            raise HmiError(
                400,
                f"the filter {name} is {len(value)} characters long",
                where=f"filter {name}",
                fix=f"enter at most {MAX_TEXT} characters",
            )
        texts[name] = value or None
    since, until = _time(params, "since"), _time(params, "until")
    if since is not None and until is not None and until <= since:
        raise HmiError(
            400,
            "the time range ends before it begins",
            where="filter until",
            fix="enter an end after the start",
        )
    return AuditFilter(since, until, **texts)


def audit_page(engine: Engine, chosen: AuditFilter, page: int, size: int) -> AuditPage:
    conditions = _conditions(chosen)
    with engine.connect() as conn:
        total = int(
            conn.execute(
                select(func.count()).select_from(AuditEntry).where(*conditions)
            ).scalar_one()
        )
        pages = max(1, -(-total // size))
        page = min(max(page, 1), pages)
        rows = conn.execute(
            select(*(getattr(AuditEntry, name) for name in RECORD_COLUMNS))
            .where(*conditions)
            .order_by(AuditEntry.seq)
            .offset((page - 1) * size)
            .limit(size)
        )
        return AuditPage([AuditRecord(*row) for row in rows], page, pages, total)


def _conditions(chosen: AuditFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if chosen.since is not None:
        conditions.append(AuditEntry.at >= utc_text(chosen.since))
    if chosen.until is not None:
        conditions.append(AuditEntry.at < utc_text(chosen.until))
    for column, value in (
        (AuditEntry.object_type, chosen.object_type),
        (AuditEntry.object_id, chosen.object_id),
        (AuditEntry.event, chosen.event),
        (AuditEntry.username, chosen.user),
    ):
        if value is not None:
            conditions.append(column == value)
    return conditions


def _time(params: dict[str, str], name: str) -> datetime | None:
    text = params.get(name, "").strip()
    if not text:
        return None
    for pattern in TIME_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise HmiError(
        400,
        f"{text!r} is not a time",
        where=f"filter {name}",
        fix="enter a UTC time as YYYY-MM-DDTHH:MM, e.g. 2026-11-23T08:30",
    )


def _field_time(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%dT%H:%M:%S" if value.second else "%Y-%m-%dT%H:%M")
