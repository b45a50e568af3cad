"""Writing and reading the audit trail.

Every entry is appended in the caller's transaction (`record`), so a GMP change and its audit
entry commit together or not at all. Appends are serialised: SQLite's `BEGIN IMMEDIATE` already
queues writers; on PostgreSQL a transaction-scoped advisory lock does it. Many entries go in
one INSERT (`executemany`), which is what makes group commit fast.

There is no way to switch the trail off: no setting, no method, and the tables refuse UPDATE
and DELETE through triggers.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from sqlalchemy import Connection, Engine, Select, insert, select, text

from ebr.audit.chain import (
    ENTRY_FIELDS,
    GENESIS,
    CanonicalJsonError,
    canonical_plain,
    checkpoint_message,
    entry_hash,
    utc_text,
)
from ebr.audit.checkpoints import SiteKey
from ebr.audit.models import AuditCheckpoint, AuditEntry, AuditKey
from ebr.errors import StoreError

ACTIONS = ("create", "modify", "delete", "access", "system")
NEEDS_REASON = ("modify", "delete")
PG_APPEND_LOCK = 7_160_501
"""Advisory lock id that serialises appends on PostgreSQL."""


class AuditError(StoreError):
    pass


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One thing that happened. `old` and `new` are any JSON-able values (datetimes allowed)."""

    event: str
    object_type: str
    object_id: str
    action: str = "system"
    old: Any = None
    new: Any = None
    reason: str | None = None
    user_id: int | None = None
    username: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    at: str
    user_id: int | None
    username: str | None
    action: str
    event: str
    object_type: str
    object_id: str
    old_value: str | None
    new_value: str | None
    reason: str | None
    prev_hash: str
    hash: str

    @property
    def old(self) -> Any:
        return None if self.old_value is None else json.loads(self.old_value)

    @property
    def new(self) -> Any:
        return None if self.new_value is None else json.loads(self.new_value)


RECORD_COLUMNS = tuple(field.name for field in fields(AuditRecord))


@dataclass(frozen=True, slots=True)
class _Head:
    seq: int
    hash: str
    checkpoint_seq: int
    checkpoint_entry: int
    checkpoint_at: str | None


class AuditTrail:
    def __init__(
        self,
        engine: Engine,
        *,
        site_key: SiteKey | None = None,
        checkpoint_every: int = 1000,
        checkpoint_interval: timedelta = timedelta(minutes=15),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if checkpoint_every < 1:
            raise AuditError(
                f"checkpoint_every must be at least 1, not {checkpoint_every}",
                hint="sign a checkpoint every N entries, N >= 1",
            )
        self._engine = engine
        self._site_key = site_key
        self._every = checkpoint_every
        self._interval = checkpoint_interval
        self._clock = clock

    @property
    def engine(self) -> Engine:
        return self._engine

    def now(self) -> datetime:
        return self._clock()

    def append(self, events: Sequence[AuditEvent]) -> list[int]:
        """Append in a transaction of its own; returns the entries' sequence numbers."""
        with self._engine.begin() as conn:
            return self.record(conn, events)

    def record(self, conn: Connection, events: Sequence[AuditEvent]) -> list[int]:
        """Append in the caller's transaction (commit it to make the entries durable)."""
        return self._append(conn, events, timed=True)

    def _append(self, conn: Connection, events: Sequence[AuditEvent], *, timed: bool) -> list[int]:
        prepared = [_prepare(event) for event in events]
        self._lock(conn)
        head = _read_head(conn)
        now = utc_text(self._clock())
        if self._site_key is not None:
            prepared = self._register_key(conn, self._site_key, now) + prepared
        rows: list[dict[str, Any]] = []
        checkpoints: list[dict[str, Any]] = []
        seq, prev = head.seq, head.hash
        covered, cp_seq, cp_at = head.checkpoint_entry, head.checkpoint_seq, head.checkpoint_at
        for values in prepared:
            seq += 1
            row = {"seq": seq, "at": now, "prev_hash": prev, **values}
            row["hash"] = prev = entry_hash(row)
            rows.append(row)
            if self._site_key is not None and seq - covered >= self._every:
                cp_seq += 1
                checkpoints.append(self._checkpoint_row(cp_seq, seq, prev, now))
                covered, cp_at = seq, now
        if (
            timed
            and self._site_key is not None
            and seq > covered
            and self._interval_passed(cp_at, now, conn, covered)
        ):
            cp_seq += 1
            checkpoints.append(self._checkpoint_row(cp_seq, seq, prev, now))
        if rows:
            _insert_entries(conn, rows)
        if checkpoints:
            conn.execute(insert(AuditCheckpoint), checkpoints)
        return [row["seq"] for row in rows[len(rows) - len(events) :]]

    def checkpoint(self, conn: Connection | None = None) -> int | None:
        """Sign the current head now, if it is not signed yet (for a timer: every T minutes
        even when the line is idle). Returns the checkpoint's number, or None."""
        if self._site_key is None:
            raise AuditError(
                "no site signing key is configured", hint="name the key file in the settings"
            )
        if conn is None:
            with self._engine.begin() as own:
                return self.checkpoint(own)
        self._lock(conn)
        now = utc_text(self._clock())
        self._append(conn, [], timed=False)
        head = _read_head(conn)
        if head.seq in (0, head.checkpoint_entry):
            return None
        row = self._checkpoint_row(head.checkpoint_seq + 1, head.seq, head.hash, now)
        conn.execute(insert(AuditCheckpoint), [row])
        return int(row["seq"])

    def rotate_key(self, new_key: SiteKey, *, user_id: int | None, username: str | None) -> None:
        """Use a new site key from now on; old public keys stay, so old checkpoints verify."""
        with self._engine.begin() as conn:
            self._site_key = new_key
            self.record(
                conn,
                [
                    AuditEvent(
                        "site_key_rotated",
                        "audit_key",
                        new_key.key_id,
                        action="system",
                        user_id=user_id,
                        username=username,
                    )
                ],
            )
            self.checkpoint(conn)

    def unsigned_entries(self) -> int:
        """How many entries no signed checkpoint covers yet."""
        with self._engine.connect() as conn:
            head = _read_head(conn)
        return head.seq - head.checkpoint_entry

    def head(self) -> tuple[int, str]:
        with self._engine.connect() as conn:
            head = _read_head(conn)
        return head.seq, head.hash

    def entries(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        object_type: str | None = None,
        object_id: str | None = None,
        event: str | None = None,
        user_id: int | None = None,
        username: str | None = None,
        limit: int | None = None,
    ) -> list[AuditRecord]:
        """The views of the trail: by time, by object, by event, by user, in chain order."""
        query = _filtered(since, until, object_type, object_id, event, user_id, username)
        if limit is not None:
            query = query.limit(limit)
        with self._engine.connect() as conn:
            return [AuditRecord(*row) for row in conn.execute(query)]

    def export_csv(self, out: IO[str], **filters: Any) -> int:
        """Write the selected entries as CSV (UTF-8, header row); returns the row count."""
        writer = csv.writer(out)
        writer.writerow(RECORD_COLUMNS)
        count = 0
        for record in self._iter(**filters):
            writer.writerow(["" if value is None else value for value in asdict(record).values()])
            count += 1
        return count

    def _iter(self, **filters: Any) -> Iterator[AuditRecord]:
        yield from self.entries(**filters)

    def _lock(self, conn: Connection) -> None:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": PG_APPEND_LOCK})

    def _register_key(self, conn: Connection, key: SiteKey, now: str) -> list[dict[str, Any]]:
        known = conn.execute(select(AuditKey.key_id).where(AuditKey.key_id == key.key_id)).first()
        if known is not None:
            return []
        conn.execute(
            insert(AuditKey).values(
                key_id=key.key_id, public_key=key.public_key_hex, registered_at=now
            )
        )
        event = AuditEvent(
            "site_key_registered",
            "audit_key",
            key.key_id,
            action="create",
            new={"public_key": key.public_key_hex},
        )
        return [_prepare(event)]

    def _checkpoint_row(self, seq: int, entry_seq: int, entry_hash: str, at: str) -> dict[str, Any]:
        assert self._site_key is not None
        row: dict[str, Any] = {
            "seq": seq,
            "entry_seq": entry_seq,
            "entry_hash": entry_hash,
            "at": at,
            "key_id": self._site_key.key_id,
        }
        row["signature"] = self._site_key.sign(checkpoint_message(row))
        return row

    def _interval_passed(
        self, checkpoint_at: str | None, now: str, conn: Connection, covered: int
    ) -> bool:
        since = checkpoint_at
        if since is None:
            since = conn.execute(
                select(AuditEntry.at).where(AuditEntry.seq == covered + 1)
            ).scalar_one_or_none()
        if since is None:
            return False
        return datetime.fromisoformat(now) - datetime.fromisoformat(since) >= self._interval


ENTRY_COLUMNS = (*ENTRY_FIELDS, "hash")


_INSERT_ENTRIES = {
    mark: f"INSERT INTO audit_entries ({', '.join(ENTRY_COLUMNS)}) "  # noqa: S608 (constants)
    f"VALUES ({', '.join([mark] * len(ENTRY_COLUMNS))})"
    for mark in ("?", "%s")
}


def _insert_entries(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """One `executemany` with positional parameters: the hot path of group commit."""
    statement = _INSERT_ENTRIES["?" if conn.dialect.paramstyle == "qmark" else "%s"]
    conn.exec_driver_sql(statement, [tuple(row[name] for name in ENTRY_COLUMNS) for row in rows])


def _prepare(event: AuditEvent) -> dict[str, Any]:
    where = f"audit event {event.event!r} on {event.object_type} {event.object_id!r}"
    if event.action not in ACTIONS:
        raise AuditError(
            f"{where}: unknown action {event.action!r}", hint=f"use one of {', '.join(ACTIONS)}"
        )
    if event.action in NEEDS_REASON and not (event.reason and event.reason.strip()):
        raise AuditError(
            f"{where}: a {event.action} needs a reason",
            hint="say why the record is changed or removed (R-AUD-1)",
        )
    if not event.event or not event.object_type or not str(event.object_id):
        raise AuditError(f"{where}: event, object type and object id are all required")
    try:
        old = None if event.old is None else canonical_plain(event.old)
        new = None if event.new is None else canonical_plain(event.new)
    except CanonicalJsonError as error:
        raise AuditError(f"{where}: {error}", hint="pass plain JSON values") from error
    return {
        "user_id": event.user_id,
        "username": event.username,
        "action": event.action,
        "event": event.event,
        "object_type": event.object_type,
        "object_id": str(event.object_id),
        "old_value": old,
        "new_value": new,
        "reason": event.reason,
    }


def _read_head(conn: Connection) -> _Head:
    last = conn.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    checkpoint = conn.execute(
        select(AuditCheckpoint.seq, AuditCheckpoint.entry_seq, AuditCheckpoint.at)
        .order_by(AuditCheckpoint.seq.desc())
        .limit(1)
    ).first()
    seq, hash_ = (0, GENESIS) if last is None else (int(last.seq), str(last.hash))
    if checkpoint is None:
        return _Head(seq, hash_, 0, 0, None)
    return _Head(seq, hash_, int(checkpoint.seq), int(checkpoint.entry_seq), str(checkpoint.at))


def _filtered(
    since: datetime | None,
    until: datetime | None,
    object_type: str | None,
    object_id: str | None,
    event: str | None,
    user_id: int | None,
    username: str | None,
) -> Select[Any]:
    columns = [getattr(AuditEntry, name) for name in RECORD_COLUMNS]
    query = select(*columns).order_by(AuditEntry.seq)
    if since is not None:
        query = query.where(AuditEntry.at >= utc_text(since))
    if until is not None:
        query = query.where(AuditEntry.at < utc_text(until))
    if object_type is not None:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == object_id)
    if event is not None:
        query = query.where(AuditEntry.event == event)
    if user_id is not None:
        query = query.where(AuditEntry.user_id == user_id)
    if username is not None:
        query = query.where(AuditEntry.username == username)
    return query
