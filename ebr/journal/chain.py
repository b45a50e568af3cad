"""The journal's hash chain: what an entry's hash covers, with the audit trail's canonical JSON.

hash = SHA-256 of the canonical JSON of {batch_id, seq, at (ISO 8601, UTC), kind, unit_ref,
code_key, data, prev_hash}; each batch's first entry links to 64 zeros.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ebr.audit.chain import GENESIS, canonical_json, sha256_hex, utc_text

__all__ = ["GENESIS", "as_utc", "event_hash"]


def event_hash(
    *,
    batch_id: int,
    seq: int,
    at: datetime,
    kind: str,
    unit_ref: str | None,
    code_key: str | None,
    data: Any,
    prev_hash: str,
) -> str:
    """`data` is the event's data as plain JSON values (what `canonical_json` accepts)."""
    return sha256_hex(
        canonical_json(
            {
                "batch_id": batch_id,
                "seq": seq,
                "at": utc_text(at),
                "kind": kind,
                "unit_ref": unit_ref,
                "code_key": code_key,
                "data": data,
                "prev_hash": prev_hash,
            }
        )
    )


def as_utc(moment: datetime) -> datetime:
    """A timezone-aware UTC datetime; a naive one (as SQLite returns it) is taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
