import pytest
from hypothesis import given
from hypothesis import strategies as st

from serialization.errors import CheckCharacterError, CodeFormatError
from serialization.uscc import (
    ALPHABET,
    WEIGHTS,
    is_valid_uscc,
    organisation_code_check,
    uscc_check_char,
    validate_uscc,
)

VALID = [
    "91110000101623741K",
    "911101066976941872",
    "91350100M000100Y43",
    "91110000600037341L",
    "91440300MA5H0HLK5U",
    "91133100MA0D8N1J7G",
]


@pytest.mark.parametrize("code", VALID)
def test_published_codes_are_valid(code: str) -> None:
    assert uscc_check_char(code[:17]) == code[17]
    assert validate_uscc(code) == []
    assert is_valid_uscc(code)


@pytest.mark.parametrize(
    ("code", "expected"), [("91310115MA1G4L1WXK", "7"), ("91350211M0000XUF46", "R")]
)
def test_wrong_published_codes_name_the_right_check(code: str, expected: str) -> None:
    with pytest.raises(CheckCharacterError) as info:
        validate_uscc(code)
    error = info.value
    assert (error.expected, error.found) == (expected, code[-1])
    assert error.field == "uscc.check"
    assert error.position == 17
    assert expected in str(error)
    assert not is_valid_uscc(code)


def test_worked_example_sum() -> None:
    body = "91110000101623741"
    assert sum(ALPHABET.index(c) * w for c, w in zip(body, WEIGHTS, strict=True)) == 477
    assert uscc_check_char(body) == "K"


def test_weights_are_powers_of_three() -> None:
    assert WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def test_sum_divisible_by_31_gives_zero() -> None:
    body = "918587832P12455XH"
    assert sum(ALPHABET.index(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 31 == 0
    assert uscc_check_char(body) == "0"
    warnings = validate_uscc(body + "0")
    assert len(warnings) == 1
    assert "GB 11714" in warnings[0]


@pytest.mark.parametrize("body", ["Y1110000101623741", "A1110000101623741", "N2110000101623741"])
def test_letters_in_positions_one_and_two(body: str) -> None:
    assert validate_uscc(body + uscc_check_char(body)) == []


def test_unknown_department_and_bad_organisation_code_are_warnings() -> None:
    body = "0111000010162374X"
    warnings = validate_uscc(body + uscc_check_char(body))
    assert any("registering department" in w for w in warnings)
    assert any("organisation code" in w for w in warnings)


def test_organisation_code_check() -> None:
    assert organisation_code_check("10162374") == "1"
    assert organisation_code_check("M000100Y") == "4"


@pytest.mark.parametrize(
    ("code", "position"), [("91110000101623741", 17), ("91110000101623741KK", 18)]
)
def test_length(code: str, position: int) -> None:
    with pytest.raises(CodeFormatError) as info:
        validate_uscc(code)
    assert info.value.field == "uscc"
    assert info.value.position == position
    assert "18" in info.value.message


@pytest.mark.parametrize(
    ("code", "field", "position", "hint_part"),
    [
        ("9111000010I623741K", "uscc.organisation_code", 10, "no I, O, S, V or Z"),
        ("91110000101623741k", "uscc.check", 17, "upper case"),
        ("9-110000101623741K", "uscc.entity_type", 1, ALPHABET),
        ("O1110000101623741K", "uscc.registering_department", 0, "no I, O, S, V or Z"),
    ],
)
def test_characters_outside_the_alphabet(
    code: str, field: str, position: int, hint_part: str
) -> None:
    with pytest.raises(CodeFormatError) as info:
        validate_uscc(code)
    assert (info.value.field, info.value.position) == (field, position)
    assert hint_part in (info.value.hint or "")


def test_region_must_be_digits() -> None:
    with pytest.raises(CodeFormatError) as info:
        validate_uscc("9111A000101623741K")
    assert (info.value.field, info.value.position) == ("uscc.region", 4)
    assert not isinstance(info.value, CheckCharacterError)


def test_field_and_offset_locate_errors_in_a_longer_input() -> None:
    with pytest.raises(CheckCharacterError) as info:
        validate_uscc("91310115MA1G4L1WXK", field="party", offset=5)
    assert (info.value.field, info.value.position) == ("party.check", 22)


def test_check_char_body_length() -> None:
    with pytest.raises(CodeFormatError) as info:
        uscc_check_char("9111000010162374")
    assert info.value.position == 16


_CHARS = st.sampled_from(ALPHABET)
_BODIES = st.builds(
    lambda head, region, organisation: head + region + organisation,
    st.text(_CHARS, min_size=2, max_size=2),
    st.text(st.sampled_from("0123456789"), min_size=6, max_size=6),
    st.text(_CHARS, min_size=9, max_size=9),
)


@given(_BODIES)
def test_any_body_with_its_check_validates(body: str) -> None:
    code = body + uscc_check_char(body)
    assert isinstance(validate_uscc(code), list)


@given(body=_BODIES, data=st.data())
def test_any_single_change_is_detected(body: str, data: st.DataObject) -> None:
    code = body + uscc_check_char(body)
    index = data.draw(st.integers(0, 17))
    replacement = data.draw(_CHARS.filter(lambda c: c != code[index]))
    changed = code[:index] + replacement + code[index + 1 :]
    with pytest.raises(CodeFormatError) as info:
        validate_uscc(changed)
    if info.value.field != "uscc.region":
        assert isinstance(info.value, CheckCharacterError)
