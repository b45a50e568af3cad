"""Property tests: every form round-trips for generated valid messages."""

from __future__ import annotations

import re
from datetime import date, timedelta

from hypothesis import assume, given
from hypothesis import strategies as st

from serialization.errors import CodeFormatError
from serialization.gs1.ai import CSET82, DEFINITIONS
from serialization.gs1.checkdigit import check_digit
from serialization.gs1.datamatrix import datamatrix_codewords
from serialization.gs1.dates import format_date, parse_date
from serialization.gs1.digital_link import parse_digital_link, to_digital_link
from serialization.gs1.element import GS, Element, encode, parse, parse_hri, to_hri
from serialization.gs1.epc import (
    SGTIN96_MAX_SERIAL,
    decode_sgtin96,
    parse_epc_uri,
    pure_identity_uri,
    sgtin96_hex,
    sgtin_uri,
)
from serialization.gs1.validate import FAST_VALIDATORS, check_value

TODAY = date.today()
CSET82_ALPHABET = "".join(sorted(CSET82))


def _digits(size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=size, max_size=size)


def _key(size: int) -> st.SearchStrategy[str]:
    return _digits(size - 1).map(lambda body: body + check_digit(body))


def _x(max_size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=CSET82_ALPHABET, min_size=1, max_size=max_size)


@st.composite
def _gs1_date(draw: st.DrawFn) -> str:
    day = draw(
        st.dates(
            min_value=TODAY - timedelta(days=40 * 365), max_value=TODAY + timedelta(days=40 * 365)
        )
    )
    if draw(st.booleans()):
        return format_date(day)
    last = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return format_date(last, day_zero=True)


gtins = _key(14)
ATTRIBUTES: dict[str, st.SearchStrategy[str]] = {
    "10": _x(20),
    "21": _x(20),
    "22": _x(20),
    "11": _gs1_date(),
    "17": _gs1_date(),
    "240": _x(30),
    "37": st.integers(1, 99_999_999).map(str),
    "91": _x(90),
    "02": gtins,
    "7003": st.tuples(
        _gs1_date().filter(lambda d: d[4:] != "00"), st.integers(0, 23), st.integers(0, 59)
    ).map(lambda t: f"{t[0]}{t[1]:02d}{t[2]:02d}"),
}


@st.composite
def messages(draw: st.DrawFn, *, key: str | None = None) -> list[Element]:
    key = key or draw(st.sampled_from(["01", "00"]))
    elements = [Element(key, draw(gtins if key == "01" else _key(18)))]
    for ai in draw(st.lists(st.sampled_from(sorted(ATTRIBUTES)), unique=True)):
        elements.append(Element(ai, draw(ATTRIBUTES[ai])))
    return draw(st.permutations(elements))


_AI_IN_PARENTHESES = re.compile(r"\(([0-9]{2,4})\)")


def _hri_ambiguous(elements: list[Element]) -> bool:
    return any(
        match.group(1) in DEFINITIONS
        for _, value in elements
        for match in _AI_IN_PARENTHESES.finditer(value)
    )


@given(messages())
def test_encode_parse(elements: list[Element]) -> None:
    data = encode(elements)
    assert parse("]d2" + data).elements == tuple(elements)
    assert not data.endswith(GS)


@given(messages())
def test_hri_round_trip(elements: list[Element]) -> None:
    assume(not _hri_ambiguous(elements))
    assert parse_hri(to_hri(elements)).elements == tuple(elements)


@given(messages())
def test_digital_link_round_trip(elements: list[Element]) -> None:
    uri = to_digital_link(elements)
    assert dict(parse_digital_link(uri).elements) == dict(elements)
    assert uri.count("?") <= 1


@given(messages())
def test_datamatrix_codewords_decode_to_the_element_string(elements: list[Element]) -> None:
    codewords = datamatrix_codewords(elements)
    assert codewords[0] == 232
    decoded = []
    for codeword in codewords[1:]:
        if codeword == 232:
            decoded.append(GS)
        elif codeword >= 130:
            decoded.append(f"{codeword - 130:02d}")
        else:
            decoded.append(chr(codeword - 1))
    assert "".join(decoded) == encode(elements)


@given(gtins, _x(20), st.integers(6, 12))
def test_sgtin_uri_round_trip(gtin: str, serial: str, prefix_length: int) -> None:
    identity = parse_epc_uri(sgtin_uri(gtin, serial, prefix_length))
    assert (identity.gtin, identity.serial, identity.company_prefix_length) == (
        gtin, serial, prefix_length
    )  # fmt: skip


@given(gtins, st.integers(0, SGTIN96_MAX_SERIAL), st.integers(6, 12), st.integers(0, 7))
def test_sgtin96_round_trip(gtin: str, serial: int, prefix_length: int, filter_value: int) -> None:
    tag = decode_sgtin96(sgtin96_hex(gtin, str(serial), prefix_length, filter_value))
    assert pure_identity_uri(tag) == sgtin_uri(gtin, str(serial), prefix_length)


@given(_gs1_date())
def test_dates_round_trip(value: str) -> None:
    parsed = parse_date(value, ai="17")
    assert format_date(parsed, day_zero=value.endswith("00")) == value


_NEAR_VALID = "0123456789" + "0123456789" + "AZaz-/ #\x1d"


def _assert_validators_agree(ai: str, value: str) -> None:
    try:
        check_value(DEFINITIONS[ai], value)
    except CodeFormatError:
        valid = False
    else:
        valid = True
    assert bool(FAST_VALIDATORS[ai](value)) is valid
    assert bool(FAST_VALIDATORS[ai](value)) is valid, "a remembered value must stay valid"


@given(st.sampled_from(sorted(DEFINITIONS)), st.text(alphabet=_NEAR_VALID, max_size=22))
def test_fast_validator_agrees_with_check_value(ai: str, value: str) -> None:
    _assert_validators_agree(ai, value)


@st.composite
def _date_like(draw: st.DrawFn) -> str:
    yy, mm, dd = draw(st.integers(0, 99)), draw(st.integers(0, 13)), draw(st.integers(0, 32))
    time = draw(st.sampled_from(["", "0000", "2359", "2400", "1260", "9999"]))
    return f"{yy:02d}{mm:02d}{dd:02d}{time}"


@given(st.sampled_from(["11", "12", "13", "15", "16", "17", "7003"]), _date_like())
def test_fast_date_validator_agrees_with_check_value(ai: str, value: str) -> None:
    _assert_validators_agree(ai, value)
