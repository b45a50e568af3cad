"""The harnesses catch what they are meant to catch: a contract break raises, input splitting
is deterministic."""

from __future__ import annotations

import pytest

from fuzz.bytes_input import ContractViolationError, chunks, require, split_fields
from fuzz.code_parser import fuzz_gs1_round_trip


def test_require_raises_on_a_broken_contract() -> None:
    require(True, "fine")
    with pytest.raises(ContractViolationError, match="broken"):
        require(False, "broken")


def test_chunks_and_fields_cover_every_byte() -> None:
    data = bytes([3]) + bytes(range(40))
    assert b"".join(chunks(data)) == data[1:]
    assert {len(piece) for piece in chunks(data)[:-1]} == {4}
    assert split_fields(b"a\xffb", 3) == [b"a", b"b", b""]


def test_a_valid_code_round_trips_through_every_gs1_form() -> None:
    fuzz_gs1_round_trip(b"(01)09501101530003(17)280131(10)L-1(21)ABC123")
