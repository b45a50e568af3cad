import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from serialization.codes import SchemeName
from serialization.errors import CheckCharacterError, CodeFormatError
from serialization.national import (
    DEFAULT_FORMAT,
    AttributeId,
    NationalCode,
    NationalCodeFormat,
    build_national_code,
    national_trace_code,
    parse_national_code,
)
from serialization.uscc import ALPHABET as USCC_ALPHABET
from serialization.uscc import uscc_check_char

USCC = "91110000101623741K"
CODE = f"{USCC}.27201010.110105.2.7Q2XK9PZ4M"
#        0         1         2         3
#        0123456789012345678901234567890123456789
#        USCC 0-17 . class 19-26 . origin 28-33 . id 35 . code 37-


def test_build_and_parse() -> None:
    built = build_national_code(USCC, "27201010", "110105", AttributeId.SERIAL, "7Q2XK9PZ4M")
    assert built == CODE
    parsed = parse_national_code(CODE)
    assert parsed == NationalCode(USCC, "27201010", "110105", AttributeId.SERIAL, "7Q2XK9PZ4M")
    assert parsed.text == CODE
    assert parsed.warnings == ()


def test_attribute_id_labels() -> None:
    assert [int(a) for a in AttributeId] == [1, 2, 3, 4, 5, 6]
    assert AttributeId.TRADE_UNIT.label_zh == "交易单元编码"
    assert AttributeId.SHIPPING_BATCH.label_zh == "出厂批次编码"
    assert AttributeId.LOGISTIC_UNIT.label_en == "logistic unit"
    assert all(a.label_zh and a.label_en for a in AttributeId)


@pytest.mark.parametrize("attribute_id", list(AttributeId))
def test_every_attribute_id_is_accepted(attribute_id: AttributeId) -> None:
    code = build_national_code(USCC, "27201", "110105", int(attribute_id), "B2024")
    assert parse_national_code(code).attribute_id is attribute_id


@pytest.mark.parametrize("attribute_id", [0, 7, -1, 10])
def test_build_refuses_other_attribute_ids(attribute_id: int) -> None:
    with pytest.raises(CodeFormatError) as info:
        build_national_code(USCC, "27201", "110105", attribute_id, "B2024")
    assert info.value.field == "attribute_id"


def test_build_refuses_bool_attribute_id() -> None:
    with pytest.raises(CodeFormatError):
        build_national_code(USCC, "27201", "110105", True, "B2024")


@pytest.mark.parametrize("attribute_id", ["0", "7", "A", "12", ""])
def test_parse_refuses_other_attribute_ids(attribute_id: str) -> None:
    text = f"{USCC}.27201010.110105.{attribute_id}.7Q2XK9PZ4M"
    with pytest.raises(CodeFormatError) as info:
        parse_national_code(text)
    assert (info.value.field, info.value.position) == ("attribute_id", 35)


@pytest.mark.parametrize(
    ("text", "field", "position"),
    [
        (f"{USCC}.2720101A.110105.2.7Q2XK9PZ4M", "product_class", 26),
        (f"{USCC}.272010101.110105.2.7Q2XK9PZ4M", "product_class", 19),
        (f"{USCC}..110105.2.7Q2XK9PZ4M", "product_class", 19),
        (f"{USCC}.27201010.11010.2.7Q2XK9PZ4M", "origin", 28),
        (f"{USCC}.27201010.1101050.2.7Q2XK9PZ4M", "origin", 28),
        (f"{USCC}.27201010.11O105.2.7Q2XK9PZ4M", "origin", 30),
        (f"{USCC}.27201010.110105.2.7Q2xK9PZ4M", "attribute_code", 40),
        (f"{USCC}.27201010.110105.2.", "attribute_code", 37),
        (f"{USCC}.27201010.110105.2.{'A' * 33}", "attribute_code", 37 + 32),
        (f"{USCC[:-1]}.27201010.110105.2.7Q2XK9PZ4M", "uscc", 17),
        ("91110000I01623741K.27201010.110105.2.7Q2XK9PZ4M", "uscc.organisation_code", 8),
    ],
)
def test_segment_errors_are_located(text: str, field: str, position: int) -> None:
    with pytest.raises(CodeFormatError) as info:
        parse_national_code(text)
    assert (info.value.field, info.value.position) == (field, position)
    assert info.value.hint


def test_lower_case_attribute_code_hint() -> None:
    with pytest.raises(CodeFormatError) as info:
        parse_national_code(f"{USCC}.27201010.110105.2.7q")
    assert "upper case" in (info.value.hint or "")


def test_middle_dot_in_product_class_has_a_hint() -> None:
    with pytest.raises(CodeFormatError) as info:
        parse_national_code(f"{USCC}.01111·010.110105.2.7Q2XK9PZ4M")
    assert (info.value.field, info.value.position) == ("product_class", 24)
    assert "middle dot" in (info.value.hint or "")


def test_uscc_check_error_is_surfaced() -> None:
    with pytest.raises(CheckCharacterError) as info:
        parse_national_code("91310115MA1G4L1WXK.27201010.110105.2.7Q2XK9PZ4M")
    error = info.value
    assert (error.expected, error.found) == ("7", "K")
    assert (error.field, error.position) == ("uscc.check", 17)


def test_uscc_warnings_are_kept() -> None:
    body = "918587832P12455XH"
    code = build_national_code(body + uscc_check_char(body), "27201", "110105", 4, "L240101")
    parsed = parse_national_code(code)
    assert len(parsed.warnings) == 1
    assert "GB 11714" in parsed.warnings[0]


def test_build_positions_are_within_the_segment() -> None:
    with pytest.raises(CodeFormatError) as info:
        build_national_code(USCC, "27201", "11A105", 2, "X1")
    assert (info.value.field, info.value.position) == ("origin", 2)


@pytest.mark.parametrize(
    ("text", "field", "position"),
    [
        (f"{USCC}.27201010.110105.2", "attribute_code", 36),
        (f"{USCC}.27201010", "origin", 27),
        (USCC, "product_class", 18),
        (f"{USCC}.27201010.110105.2.7Q2X.K9PZ4M", "attribute_code", 41),
    ],
)
def test_wrong_number_of_segments(text: str, field: str, position: int) -> None:
    with pytest.raises(CodeFormatError) as info:
        parse_national_code(text)
    assert (info.value.field, info.value.position) == (field, position)


@pytest.mark.parametrize("origin", ["110105", "110105001", "110105001001"])
def test_gb_t_10114_origins(origin: str) -> None:
    code = build_national_code(USCC, "27201010", origin, 5, "S0001")
    assert parse_national_code(code).origin == origin


def test_custom_delimiter_and_widths() -> None:
    fmt = NationalCodeFormat(
        delimiter="/",
        product_class_lengths=(8,),
        origin_lengths=(6,),
        attribute_code_alphabet=string.digits,
        attribute_code_length=(4, 10),
    )
    code = build_national_code(USCC, "27201010", "110105", 6, "0001", fmt=fmt)
    assert code == f"{USCC}/27201010/110105/6/0001"
    parsed = parse_national_code(code, fmt)
    assert parsed.delimiter == "/"
    assert parsed.text == code
    for bad in (
        f"{USCC}/27201/110105/6/0001",
        f"{USCC}/27201010/110105001/6/0001",
        f"{USCC}/27201010/110105/6/001",
        f"{USCC}/27201010/110105/6/000A",
    ):
        with pytest.raises(CodeFormatError):
            parse_national_code(bad, fmt)
    with pytest.raises(CodeFormatError):
        parse_national_code(CODE, fmt)


def test_multi_character_delimiter_positions() -> None:
    fmt = NationalCodeFormat(delimiter="--")
    with pytest.raises(CodeFormatError) as info:
        parse_national_code(f"{USCC}--27201010--11010X--2--7Q2", fmt)
    assert (info.value.field, info.value.position) == ("origin", 35)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"delimiter": ""},
        {"delimiter": "A"},
        {"delimiter": "-", "attribute_code_alphabet": "0123456789-"},
        {"product_class_lengths": ()},
        {"origin_lengths": (0, 6)},
        {"attribute_code_length": (0, 5)},
        {"attribute_code_length": (6, 5)},
        {"attribute_code_alphabet": ""},
    ],
)
def test_bad_formats_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(CodeFormatError) as info:
        NationalCodeFormat(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == "format"


def test_trace_code() -> None:
    code = national_trace_code(parse_national_code(CODE))
    assert code.scheme is SchemeName.NATIONAL
    assert code.key == code.data == code.hri == CODE
    assert code.symbology == "]Q1"
    assert code.field("uscc") == USCC
    assert code.field("product_class") == "27201010"
    assert code.field("origin") == "110105"
    assert code.field("attribute_id") == "2"
    assert code.field("attribute_code") == "7Q2XK9PZ4M"


_USCC_BODIES = st.builds(
    lambda head, region, rest: head + region + rest,
    st.text(st.sampled_from(USCC_ALPHABET), min_size=2, max_size=2),
    st.text(st.sampled_from(string.digits), min_size=6, max_size=6),
    st.text(st.sampled_from(USCC_ALPHABET), min_size=9, max_size=9),
)
_DIGITS = st.sampled_from(string.digits)


@given(
    uscc_body=_USCC_BODIES,
    product_class=st.sampled_from(DEFAULT_FORMAT.product_class_lengths).flatmap(
        lambda n: st.text(_DIGITS, min_size=n, max_size=n)
    ),
    origin=st.sampled_from(DEFAULT_FORMAT.origin_lengths).flatmap(
        lambda n: st.text(_DIGITS, min_size=n, max_size=n)
    ),
    attribute_id=st.sampled_from(AttributeId),
    attribute_code=st.text(
        st.sampled_from(DEFAULT_FORMAT.attribute_code_alphabet), min_size=1, max_size=32
    ),
)
def test_round_trip(
    uscc_body: str, product_class: str, origin: str, attribute_id: AttributeId, attribute_code: str
) -> None:
    uscc = uscc_body + uscc_check_char(uscc_body)
    code = build_national_code(uscc, product_class, origin, attribute_id, attribute_code)
    parsed = parse_national_code(code)
    assert (parsed.uscc, parsed.product_class, parsed.origin) == (uscc, product_class, origin)
    assert (parsed.attribute_id, parsed.attribute_code) == (attribute_id, attribute_code)
    assert national_trace_code(parsed).key == code


@given(
    delimiter=st.sampled_from(["/", "|", "-", "::", "#"]),
    attribute_code=st.text(st.sampled_from(string.digits), min_size=3, max_size=12),
)
def test_round_trip_custom_format(delimiter: str, attribute_code: str) -> None:
    fmt = NationalCodeFormat(
        delimiter=delimiter,
        product_class_lengths=(8,),
        attribute_code_alphabet=string.digits,
        attribute_code_length=(3, 12),
    )
    code = build_national_code(USCC, "27201010", "110105001", 3, attribute_code, fmt=fmt)
    assert parse_national_code(code, fmt).text == code
