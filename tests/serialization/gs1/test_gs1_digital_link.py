"""GS1 Digital Link: codes.md §1.4 vectors both ways, path order and located errors."""

from __future__ import annotations

import pytest

from serialization.errors import CheckCharacterError, CodeFormatError
from serialization.gs1.digital_link import parse_digital_link, to_digital_link
from serialization.gs1.element import Element, parse, parse_hri

VECTORS = [
    (
        "]d201095011015300031727050010AB-123\x1d217Q2XK9PZ4M",
        "https://id.gs1.org/01/09501101530003/10/AB-123/21/7Q2XK9PZ4M?17=270500",
    ),
    (
        "]d20109501101530003217Q2XK9PZ4M\x1d1727053110AB-123",
        "https://id.gs1.org/01/09501101530003/10/AB-123/21/7Q2XK9PZ4M?17=270531",
    ),
    (
        "]d20109501101530003112501151727013110A1/B2\x1d21X%y&Z",
        "https://id.gs1.org/01/09501101530003/10/A1%2FB2/21/X%25y%26Z?11=250115&17=270131",
    ),
    ("]C100376123450000010008", "https://id.gs1.org/00/376123450000010008"),
]


def _by_ai(elements: object) -> dict[str, str]:
    assert isinstance(elements, tuple)
    return dict(elements)


@pytest.mark.parametrize(("raw", "uri"), VECTORS)
def test_scan_to_digital_link_and_back(raw: str, uri: str) -> None:
    message = parse(raw)
    assert to_digital_link(message) == uri
    back = parse_digital_link(uri)
    assert _by_ai(back.elements) == _by_ai(message.elements)


def test_parsed_order_is_path_then_query() -> None:
    message = parse_digital_link(VECTORS[2][1])
    assert message.ais() == ("01", "10", "21", "11", "17")


def test_domain_and_prefix() -> None:
    message = parse_hri("(01)09501101530003(21)S1")
    assert to_digital_link(message, domain="https://example.com/dl/") == (
        "https://example.com/dl/01/09501101530003/21/S1"
    )
    parsed = parse_digital_link("https://example.com/a/01/b/01/09501101530003/21/S1#frag")
    assert parsed.value("01") == "09501101530003"
    with pytest.raises(CodeFormatError) as caught:
        to_digital_link(message, domain="example.com")
    assert caught.value.field == "domain"


def test_other_ais_go_to_the_query_in_message_order() -> None:
    message = parse_hri("(01)09501101530003(17)270500(240)A+B(11)250115(10)L")
    assert to_digital_link(message) == (
        "https://id.gs1.org/01/09501101530003/10/L?17=270500&240=A%2BB&11=250115"
    )
    assert parse_digital_link(to_digital_link(message)).value("240") == "A+B"


def test_cpv_qualifier() -> None:
    message = parse_hri("(01)09501101530003(21)S(22)V(10)L")
    uri = to_digital_link(message)
    assert uri == "https://id.gs1.org/01/09501101530003/22/V/10/L/21/S"
    assert parse_digital_link(uri).ais() == ("01", "22", "10", "21")


def test_primary_key_required_and_single() -> None:
    with pytest.raises(CodeFormatError, match="exactly one primary key"):
        to_digital_link([Element("10", "L")])
    with pytest.raises(CodeFormatError, match="exactly one primary key"):
        to_digital_link(parse_hri("(00)376123450000010008(01)09501101530003"))


def test_invalid_message_is_refused() -> None:
    with pytest.raises(CheckCharacterError):
        to_digital_link([Element("01", "09501101530004")])


def _error(uri: str) -> CodeFormatError:
    with pytest.raises(CodeFormatError) as caught:
        parse_digital_link(uri)
    return caught.value


def test_serial_before_lot_is_refused() -> None:
    uri = "https://id.gs1.org/01/09501101530003/21/S1/10/L1"
    error = _error(uri)
    assert error.field == "(10)"
    assert error.position == uri.index("/10/") + 1
    assert "must come before (21)" in error.message


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("https://id.gs1.org/01/09501101530003/10/A/10/A", "twice"),
        ("https://id.gs1.org/01/09501101530003/17/270500", "cannot follow (01)"),
        ("https://id.gs1.org/00/376123450000010008/21/S", "cannot follow (00)"),
        ("https://id.gs1.org/01/09501101530003?10=L", "belongs in the path"),
        ("https://id.gs1.org/01/09501101530003/21/S?21=S", "belongs in the path"),
        ("https://id.gs1.org/01/09501101530003?00=376123450000010008", "primary key"),
        ("https://id.gs1.org/01/09501101530003?17=270500&17=270500", "twice"),
        ("https://id.gs1.org/01/09501101530003?05=1", "unknown Application Identifier"),
        ("https://id.gs1.org/10/L", "no primary key"),
        ("https://id.gs1.org/", "no primary key"),
        ("ftp://id.gs1.org/01/09501101530003", "https://"),
        ("https:///01/09501101530003", "no domain"),
        ("https://id.gs1.org", "no domain"),
        ("https://id_gs1.org/01/09501101530003", "domain"),
        ("https://id.gs1.org/01/09501101530003/10/A B", "cannot appear in a URI"),
        ("https://id.gs1.org/01/09501101530003/10/A%2", "percent-escape"),
        ("https://id.gs1.org/01/9501101530003", "14"),
        ("https://id.gs1.org/01/09501101530003?17=271300", "month"),
        ("https://id.gs1.org/01/09501101530003?17=", "no value"),
        ("https://id.gs1.org/01/09501101530003/10/", "no value"),
        ("https://id.gs1.org/01/09501101530003/10/A%20B", "not allowed"),
        ("https://id.gs1.org/01/09501101530003?10=A+B", "belongs in the path"),
        ("https://id.gs1.org/01/09501101530003?240=A+B", "not allowed"),
    ],
)
def test_invalid_digital_links(uri: str, fragment: str) -> None:
    error = _error(uri)
    assert fragment in str(error)
    assert error.position is not None
    assert 0 <= error.position <= len(uri)


def test_check_digit_error_located_in_the_uri() -> None:
    uri = "https://id.gs1.org/01/09501101530004/21/S"
    error = _error(uri)
    assert isinstance(error, CheckCharacterError)
    assert error.position == uri.index("0004") + 3


def test_percent_escaped_character_error_located_at_the_escape() -> None:
    uri = "https://id.gs1.org/01/09501101530003/10/AB%23C"
    error = _error(uri)
    assert error.position == uri.index("%23")


def test_non_ai_query_parameters_are_ignored() -> None:
    message = parse_digital_link(
        "https://id.gs1.org/01/09501101530003?linkType=gs1:pip&17=270500&flag&&"
    )
    assert message.ais() == ("01", "17")


def test_uppercase_scheme_and_lowercase_escapes() -> None:
    message = parse_digital_link("HTTPS://id.gs1.org/01/09501101530003/10/A1%2fB2")
    assert message.value("10") == "A1/B2"
