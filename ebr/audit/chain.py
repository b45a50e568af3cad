"""The hash chain's arithmetic: canonical JSON and SHA-256, nothing else.

Pure standard library, shared by the writer (`ebr.audit.trail`) and the offline verifier, so
both compute exactly the same bytes. An entry's hash covers every stored field of the entry and
the previous entry's hash; the first entry links to `GENESIS`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

GENESIS = "0" * 64

ENTRY_FIELDS = (
    "seq",
    "at",
    "user_id",
    "username",
    "action",
    "event",
    "object_type",
    "object_id",
    "old_value",
    "new_value",
    "reason",
    "prev_hash",
)
"""The fields an entry's hash covers, besides the hash itself."""

CHECKPOINT_FIELDS = ("seq", "entry_seq", "entry_hash", "at", "key_id")
"""The fields a checkpoint's Ed25519 signature covers."""


class CanonicalJsonError(ValueError):
    pass


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no whitespace, UTF-8 kept, integers and strings only.

    Floats are refused because their text form is not stable across languages; dates and
    datetimes must be turned into ISO 8601 strings first (see `plain`).
    """
    return _dumps(_plain(value, "$", convert=False))


def plain(value: Any) -> Any:
    """Turn datetimes (UTC, offset kept), dates and tuples into canonical-JSON-ready values."""
    return _plain(value, "$", convert=True)


def canonical_plain(value: Any) -> str:
    """`canonical_json(plain(value))` in one pass."""
    return _dumps(_plain(value, "$", convert=True))


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def _plain(value: Any, where: str, *, convert: bool) -> Any:
    if value is None or type(value) in (str, int, bool):
        return value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalJsonError(f"{where}: key {key!r} is not a string")
            out[key] = _plain(item, f"{where}.{key}", convert=convert)
        return out
    if isinstance(value, list | tuple):
        return [_plain(item, f"{where}[{i}]", convert=convert) for i, item in enumerate(value)]
    if isinstance(value, bool | int | str):
        return value
    if convert and isinstance(value, datetime):
        return utc_text(value)
    if convert and isinstance(value, date):
        return value.isoformat()
    raise CanonicalJsonError(
        f"{where}: {type(value).__name__} has no canonical JSON form; "
        "convert it to a string or an integer first"
    )


def utc_text(moment: datetime) -> str:
    """ISO 8601 in UTC with its offset and microseconds; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_hash(entry: Mapping[str, Any]) -> str:
    """The fields are integers, strings or None, so no conversion pass is needed."""
    return sha256_hex(_dumps({name: entry[name] for name in ENTRY_FIELDS}))


def checkpoint_message(checkpoint: Mapping[str, Any]) -> bytes:
    body = {name: checkpoint[name] for name in CHECKPOINT_FIELDS}
    return ("tracegate-checkpoint/1\n" + canonical_json(body)).encode("utf-8")


def record_hash(record: Mapping[str, Any]) -> str:
    """Hash of one version of a GMP record, as an e-signature binds it."""
    return sha256_hex(canonical_plain(record))


def key_id_for(public_key_raw: bytes) -> str:
    return hashlib.sha256(public_key_raw).hexdigest()[:16]
