"""The evidence bundle: everything an auditor needs to verify the trail away from the database.

One JSON document: audit entries and checkpoints exactly as stored, the site public keys, the
e-signatures with the record versions and hashes they bind, the current canonical version of
every signed record, and any append-only trigger found missing. `ebr.audit.verifier` checks it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select, text

from ebr.audit.chain import utc_text
from ebr.audit.models import AuditCheckpoint, AuditEntry, AuditKey, SignatureRow
from ebr.audit.records import DEFAULT_LOADERS, RecordLoader, canonical_record
from ebr.audit.triggers import missing_triggers
from ebr.audit.verifier import BUNDLE_FORMAT, VerificationReport, verify_bundle


def one_snapshot(conn: Connection) -> None:
    """Make every read of this (fresh) transaction see one state of the database. SQLite's
    transactions already do; PostgreSQL's default READ COMMITTED does not."""
    if conn.dialect.name == "postgresql" and not conn.in_transaction():
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))


def build_bundle(
    conn: Connection, *, loaders: Mapping[str, RecordLoader] = DEFAULT_LOADERS
) -> dict[str, Any]:
    """Everything the verifier needs, read in one snapshot when `conn` has not begun yet."""
    one_snapshot(conn)
    signatures = _rows(conn, SignatureRow, SignatureRow.id)
    records = []
    for object_type, object_id in sorted({(s["object_type"], s["object_id"]) for s in signatures}):
        loader = loaders.get(object_type)
        if loader is None:
            continue
        record = loader(conn, object_id)
        records.append(
            {
                "object_type": object_type,
                "object_id": object_id,
                "record": None if record is None else canonical_record(record),
            }
        )
    return {
        "format": BUNDLE_FORMAT,
        "exported_at": utc_text(datetime.now(UTC)),
        "database": conn.dialect.name,
        "entries": _rows(conn, AuditEntry, AuditEntry.seq),
        "checkpoints": _rows(conn, AuditCheckpoint, AuditCheckpoint.seq),
        "public_keys": _rows(conn, AuditKey, AuditKey.key_id),
        "signatures": signatures,
        "records": records,
        "missing_triggers": missing_triggers(conn),
    }


def _rows(conn: Connection, model: type, order: Any) -> list[dict[str, Any]]:
    table = model.__table__  # type: ignore[attr-defined]
    return [dict(row) for row in conn.execute(select(table).order_by(order)).mappings()]


def export_bundle(
    engine: Engine, path: Path, *, loaders: Mapping[str, RecordLoader] = DEFAULT_LOADERS
) -> dict[str, Any]:
    """Write the bundle atomically (temporary file, fsync, rename) and return it."""
    with engine.connect() as conn:
        bundle = build_bundle(conn, loaders=loaders)
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as out:
        json.dump(bundle, out, ensure_ascii=False, indent=1)
        out.flush()
        os.fsync(out.fileno())
    temporary.replace(path)
    return bundle


def verify_database(
    engine: Engine,
    *,
    trusted_keys: Collection[str] | None = None,
    loaders: Mapping[str, RecordLoader] = DEFAULT_LOADERS,
) -> VerificationReport:
    """The same checks as for a bundle, against the live database."""
    with engine.connect() as conn:
        bundle = build_bundle(conn, loaders=loaders)
    return verify_bundle(bundle, trusted_keys=trusted_keys)
