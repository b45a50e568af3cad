"""The chain's arithmetic and the verifier's independence from the gateway's dependencies."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from ebr.audit.chain import (
    GENESIS,
    CanonicalJsonError,
    canonical_json,
    entry_hash,
    plain,
    record_hash,
    utc_text,
)

ROOT = Path(__file__).resolve().parents[3]


def test_canonical_json_is_one_text_per_value() -> None:
    assert canonical_json({"b": 1, "a": ["x", None, True]}) == '{"a":["x",null,true],"b":1}'
    assert canonical_json({"名": "阿莫西林"}) == '{"名":"阿莫西林"}'


@pytest.mark.parametrize("value", [1.5, {"a": {1, 2}}, {1: "x"}, b"raw"])
def test_values_without_a_stable_text_are_refused(value: object) -> None:
    with pytest.raises(CanonicalJsonError):
        canonical_json(value)


def test_times_are_utc_with_their_offset() -> None:
    shanghai = timezone(timedelta(hours=8))
    assert (
        utc_text(datetime(2026, 1, 2, 8, 0, tzinfo=shanghai)) == "2026-01-02T00:00:00.000000+00:00"
    )
    assert plain({"d": date(2026, 1, 2), "t": datetime(2026, 1, 2, tzinfo=UTC)}) == {
        "d": "2026-01-02",
        "t": "2026-01-02T00:00:00.000000+00:00",
    }


def test_every_field_is_covered_by_the_hash() -> None:
    entry = {
        "seq": 1,
        "at": "2026-01-02T00:00:00.000000+00:00",
        "user_id": 3,
        "username": "bob",
        "action": "modify",
        "event": "batch_modified",
        "object_type": "batch",
        "object_id": "42",
        "old_value": "1",
        "new_value": "2",
        "reason": "typo",
        "prev_hash": GENESIS,
    }
    reference = entry_hash(entry)
    for name, value in entry.items():
        changed = {**entry, name: value + 1 if isinstance(value, int) else f"{value}x"}
        assert entry_hash(changed) != reference, name
    assert record_hash({"b": 1, "a": 2}) == record_hash({"a": 2, "b": 1})


def test_the_verifier_needs_only_the_standard_library_and_cryptography() -> None:
    probe = (
        "import sys, ebr.audit.verifier\n"
        "tops = {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(m for m in sys.modules if m.startswith('ebr')))\n"
        "print(sorted(tops & {'sqlalchemy', 'argon2', 'psycopg', 'alembic', 'pydantic', "
        "'yaml', 'structlog', 'serialization', 'config', 'gateway'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    ebr_modules, heavy = result.stdout.splitlines()
    assert ebr_modules == "['ebr', 'ebr.audit', 'ebr.audit.chain', 'ebr.audit.verifier']"
    assert heavy == "[]"
