import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from serialization.errors import CheckCharacterError, CodeFormatError
from serialization.iso7064 import (
    ALPHANUMERIC,
    CHECK_SYSTEMS,
    DIGITS,
    compute,
    hybrid_check,
    is_valid,
    mod11_10_check,
    mod37_36_check,
    mod97_10_check,
    validate,
)

VECTORS = [
    ("mod11_10", "79462", "3"),
    ("mod11_10", "00200667308", "5"),
    ("mod37_36", "A12425GABC1234002", "M"),
    ("mod37_36", "K7NP3W9XQ2", "F"),
    ("mod97_10", "794", "44"),
    ("mod97_10", "7Q2XK9PZ4M", "71"),
]


@pytest.mark.parametrize(("system", "body", "check"), VECTORS)
def test_codes_md_vectors(system: str, body: str, check: str) -> None:
    assert compute(body, system) == check
    assert CHECK_SYSTEMS[system].compute(body) == check
    validate(body + check, system)


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ("WEST12345698765432GB", "82"),  # IBAN GB82WEST12345698765432, country moved to the end
        ("213800D1EI4B9WTWWD", "28"),  # LEI 213800D1EI4B9WTWWD28
    ],
)
def test_mod97_10_matches_iban_and_lei(body: str, check: str) -> None:
    assert mod97_10_check(body) == check


def test_mod97_10_reads_letters_as_two_digits() -> None:
    assert mod97_10_check("7Q2XK9PZ4M") == mod97_10_check("7262332092535422")


def test_wrappers_are_the_generic_hybrid() -> None:
    assert mod11_10_check("79462") == hybrid_check("79462", DIGITS)
    assert mod37_36_check("K7NP3W9XQ2") == hybrid_check("K7NP3W9XQ2", ALPHANUMERIC)


def test_hybrid_over_another_even_alphabet() -> None:
    hex_upper = "0123456789ABCDEF"
    check = hybrid_check("C0FFEE", hex_upper)
    assert check in hex_upper


@pytest.mark.parametrize("alphabet", ["", "0", "012", "0012345678"])
def test_hybrid_refuses_unusable_alphabets(alphabet: str) -> None:
    with pytest.raises(CodeFormatError) as info:
        hybrid_check("0", alphabet)
    assert info.value.field == "alphabet"
    assert info.value.hint


def test_check_systems_table() -> None:
    assert set(CHECK_SYSTEMS) == {"mod11_10", "mod37_36", "mod97_10"}
    compute_fn, length, alphabet = CHECK_SYSTEMS["mod97_10"]
    assert (length, alphabet) == (2, ALPHANUMERIC)
    assert compute_fn("794") == "44"
    assert CHECK_SYSTEMS["mod11_10"].alphabet == DIGITS
    assert CHECK_SYSTEMS["mod37_36"].length == 1


def test_wrong_check_names_expected_and_found() -> None:
    with pytest.raises(CheckCharacterError) as info:
        validate("K7NP3W9XQ2G", "mod37_36", field="serial", offset=4)
    error = info.value
    assert (error.expected, error.found) == ("F", "G")
    assert error.field == "serial"
    assert error.position == 14
    assert "K7NP3W9XQ2F" in (error.hint or "")


def test_wrong_two_digit_check() -> None:
    with pytest.raises(CheckCharacterError) as info:
        validate("79445", "mod97_10")
    assert (info.value.expected, info.value.found, info.value.position) == ("44", "45", 3)


@pytest.mark.parametrize(
    ("system", "body", "position", "hint_part"),
    [
        ("mod11_10", "79A62", 2, "digits only"),
        ("mod37_36", "K7np3", 2, "upper case"),
        ("mod37_36", "K7-NP", 2, "A-Z"),
        ("mod97_10", "79 4", 2, "A-Z"),
    ],
)
def test_characters_outside_the_alphabet_are_located(
    system: str, body: str, position: int, hint_part: str
) -> None:
    with pytest.raises(CodeFormatError) as info:
        compute(body, system)
    assert info.value.position == position
    assert hint_part in (info.value.hint or "")


def test_offset_shifts_positions() -> None:
    with pytest.raises(CodeFormatError) as info:
        compute("12x", "mod11_10", field="serial", offset=10)
    assert (info.value.field, info.value.position) == ("serial", 12)


@pytest.mark.parametrize("system", sorted(CHECK_SYSTEMS))
def test_empty_body_is_refused(system: str) -> None:
    with pytest.raises(CodeFormatError):
        compute("", system)
    with pytest.raises(CodeFormatError):
        validate("4" * CHECK_SYSTEMS[system].length, system)


def test_unknown_system_lists_the_known_ones() -> None:
    with pytest.raises(CodeFormatError) as info:
        compute("123", "luhn")
    assert "mod37_36" in (info.value.hint or "")
    assert not is_valid("1234", "luhn")


def test_is_valid() -> None:
    assert is_valid("794623", "mod11_10")
    assert not is_valid("794624", "mod11_10")


def _substitutions(code: str, alphabet: str) -> list[str]:
    return [
        code[:i] + other + code[i + 1 :]
        for i, char in enumerate(code)
        for other in alphabet
        if other != char
    ]


def _transpositions(code: str) -> list[str]:
    return [
        code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        for i in range(len(code) - 1)
        if code[i] != code[i + 1]
    ]


def test_mod37_36_detects_every_substitution_and_adjacent_swap_of_the_vector() -> None:
    code = "K7NP3W9XQ2F"
    assert is_valid(code, "mod37_36")
    substitutions = _substitutions(code, ALPHANUMERIC)
    assert len(substitutions) == 11 * 35
    assert not any(is_valid(changed, "mod37_36") for changed in substitutions)
    swaps = _transpositions(code)
    assert len(swaps) == 10
    assert not any(is_valid(changed, "mod37_36") for changed in swaps)


@pytest.mark.parametrize("system", sorted(CHECK_SYSTEMS))
@given(data=st.data())
def test_computed_check_validates(system: str, data: st.DataObject) -> None:
    alphabet = CHECK_SYSTEMS[system].alphabet
    body = data.draw(st.text(alphabet=alphabet, min_size=1, max_size=40))
    validate(body + compute(body, system), system)


@pytest.mark.parametrize(("system", "alphabet"), [("mod11_10", DIGITS), ("mod37_36", ALPHANUMERIC)])
@given(data=st.data())
def test_hybrid_systems_detect_every_single_substitution(
    system: str, alphabet: str, data: st.DataObject
) -> None:
    body = data.draw(st.text(alphabet=alphabet, min_size=1, max_size=30))
    code = body + compute(body, system)
    index = data.draw(st.integers(0, len(code) - 1))
    replacement = data.draw(st.sampled_from(alphabet).filter(lambda c: c != code[index]))
    changed = code[:index] + replacement + code[index + 1 :]
    with pytest.raises(CheckCharacterError):
        validate(changed, system)


def test_lower_case_letters_are_not_in_any_alphabet() -> None:
    for system in CHECK_SYSTEMS.values():
        assert not set(string.ascii_lowercase) & set(system.alphabet)
