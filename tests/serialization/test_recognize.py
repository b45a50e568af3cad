"""recognize(): any code string a person or a reader hands over, read in every way that holds."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from serialization.codes import ParsedCode, SchemeName
from serialization.errors import CheckCharacterError, CodeFormatError
from serialization.gs1.ai import CSET82
from serialization.gs1.checkdigit import check_digit
from serialization.gs1.digital_link import to_digital_link
from serialization.gs1.element import GS, Element, encode, to_hri
from serialization.gs1.epc import sgtin_uri, sscc_uri
from serialization.iso7064 import mod37_36_check
from serialization.national import NationalCodeFormat
from serialization.recognize import (
    Recognition,
    RecognitionContext,
    describe_error,
    recognize,
    unalias_gs,
)
from serialization.serials import SAFE_ALPHANUMERIC
from serialization.template import CodeTemplate

TODAY = date(2025, 6, 1)
CONTEXT = RecognitionContext(today=TODAY)
GTIN = "09501101530003"
NO_SERIAL = "no serial: this code identifies a product or lot, not one unit"


def only_reading(result: Recognition) -> ParsedCode:
    assert len(result.readings) == 1, (result.readings, result.rejections)
    assert result.best is result.readings[0]
    return result.readings[0]


def field_values(reading: ParsedCode) -> dict[str, str]:
    return dict(reading.code.fields)


def gs1_fields(reading: ParsedCode) -> set[tuple[str, str]]:
    """The (AI, value) pairs a GS1 reading names, whatever their order."""
    pairs = set()
    for name, value in reading.code.fields:
        match = re.fullmatch(r"\((\d{2,4})\) .+", name)
        if match:
            pairs.add((match.group(1), value))
    return pairs


def check_named(reading: ParsedCode, name: str) -> str:
    details = [check.detail for check in reading.checks if check.name == name]
    assert len(details) == 1, reading.checks
    return details[0]


def rejection(result: Recognition, reader: str) -> CodeFormatError:
    errors = [error for name, error in result.rejections if name == reader]
    assert len(errors) == 1, result.rejections
    return errors[0]


# --- codes.md §1.4: element strings, HRI, Digital Link -------------------------------------------

ROWS = [
    pytest.param(
        "]d201095011015300031727050010AB-123\x1d217Q2XK9PZ4M",
        "(01)09501101530003(17)270500(10)AB-123(21)7Q2XK9PZ4M",
        "https://id.gs1.org/01/09501101530003/10/AB-123/21/7Q2XK9PZ4M?17=270500",
        [("01", GTIN), ("17", "270500"), ("10", "AB-123"), ("21", "7Q2XK9PZ4M")],
        id="01-17-10-21",
    ),
    pytest.param(
        "]d20109501101530003217Q2XK9PZ4M\x1d1727053110AB-123",
        "(01)09501101530003(21)7Q2XK9PZ4M(17)270531(10)AB-123",
        "https://id.gs1.org/01/09501101530003/10/AB-123/21/7Q2XK9PZ4M?17=270531",
        [("01", GTIN), ("21", "7Q2XK9PZ4M"), ("17", "270531"), ("10", "AB-123")],
        id="01-21-17-10",
    ),
    pytest.param(
        "]d20109501101530003112501151727013110A1/B2\x1d21X%y&Z",
        "(01)09501101530003(11)250115(17)270131(10)A1/B2(21)X%y&Z",
        "https://id.gs1.org/01/09501101530003/10/A1%2FB2/21/X%25y%26Z?11=250115&17=270131",
        [("01", GTIN), ("11", "250115"), ("17", "270131"), ("10", "A1/B2"), ("21", "X%y&Z")],
        id="01-11-17-10-21",
    ),
    pytest.param(
        "]C100376123450000010008",
        "(00)376123450000010008",
        "https://id.gs1.org/00/376123450000010008",
        [("00", "376123450000010008")],
        id="sscc",
    ),
]


def _expected_key(elements: list[tuple[str, str]]) -> tuple[SchemeName, str]:
    values = dict(elements)
    if "21" in values:
        return SchemeName.GS1, "01" + values["01"] + "21" + values["21"]
    return SchemeName.SSCC, "00" + values["00"]


@pytest.mark.parametrize(("raw", "hri", "link", "elements"), ROWS)
def test_raw_scan_with_symbology_identifier(
    raw: str, hri: str, link: str, elements: list[tuple[str, str]]
) -> None:
    result = recognize(raw, CONTEXT)
    reading = only_reading(result)
    scheme, key = _expected_key(elements)
    assert reading.code.scheme is scheme
    assert reading.code.key == key
    assert reading.code.data == raw[3:]
    assert reading.code.hri == hri
    assert reading.code.symbology == raw[:3]
    assert [(name.split(")")[0][1:], value) for name, value in reading.code.fields[:-1]] == (
        elements
    )
    assert field_values(reading)["Digital Link"] == link
    assert reading.valid
    assert reading.warnings == ()
    assert result.rejections == ()
    assert "read as a GS1 element string" in check_named(reading, "GS1 syntax")


@pytest.mark.parametrize(("raw", "hri", "link", "elements"), ROWS)
def test_raw_scan_without_symbology_identifier(
    raw: str, hri: str, link: str, elements: list[tuple[str, str]]
) -> None:
    result = recognize(raw[3:], CONTEXT)
    gs1 = [r for r in result.readings if r.code.scheme in (SchemeName.GS1, SchemeName.SSCC)]
    assert len(gs1) == 1
    assert gs1[0].code.key == _expected_key(elements)[1]
    assert gs1[0].code.hri == hri
    assert gs1[0].code.symbology == "]d2"


@pytest.mark.parametrize(("raw", "hri", "link", "elements"), ROWS)
def test_hri(raw: str, hri: str, link: str, elements: list[tuple[str, str]]) -> None:
    reading = only_reading(recognize(hri, CONTEXT))
    assert reading.code.key == _expected_key(elements)[1]
    assert reading.code.data == raw[3:]
    assert reading.code.hri == hri
    assert field_values(reading)["Digital Link"] == link
    assert "read as a GS1 HRI" in check_named(reading, "GS1 syntax")


@pytest.mark.parametrize(("raw", "hri", "link", "elements"), ROWS)
def test_digital_link(raw: str, hri: str, link: str, elements: list[tuple[str, str]]) -> None:
    reading = only_reading(recognize(link, CONTEXT))
    scheme, key = _expected_key(elements)
    assert reading.code.scheme is scheme
    assert reading.code.key == key
    assert gs1_fields(reading) == set(elements)
    assert field_values(reading)["Digital Link"] == link
    assert reading.code.symbology == "]Q1"
    # The data is the element string of the link's elements, in the link's order.
    link_order = [Element(ai, value) for ai, value in elements]
    link_order.sort(key=lambda e: ["00", "01", "10", "21", "11", "17"].index(e.ai))
    assert reading.code.data == encode(link_order)
    assert "read as a GS1 Digital Link URI" in check_named(reading, "GS1 syntax")


def test_dates_are_explained_with_day_zero() -> None:
    reading = only_reading(recognize(ROWS[0].values[0], CONTEXT))
    assert check_named(reading, "(17) USE BY or EXPIRY") == (
        "2027-05-31 (day 00: the last day of the month)"
    )
    assert check_named(reading, "(01) check digit") == "3 is correct"
    exact = only_reading(recognize(ROWS[1].values[0], CONTEXT))
    assert check_named(exact, "(17) USE BY or EXPIRY") == "2027-05-31"
    both = only_reading(recognize(ROWS[2].values[0], CONTEXT))
    assert check_named(both, "(11) PROD DATE") == "2025-01-15"
    assert check_named(both, "(17) USE BY or EXPIRY") == "2027-01-31"


def test_dates_use_the_contexts_today_for_the_century() -> None:
    late = RecognitionContext(today=date(2080, 1, 1))
    reading = only_reading(recognize("(01)09501101530003(17)270500(21)1", late))
    assert check_named(reading, "(17) USE BY or EXPIRY").startswith("2127-05-31")


def test_sscc_check_digit_is_named() -> None:
    reading = only_reading(recognize("]C100376123450000010008", CONTEXT))
    assert check_named(reading, "(00) check digit") == "8 is correct"


# --- codes.md §1.5: EPC URIs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "key", "prefix_length"),
    [
        ("urn:epc:id:sgtin:9501101.053000.7Q2XK9PZ4M", "0109501101530003217Q2XK9PZ4M", 7),
        ("urn:epc:id:sgtin:950110153.0000.7Q2XK9PZ4M", "0109501101530003217Q2XK9PZ4M", 9),
        ("urn:epc:id:sgtin:0614141.812345.12345", "01806141411234582112345", 7),
        ("urn:epc:id:sgtin:9501101.053000.A1%2FB2", "010950110153000321A1/B2", 7),
    ],
)
def test_epc_sgtin(uri: str, key: str, prefix_length: int) -> None:
    reading = only_reading(recognize(uri, CONTEXT))
    assert reading.code.scheme is SchemeName.GS1
    assert reading.code.key == key
    assert reading.code.data == key
    assert check_named(reading, "EPC company prefix") == (
        f"{prefix_length} digits, as the URI gives it"
    )
    assert "read as a GS1 EPC URI" in check_named(reading, "GS1 syntax")
    assert reading.warnings == ()


@pytest.mark.parametrize(
    ("uri", "sscc", "prefix_length"),
    [
        ("urn:epc:id:sscc:7612345.3000001000", "376123450000010008", 7),
        ("urn:epc:id:sscc:0614141.1123456789", "106141411234567897", 7),
        ("urn:epc:id:sscc:061414112.13456789", "106141411234567897", 9),
    ],
)
def test_epc_sscc(uri: str, sscc: str, prefix_length: int) -> None:
    reading = only_reading(recognize(uri, CONTEXT))
    assert reading.code.scheme is SchemeName.SSCC
    assert reading.code.key == "00" + sscc
    assert reading.code.hri == f"(00){sscc}"
    assert check_named(reading, "(00) check digit") == f"{sscc[-1]} is correct"
    assert check_named(reading, "EPC company prefix").startswith(str(prefix_length))


def test_epc_uri_error_is_located() -> None:
    result = recognize("urn:epc:id:sgtin:9501101.05300.X")
    assert result.readings == ()
    error = rejection(result, "EPC URI")
    assert error.field == "indicator and item reference"
    assert error.position == len("urn:epc:id:sgtin:9501101.")


# --- NMPA 20-digit code --------------------------------------------------------------------------

NMPA = "8100001" + "123456789" + "1234"


def test_nmpa20_without_context() -> None:
    result = recognize(NMPA)
    reading = only_reading(result)
    assert reading.code.scheme is SchemeName.NMPA20
    assert reading.code.key == reading.code.data == reading.code.hri == NMPA
    assert reading.code.fields == (
        ("drug_id", "8100001"),
        ("serial", "123456789"),
        ("check", "1234"),
    )
    assert reading.code.symbology == "]C0"
    assert [check.name for check in reading.checks] == ["shape"]
    assert any("cannot be verified" in warning for warning in reading.warnings)
    # It was also tried as GS1 data: (8100) is no AI, and the rejection says where.
    error = rejection(result, "GS1 element string")
    assert error.position == 0


def test_nmpa20_with_drug_ids() -> None:
    reading = only_reading(recognize(NMPA, RecognitionContext(drug_ids={"8100001", "8100002"})))
    assert reading.code.scheme is SchemeName.NMPA20
    assert check_named(reading, "drug ID") == "8100001 is in the product master data"


def test_nmpa20_with_unknown_drug_id() -> None:
    result = recognize(NMPA, RecognitionContext(drug_ids={"8100002"}))
    assert result.readings == ()
    error = rejection(result, "NMPA 20-digit code")
    assert error.field == "drug_id"
    assert error.position == 0
    assert "8100002" in (error.hint or "")


def test_nmpa20_with_code128_symbology_identifier() -> None:
    result = recognize("]C0" + NMPA)
    reading = only_reading(result)
    assert reading.code.key == NMPA
    assert result.rejections == ()


SSCC_OR_NMPA = "00376123450000010008"


def test_twenty_digits_that_are_also_an_sscc_element_string_give_both_readings() -> None:
    result = recognize(SSCC_OR_NMPA)
    assert {reading.code.scheme for reading in result.readings} == {
        SchemeName.NMPA20,
        SchemeName.SSCC,
    }
    assert len(result.readings) == 2
    assert result.rejections == ()
    by_scheme = {reading.code.scheme: reading for reading in result.readings}
    assert by_scheme[SchemeName.NMPA20].code.key == SSCC_OR_NMPA
    assert field_values(by_scheme[SchemeName.NMPA20])["drug_id"] == "0037612"
    assert by_scheme[SchemeName.SSCC].code.key == SSCC_OR_NMPA
    assert by_scheme[SchemeName.SSCC].code.hri == "(00)376123450000010008"
    assert result.best in result.readings


def test_twenty_digit_ambiguity_with_drug_ids() -> None:
    known = recognize(SSCC_OR_NMPA, RecognitionContext(drug_ids={"0037612"}))
    assert {r.code.scheme for r in known.readings} == {SchemeName.NMPA20, SchemeName.SSCC}
    unknown = recognize(SSCC_OR_NMPA, RecognitionContext(drug_ids={"8100001"}))
    reading = only_reading(unknown)
    assert reading.code.scheme is SchemeName.SSCC
    assert rejection(unknown, "NMPA 20-digit code").field == "drug_id"


def test_twenty_digits_behind_a_gs1_symbology_identifier_are_gs1_only() -> None:
    reading = only_reading(recognize("]C1" + SSCC_OR_NMPA))
    assert reading.code.scheme is SchemeName.SSCC


# --- National trace code -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uscc",
    ["91110000101623741K", "911101066976941872", "91350100M000100Y43", "91440300MA5H0HLK5U"],
)
def test_national_code(uscc: str) -> None:
    text = f"{uscc}.01111010.110105.2.ABC123"
    result = recognize(text)
    national = [r for r in result.readings if r.code.scheme is SchemeName.NATIONAL]
    assert len(national) == 1
    reading = national[0]
    assert result.best is reading, "the national reading comes first"
    assert reading.code.key == reading.code.data == text
    assert reading.code.symbology == "]Q1"
    assert field_values(reading) == {
        "uscc": uscc,
        "product_class": "01111010",
        "origin": "110105",
        "attribute_id": "2",
        "attribute_code": "ABC123",
    }
    assert check_named(reading, "USCC check character") == f"{uscc[-1]} is correct (GB 32100)"
    assert check_named(reading, "attribute identifier").startswith("2: serial number")


def test_national_code_with_a_wrong_uscc_check_is_rejected_with_its_location() -> None:
    result = recognize("91110000101623741A.01111010.110105.2.ABC123")
    assert all(r.code.scheme is not SchemeName.NATIONAL for r in result.readings)
    error = rejection(result, "national trace code")
    assert isinstance(error, CheckCharacterError)
    assert error.field == "uscc.check"
    assert error.position == 17
    assert (error.expected, error.found) == ("K", "A")
    assert describe_error(error).endswith("[expected K, found A]")


def test_national_code_in_a_configured_format() -> None:
    slash = NationalCodeFormat(delimiter="/")
    text = "91110000101623741K/01111010/110105/6/PALLET1"
    context = RecognitionContext(national_formats=(NationalCodeFormat(), slash))
    result = recognize(text, context)
    reading = result.readings[0]
    assert reading.code.scheme is SchemeName.NATIONAL
    assert reading.code.key == text
    assert field_values(reading)["attribute_code"] == "PALLET1"
    assert check_named(reading, "attribute identifier").startswith("6: logistic unit")
    assert all(r.code.scheme is not SchemeName.NATIONAL for r in recognize(text).readings)


# --- Configured templates ------------------------------------------------------------------------

TEMPLATE = CodeTemplate.compile("TG{lot:1-6}-{serial:10}{check}", "mod37_36")
TEMPLATE_CONTEXT = RecognitionContext(templates=(("plant", TEMPLATE),))
TEMPLATE_CODE = "TGA1-K7NP3W9XQ2" + mod37_36_check("TGA1K7NP3W9XQ2")


@pytest.mark.parametrize("prefix", ["", "]d1"])
def test_template(prefix: str) -> None:
    result = recognize(prefix + TEMPLATE_CODE, TEMPLATE_CONTEXT)
    reading = only_reading(result)
    assert reading.code.scheme is SchemeName.TEMPLATE
    assert reading.code.key == TEMPLATE_CODE
    assert field_values(reading) == {
        "lot": "A1",
        "serial": "K7NP3W9XQ2",
        "check": TEMPLATE_CODE[-1],
    }
    assert check_named(reading, "template") == "matches TG{lot:1-6}-{serial:10}{check}"
    assert check_named(reading, "mod37_36 check character") == "correct"


def test_template_is_only_tried_when_configured() -> None:
    result = recognize(TEMPLATE_CODE)
    assert result.readings == ()
    assert [name for name, _ in result.rejections] == ["GS1 element string"]


def test_template_with_a_wrong_check_character_is_rejected_with_its_location() -> None:
    wrong = TEMPLATE_CODE[:-1] + ("0" if TEMPLATE_CODE[-1] != "0" else "1")
    result = recognize(wrong, TEMPLATE_CONTEXT)
    assert result.readings == ()
    error = rejection(result, "template plant")
    assert isinstance(error, CheckCharacterError)
    assert error.field == "check"
    assert error.position == len(wrong) - 1
    assert error.expected == TEMPLATE_CODE[-1]


# --- GS separators typed by people ---------------------------------------------------------------


@pytest.mark.parametrize("alias", ["<GS>", "\\x1d", "\\x1D", "{GS}", "␝", GS])
def test_unalias_gs(alias: str) -> None:
    typed = f"]d2010950110153000310AB-123{alias}217Q2XK9PZ4M"
    text = unalias_gs(typed)
    assert text == "]d2010950110153000310AB-123\x1d217Q2XK9PZ4M"
    reading = only_reading(recognize(text))
    assert reading.code.key == "0109501101530003217Q2XK9PZ4M"
    assert field_values(reading)["(10) BATCH/LOT"] == "AB-123"


def test_unalias_gs_replaces_every_alias_and_nothing_else() -> None:
    assert unalias_gs("a<GS>b{GS}c\\x1dd\\x1De␝f") == "a\x1db\x1dc\x1dd\x1de\x1df"
    assert unalias_gs("(10)<G>S{gs}\\x1e") == "(10)<G>S{gs}\\x1e"


def test_a_typed_alias_is_not_a_separator_until_unaliased() -> None:
    """`<` and `>` are CSET 82: without unalias_gs, `<GS>` is read as part of the lot."""
    result = recognize("]d2010950110153000310AB-123<GS>217Q2XK9PZ4M")
    assert result.readings == ()
    error = rejection(result, "GS1 element string")
    assert error.field == "(10)"
    assert error.position == len("]d20109501101530003") + 2 + 20
    assert "GS separator" in (error.hint or "")
    short = only_reading(recognize("]d2010950110153000310A<GS>21X"))
    assert field_values(short)["(10) BATCH/LOT"] == "A<GS>21X"
    assert short.warnings == (NO_SERIAL,)
    fixed = only_reading(recognize(unalias_gs("]d2010950110153000310A<GS>21X")))
    assert fixed.code.key == "010950110153000321X"


# --- Rejections carry located errors -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reader", "position"),
    [
        ("]d20109501101530004217Q2", "GS1 element string", 18),
        ("0109501101530004217Q2", "GS1 element string", 15),
        ("(01)09501101530004(21)7Q2", "GS1 HRI", 17),
        ("https://id.gs1.org/01/09501101530004/21/7Q2", "GS1 Digital Link", 35),
    ],
)
def test_wrong_gtin_check_digit_names_position_and_expected_digit(
    text: str, reader: str, position: int
) -> None:
    result = recognize(text)
    assert result.readings == ()
    assert result.best is None
    error = rejection(result, reader)
    assert isinstance(error, CheckCharacterError)
    assert error.field == "(01)"
    assert error.position == position
    assert text[position] == "4"
    assert (error.expected, error.found) == ("3", "4")
    assert error.hint == "the key with a correct check digit is 09501101530003"
    line = describe_error(error)
    assert line.startswith(f"(01) at character {position + 1}: check digit should be 3, not 4")
    assert line.endswith("[expected 3, found 4]")


def test_bad_character_in_a_digital_link_is_located_in_the_uri() -> None:
    uri = "https://id.gs1.org/01/09501101530003/21/X%20Y"
    error = rejection(recognize(uri), "GS1 Digital Link")
    assert error.field == "(21)"
    assert uri[error.position or 0 :].startswith("%20")


def test_missing_separator_reads_the_serial_into_the_lot() -> None:
    """Without the GS the lot swallows the serial: a valid, but serial-less, message."""
    reading = only_reading(recognize("]d2010950110153000310AB-123217Q2XK9PZ4M"))
    assert field_values(reading)["(10) BATCH/LOT"] == "AB-123217Q2XK9PZ4M"
    assert reading.warnings == (NO_SERIAL,)


def test_describe_error_of_a_plain_format_error() -> None:
    error = rejection(recognize("0037612345000001000X"), "GS1 element string")
    assert describe_error(error) == str(error)
    assert error.field == "(00)"
    assert error.position == 19


# --- Codes that do not identify one unit ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "(01)09501101530003(10)AB-123",
        "]d20109501101530003",
        "https://id.gs1.org/01/09501101530003/10/AB-123?17=270500",
        "(17)270500",
    ],
)
def test_a_code_without_serial_is_not_one_unit(text: str) -> None:
    reading = only_reading(recognize(text, CONTEXT))
    assert reading.code.scheme is SchemeName.GS1
    assert reading.warnings == (NO_SERIAL,)
    assert reading.code.key == reading.code.data
    assert reading.valid


# --- Garbage -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello world",
        "<html>",
        "]d2",
        "]d2hello",
        "]X9 something",
        "urn:epc:id:sgtin:garbage",
        "urn:epc:id:giai:0614141.12345",
        "https://example.com/",
        "https://id.gs1.org/22/ABC",
        "(99",
        "()",
        "0123456789012345678",
        "1234.5678",
    ],
)
def test_garbage_gives_no_readings(text: str) -> None:
    result = recognize(text)
    assert result.text == text
    assert result.readings == ()
    assert result.best is None
    assert result.rejections
    for name, error in result.rejections:
        assert name
        assert isinstance(error, CodeFormatError)
        assert describe_error(error)


# --- Round trips ---------------------------------------------------------------------------------

serials = st.text(alphabet=SAFE_ALPHANUMERIC, min_size=1, max_size=20)
lots = st.text(alphabet="".join(sorted(CSET82)), min_size=1, max_size=20)
gtins = st.text("0123456789", min_size=13, max_size=13).map(lambda body: body + check_digit(body))


@settings(max_examples=100, deadline=None)
@given(gtin=gtins, serial=serials, lot=lots, expiry=st.sampled_from(["270500", "270531"]))
def test_every_gs1_form_is_recognised_as_the_same_unit(
    gtin: str, serial: str, lot: str, expiry: str
) -> None:
    assume(not re.search(r"\(\d{2,4}\)", lot))  # such lots make HRI ambiguous by design
    elements = [
        Element("01", gtin),
        Element("17", expiry),
        Element("10", lot),
        Element("21", serial),
    ]
    key = f"01{gtin}21{serial}"
    forms = {
        "element string": "]d2" + encode(elements),
        "HRI": to_hri(elements),
        "Digital Link": to_digital_link(elements),
        "EPC URI": sgtin_uri(gtin, serial, 7),
    }
    for form, text in forms.items():
        reading = only_reading(recognize(text, CONTEXT))
        assert reading.code.scheme is SchemeName.GS1, form
        assert reading.code.key == key, form
        assert reading.warnings == (), form
        assert ("21", serial) in gs1_fields(reading), form
        if form != "EPC URI":
            assert gs1_fields(reading) == {tuple(e) for e in elements}, form
            assert field_values(reading)["Digital Link"] == forms["Digital Link"], form


@settings(max_examples=100, deadline=None)
@given(
    prefix_length=st.integers(6, 12),
    body=st.text("0123456789", min_size=17, max_size=17),
)
def test_sscc_forms_round_trip(prefix_length: int, body: str) -> None:
    sscc = body + check_digit(body)
    for text in ("]C100" + sscc, f"(00){sscc}", sscc_uri(sscc, prefix_length)):
        reading = only_reading(recognize(text))
        assert reading.code.scheme is SchemeName.SSCC
        assert reading.code.key == "00" + sscc


@settings(max_examples=100, deadline=None)
@given(st.text("0123456789", min_size=20, max_size=20))
def test_any_twenty_digits_read_as_nmpa20(digits: str) -> None:
    result = recognize(digits)
    nmpa = [r for r in result.readings if r.code.scheme is SchemeName.NMPA20]
    assert len(nmpa) == 1
    assert nmpa[0].code.key == digits
    gs1 = [r for r in result.readings if r.code.scheme is not SchemeName.NMPA20]
    assert len(gs1) + len(result.rejections) == 1


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_recognize_never_raises(text: str) -> None:
    result = recognize(text, TEMPLATE_CONTEXT)
    assert result.text == text
    for reading in result.readings:
        assert reading.valid
        assert reading.code.key


# --- Known gaps ----------------------------------------------------------------------------------


def test_upper_case_digital_link() -> None:
    reading = only_reading(recognize("HTTPS://ID.GS1.ORG/01/09501101530003/21/7Q2XK9PZ4M"))
    assert reading.code.key == "0109501101530003217Q2XK9PZ4M"


def test_digital_link_behind_a_qr_symbology_identifier() -> None:
    reading = only_reading(recognize("]Q1https://id.gs1.org/01/09501101530003/21/7Q2XK9PZ4M"))
    assert reading.code.key == "0109501101530003217Q2XK9PZ4M"
    assert reading.code.symbology == "]Q1"
