import pytest
from hypothesis import given
from hypothesis import strategies as st

from serialization.codes import SchemeName
from serialization.errors import CheckCharacterError, CodeFormatError
from serialization.nmpa import (
    Nmpa20Code,
    nmpa_trace_code,
    parse_nmpa20,
    validate_drug_standard_code,
)

CODE = "81234560000012345678"


def test_parse_splits_7_9_4() -> None:
    parsed = parse_nmpa20(CODE)
    assert parsed == Nmpa20Code(drug_id="8123456", serial="000001234", check="5678")
    assert parsed.code == CODE


@pytest.mark.parametrize(("code", "position"), [(CODE[:-1], 19), (CODE + "9", 20), ("", 0)])
def test_wrong_length(code: str, position: int) -> None:
    with pytest.raises(CodeFormatError) as info:
        parse_nmpa20(code)
    assert (info.value.field, info.value.position) == ("nmpa20", position)
    assert "20" in info.value.message


@pytest.mark.parametrize(
    ("index", "char", "field", "hint_part"),
    [
        (3, "A", "drug_id", "digits only"),
        (10, "-", "serial", "remove spaces"),
        (18, "８", "check", "full-width"),
        (7, " ", "serial", "remove spaces"),
    ],
)
def test_non_digit_is_located(index: int, char: str, field: str, hint_part: str) -> None:
    code = CODE[:index] + char + CODE[index + 1 :]
    with pytest.raises(CodeFormatError) as info:
        parse_nmpa20(code)
    assert (info.value.field, info.value.position) == (field, index)
    assert hint_part in (info.value.hint or "")


def test_non_digit_is_reported_before_wrong_length() -> None:
    with pytest.raises(CodeFormatError) as info:
        parse_nmpa20("81234X6")
    assert (info.value.field, info.value.position) == ("drug_id", 5)


def test_unicode_digits_are_not_digits() -> None:
    with pytest.raises(CodeFormatError) as info:
        parse_nmpa20("٨" + CODE[1:])
    assert info.value.position == 0


def test_known_drug_id() -> None:
    assert parse_nmpa20(CODE, drug_ids={"8123456", "8000001"}).drug_id == "8123456"


def test_unknown_drug_id_lists_the_configured_ones() -> None:
    with pytest.raises(CodeFormatError) as info:
        parse_nmpa20(CODE, drug_ids=["8000002", "8000001"])
    error = info.value
    assert (error.field, error.position) == ("drug_id", 0)
    assert "8123456" in error.message
    assert "8000001, 8000002" in (error.hint or "")


def test_no_drug_ids_configured() -> None:
    with pytest.raises(CodeFormatError) as info:
        parse_nmpa20(CODE, drug_ids=())
    assert "no drug IDs" in (info.value.hint or "")


def test_many_drug_ids_are_abbreviated() -> None:
    ids = {f"{n:07d}" for n in range(25)}
    with pytest.raises(CodeFormatError) as info:
        parse_nmpa20(CODE, drug_ids=ids)
    assert "and 15 more" in (info.value.hint or "")


def test_trace_code() -> None:
    code = nmpa_trace_code(CODE, drug_ids={"8123456"})
    assert code.scheme is SchemeName.NMPA20
    assert code.key == code.data == code.hri == CODE
    assert code.symbology == "]C0"
    assert code.field("drug_id") == "8123456"
    assert code.field("serial") == "000001234"
    assert code.field("check") == "5678"
    assert nmpa_trace_code(parse_nmpa20(CODE)) == code


def test_trace_code_checks_master_data() -> None:
    with pytest.raises(CodeFormatError):
        nmpa_trace_code(Nmpa20Code("8123456", "000001234", "5678"), drug_ids={"1111111"})


@given(st.text(st.sampled_from("0123456789"), min_size=20, max_size=20))
def test_any_twenty_digits_round_trip(code: str) -> None:
    assert parse_nmpa20(code).code == code
    assert nmpa_trace_code(code).key == code


def test_drug_standard_code_vector() -> None:
    assert validate_drug_standard_code("86900000100000") == []


def test_drug_standard_code_wrong_check() -> None:
    with pytest.raises(CheckCharacterError) as info:
        validate_drug_standard_code("86900000100003")
    error = info.value
    assert (error.expected, error.found, error.position) == ("0", "3", 13)
    assert error.field == "drug_standard_code"


@pytest.mark.parametrize(
    ("code", "position"),
    [("8690000010000", 13), ("869000001000000", 14), ("869000X0100000", 6), ("96900000100000", 0)],
)
def test_drug_standard_code_format(code: str, position: int) -> None:
    with pytest.raises(CodeFormatError) as info:
        validate_drug_standard_code(code)
    assert info.value.position == position
    assert not isinstance(info.value, CheckCharacterError)


def test_drug_standard_code_must_start_with_86() -> None:
    with pytest.raises(CodeFormatError) as info:
        validate_drug_standard_code("87900000100005")
    assert info.value.position == 1
    assert "86" in info.value.message


def test_drug_standard_code_other_category_is_a_warning() -> None:
    from serialization.gs1.checkdigit import check_digit

    body = "8610000010000"
    warnings = validate_drug_standard_code(body + check_digit(body))
    assert len(warnings) == 1
    assert "category" in warnings[0]
