"""Element strings: the codes.md §1.4 vectors, encoding rules and located errors."""

from __future__ import annotations

import pytest

from serialization.errors import CheckCharacterError, CodeFormatError
from serialization.gs1.element import (
    GS,
    Element,
    GS1Message,
    encode,
    parse,
    parse_hri,
    to_hri,
    validate_element,
)
from serialization.gs1.validate import FAST_VALIDATORS

MACHINE = "01095011015300031727050010AB-123\x1d217Q2XK9PZ4M"
"""codes.md §1.4: the HRI of the first vector in machine form."""

# (raw scan as in codes.md §1.4 with the readability spaces removed, HRI)
VECTORS = [
    (
        "]d201095011015300031727050010AB-123\x1d217Q2XK9PZ4M",
        "(01)09501101530003(17)270500(10)AB-123(21)7Q2XK9PZ4M",
    ),
    (
        "]d20109501101530003217Q2XK9PZ4M\x1d1727053110AB-123",
        "(01)09501101530003(21)7Q2XK9PZ4M(17)270531(10)AB-123",
    ),
    (
        "]d20109501101530003112501151727013110A1/B2\x1d21X%y&Z",
        "(01)09501101530003(11)250115(17)270131(10)A1/B2(21)X%y&Z",
    ),
    ("]C100376123450000010008", "(00)376123450000010008"),
]


@pytest.mark.parametrize(("raw", "hri"), VECTORS)
def test_raw_scan_to_hri_and_back(raw: str, hri: str) -> None:
    message = parse(raw)
    assert to_hri(message) == hri
    assert parse_hri(hri) == message
    assert encode(parse_hri(hri)) == raw[3:]


def test_hri_to_machine_form() -> None:
    message = parse_hri("(01)09501101530003(17)270500(10)AB-123(21)7Q2XK9PZ4M")
    assert encode(message) == MACHINE
    assert message.value("17") == "270500"
    assert message.value("10") == "AB-123"
    assert message.value("21") == "7Q2XK9PZ4M"
    assert message.value("11") is None
    assert message.ais() == ("01", "17", "10", "21")
    assert len(message) == 4
    assert next(iter(message)) == Element("01", "09501101530003")


@pytest.mark.parametrize("identifier", ["", "]d2", "]C1", "]Q3", "]e0"])
def test_gs1_symbology_identifiers_are_stripped(identifier: str) -> None:
    assert encode(parse(identifier + MACHINE)) == MACHINE


def test_gs_only_after_variable_length_fields_that_are_not_last() -> None:
    elements = [
        Element("10", "L1"),
        Element("01", "09501101530003"),
        Element("7003", "2705311200"),
        Element("17", "270500"),
        Element("21", "S1"),
    ]
    assert encode(elements) == f"10L1{GS}010950110153000370032705311200{GS}1727050021S1"


def test_encode_accepts_repeats_with_the_same_value_only() -> None:
    same = [Element("01", "09501101530003"), Element("01", "09501101530003")]
    assert encode(same) == "0109501101530003" * 2
    with pytest.raises(CodeFormatError, match=r"\(10\) appears twice") as caught:
        encode([Element("10", "A"), Element("10", "B")])
    assert caught.value.field == "(10)"


def test_encode_validates() -> None:
    with pytest.raises(CheckCharacterError):
        encode([Element("01", "09501101530004")])
    with pytest.raises(CodeFormatError, match="unknown Application Identifier"):
        encode([Element("05", "1")])
    with pytest.raises(CodeFormatError, match="at least one element"):
        encode([])


def test_parse_rejects_repeats_with_different_values() -> None:
    data = "0109501101530003" + "10A" + GS + "10B"
    with pytest.raises(CodeFormatError, match="appears twice") as caught:
        parse(data)
    assert caught.value.position == data.rindex("B")
    same = parse("10A" + GS + "10A")
    assert same.elements == (Element("10", "A"), Element("10", "A"))


def _error(data: str) -> CodeFormatError:
    with pytest.raises(CodeFormatError) as caught:
        parse(data)
    return caught.value


def test_bad_check_digit_is_located() -> None:
    error = _error("]d2010950110153000417270500")
    assert isinstance(error, CheckCharacterError)
    assert error.field == "(01)"
    assert error.position == 18
    assert (error.expected, error.found) == ("3", "4")
    assert "09501101530003" in (error.hint or "")


def test_bad_sscc_and_gln_check_digits() -> None:
    assert _error("00376123450000010009").position == 19
    gln = _error("0109501101530003" + "4140614141000419")
    assert isinstance(gln, CheckCharacterError)
    assert gln.field == "(414)"


@pytest.mark.parametrize("char", [" ", "#", "$", "@", "\\", "^", "`", "{", "|", "}", "~", "é"])
def test_character_outside_cset82(char: str) -> None:
    data = f"]d2010950110153000310AB{char}12{GS}21X"
    error = _error(data)
    assert error.field == "(10)"
    assert error.position == data.index(char)
    assert "CSET 82" in (error.hint or "")


def test_every_cset82_character_is_accepted() -> None:
    cset82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
    for start in range(0, len(cset82), 20):
        chunk = cset82[start : start + 20]
        assert parse("21" + chunk).value("21") == chunk


def test_over_long_lot() -> None:
    data = "010950110153000310" + "A" * 21 + GS + "21X"
    error = _error(data)
    assert error.field == "(10)"
    assert error.position == 18 + 20
    assert "at most 20" in error.message
    assert "GS separator" in (error.hint or "")
    assert parse("10" + "A" * 20).value("10") == "A" * 20


def test_missing_separator_after_a_fixed_length_ai_that_needs_one() -> None:
    error = _error("7003270531120017270500")
    assert error.field == "(7003)"
    assert error.position == 14
    assert parse(f"70032705311200{GS}17270500").value("17") == "270500"


@pytest.mark.parametrize(
    ("data", "position", "field"),
    [
        ("0509501101530003", 0, "(05)"),
        ("01095011015300032361", 16, "(236)"),
        ("]d201095011015300038912", 19, None),
    ],
)
def test_unknown_ai(data: str, position: int, field: str | None) -> None:
    error = _error(data)
    assert error.position == position
    assert error.field == field


@pytest.mark.parametrize(
    ("data", "position"),
    [
        (f"{GS}0109501101530003", 0),
        (f"]d2{GS}0109501101530003", 3),
        (f"10AB{GS}{GS}21X", 5),
        (f"0109501{GS}101530003", 7),
        (f"0109501101530003{GS}{GS}", 17),
    ],
)
def test_gs_where_none_can_be(data: str, position: int) -> None:
    error = _error(data)
    assert error.position == position
    assert "GS" in error.message


def test_gs_tolerated_after_a_complete_element() -> None:
    assert parse(f"0109501101530003{GS}17270500{GS}").ais() == ("01", "17")
    assert parse(f"]d210AB{GS}").value("10") == "AB"


@pytest.mark.parametrize(
    ("data", "position"),
    [("]d2", 3), ("", 0), ("]d1010950110153000", 0), ("]X9123", 0), ("01095011015300", 14)],
)
def test_empty_truncated_or_not_gs1(data: str, position: int) -> None:
    assert _error(data).position == position


@pytest.mark.parametrize("tail", ["1", "24", "700"])
def test_truncated_inside_an_ai(tail: str) -> None:
    error = _error("0109501101530003" + tail)
    assert "ends inside an Application Identifier" in error.message
    assert error.position == 16


def test_empty_value() -> None:
    error = _error("010950110153000310")
    assert error.field == "(10)"
    assert "no value" in error.message


@pytest.mark.parametrize(
    ("ai", "value", "ok"),
    [
        ("17", "270500", True),
        ("11", "250100", True),
        ("15", "240200", True),
        ("17", "270531", True),
        ("17", "270631", False),
        ("17", "270229", False),
        ("17", "280229", True),
        ("17", "271300", False),
        ("17", "270000", False),
        ("7003", "2705311200", True),
        ("7003", "2705001200", False),
        ("7003", "2705312400", False),
        ("7003", "2705312360", False),
    ],
)
def test_dates_in_values(ai: str, value: str, ok: bool) -> None:
    assert bool(FAST_VALIDATORS[ai](value)) is ok
    if ok:
        validate_element(ai, value)
    else:
        with pytest.raises(CodeFormatError) as caught:
            validate_element(ai, value)
        assert caught.value.field == f"({ai})"
        assert caught.value.position in (2, 4, 6, 8)


def test_day_zero_error_is_located_in_the_scan() -> None:
    error = _error(f"]d2010950110153000370032705001200{GS}10A")
    assert error.field == "(7003)"
    assert error.position == 19 + 4 + 4
    assert "day 00" in error.message


def test_bad_month_located_in_the_scan() -> None:
    error = _error("]d2010950110153000317271300")
    assert error.position == 19 + 2 + 2


@pytest.mark.parametrize(
    ("ai", "value", "position"),
    [
        ("01", "0950110153000", 13),
        ("01", "095011015300031", 14),
        ("01", "0950110153000A", 13),
        ("10", "", 0),
        ("37", "12a", 2),
        ("30", "123456789", 8),
        ("20", "1", 1),
    ],
)
def test_validate_element_locates_in_the_value(ai: str, value: str, position: int) -> None:
    with pytest.raises(CodeFormatError) as caught:
        validate_element(ai, value)
    assert caught.value.position == position
    assert caught.value.field == f"({ai})"
    assert caught.value.hint


def test_hri_values_may_contain_parentheses() -> None:
    message = parse_hri("(01)09501101530003(10)A(B)C(123)(21)X(1)")
    assert message.elements == (
        Element("01", "09501101530003"),
        Element("10", "A(B)C(123)"),
        Element("21", "X(1)"),
    )
    assert to_hri(message) == "(01)09501101530003(10)A(B)C(123)(21)X(1)"


def test_hri_errors() -> None:
    with pytest.raises(CodeFormatError, match="must start with a known AI"):
        parse_hri("01)09501101530003")
    with pytest.raises(CodeFormatError, match="must start with a known AI") as unknown:
        parse_hri("(05)1")
    assert unknown.value.field == "(05)"
    with pytest.raises(CheckCharacterError) as bad:
        parse_hri("  (01)09501101530004(10)X")
    assert bad.value.position == 19
    with pytest.raises(CodeFormatError, match="no value"):
        parse_hri("(01)09501101530003(10)(21)X")
    with pytest.raises(CodeFormatError, match="appears twice"):
        parse_hri("(10)A(10)B")
    assert parse_hri(" (10)A \n").value("10") == "A"


def test_message_is_immutable_and_hashable() -> None:
    message = parse(MACHINE)
    with pytest.raises(AttributeError):
        message.elements = ()  # type: ignore[misc]
    assert hash(message) == hash(GS1Message(message.elements))
    assert message == GS1Message(message.elements)
