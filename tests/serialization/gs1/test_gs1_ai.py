"""The AI table: predefined lengths, prefix lengths, formats, lookups."""

from __future__ import annotations

import pytest

from serialization.errors import CodeFormatError
from serialization.gs1.ai import AI_LENGTH_BY_PREFIX, CSET82, DEFINITIONS, ai_at, lookup

REQUIRED = [
    "00", "01", "02", "10", "11", "12", "13", "15", "16", "17", "20", "21", "22", "30", "37",
    "240", "241", "250", "400", "410", "411", "412", "413", "414", "415", "416", "417", "7003",
]  # fmt: skip


def _predefined_by_codes_md(ai: str) -> bool:
    """codes.md §1.2: only 00-04, 11-20, 31-36 and 41x have a predefined length."""
    two = int(ai[:2])
    return two <= 4 or 11 <= two <= 20 or 31 <= two <= 36 or two == 41


@pytest.mark.parametrize("ai", REQUIRED)
def test_required_ais_are_known(ai: str) -> None:
    assert lookup(ai).ai == ai


@pytest.mark.parametrize("ai", sorted(DEFINITIONS))
def test_predefined_lengths_follow_the_gs1_table(ai: str) -> None:
    definition = DEFINITIONS[ai]
    assert definition.predefined_length == _predefined_by_codes_md(ai)
    assert definition.needs_separator != definition.predefined_length
    if definition.predefined_length:
        assert definition.fixed_length


@pytest.mark.parametrize("ai", sorted(DEFINITIONS))
def test_ai_length_matches_its_prefix(ai: str) -> None:
    assert AI_LENGTH_BY_PREFIX[ai[:2]] == len(ai)


def test_formats_of_pharma_ais() -> None:
    gtin = lookup("01")
    assert (gtin.numeric, gtin.min_length, gtin.max_length, gtin.check_digit) == (
        True, 14, 14, True
    )  # fmt: skip
    assert lookup("00").max_length == 18
    assert lookup("00").check_digit
    for ai in ("410", "411", "412", "413", "414", "415", "416", "417"):
        gln = lookup(ai)
        assert (gln.numeric, gln.max_length, gln.check_digit, gln.predefined_length) == (
            True, 13, True, True
        )  # fmt: skip
    for ai in ("10", "21", "22"):
        x = lookup(ai)
        assert (x.numeric, x.min_length, x.max_length) == (False, 1, 20)
    for ai in ("11", "12", "13", "15", "16", "17"):
        assert lookup(ai).date
        assert lookup(ai).day_zero
    expiry_time = lookup("7003")
    assert expiry_time.date
    assert expiry_time.time
    assert not expiry_time.day_zero
    assert not expiry_time.predefined_length


def test_cset82_is_exactly_the_82_characters() -> None:
    assert len(CSET82) == 82
    for char in " #$@[\\]^`{|}~":
        assert char not in CSET82


@pytest.mark.parametrize(
    ("data", "ai"),
    [("0109501101530003", "01"), ("2407Q", "240"), ("7003270531", "7003"), ("4140614141", "414")],
)
def test_ai_at_reads_the_prefix_length(data: str, ai: str) -> None:
    assert ai_at(data).ai == ai


@pytest.mark.parametrize(("data", "field"), [("2361", "(236)"), ("0512", "(05)"), ("3999", None)])
def test_unknown_ai_is_reported_with_its_full_length(data: str, field: str | None) -> None:
    with pytest.raises(CodeFormatError) as caught:
        ai_at("x" + data, 1)
    assert caught.value.position == 1
    assert caught.value.field == (field or "(3999)")


def test_unallocated_prefix() -> None:
    with pytest.raises(CodeFormatError, match="no Application Identifier starts with 89"):
        ai_at("8912")


def test_lookup_unknown() -> None:
    with pytest.raises(CodeFormatError) as caught:
        lookup("05")
    assert caught.value.field == "(05)"
    assert caught.value.hint
