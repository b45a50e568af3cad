"""CodeFactory: a product level's codes for one lot, for every scheme; serial_key."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serialization.codes import SchemeName
from serialization.coding import CodeFactory, IssuedCode, serial_key, symbology_for
from serialization.errors import CheckCharacterError, CodeFormatError
from serialization.gs1.ai import CSET82
from serialization.gs1.checkdigit import check_digit
from serialization.gs1.element import GS, Element, encode, parse, parse_hri, to_hri
from serialization.iso7064 import mod37_36_check, mod97_10_check
from serialization.national import NationalCodeFormat, parse_national_code
from serialization.rules import (
    Carrier,
    CodingRule,
    LotData,
    NationalIdentity,
    ProductMaster,
    SerialGenerator,
    SerialSpec,
)
from serialization.serials import SAFE_ALPHANUMERIC
from serialization.template import CodeTemplate

GTIN = "09501101530003"
USCC = "91110000101623741K"
IDENTITY = NationalIdentity(uscc=USCC, product_class="01111010", origin="110105")
DRUG_ID = "8100001"
SERIAL = "7Q2XK9PZ4M"

PRODUCT = ProductMaster(
    id="aspirin-100",
    name="Aspirin 100 mg",
    gtin=GTIN,
    company_prefix="7612345",
    nmpa_drug_id=DRUG_ID,
    national=IDENTITY,
    template_values={"plant": "SH"},
)
LOT = LotData(lot="AB-123", expiry=date(2027, 5, 31), production_date=date(2025, 1, 15))
SPEC = SerialSpec(SerialGenerator.CSPRNG, SAFE_ALPHANUMERIC, 10, 1_000_000)
CSET82_ALPHABET = "".join(sorted(CSET82))
PREDEFINED = {"01", "11", "17"}
"""Of the AIs a factory fills, those of predefined length: never followed by a GS."""


def gs1_rule(ais: tuple[str, ...] = ("01", "17", "10", "21"), **changes: object) -> CodingRule:
    rule = CodingRule(
        id="unit-gs1", scheme=SchemeName.GS1, carrier=Carrier.DATAMATRIX, serial=SPEC, gs1_ais=ais
    )
    return dataclasses.replace(rule, **changes)


def sscc_rule(extension: str = "3") -> CodingRule:
    return CodingRule(
        id="case-sscc",
        scheme=SchemeName.SSCC,
        carrier=Carrier.GS1_128,
        serial=SPEC,
        sscc_extension=extension,
    )


def national_rule(attribute_id: int | None = 2) -> CodingRule:
    return CodingRule(
        id="unit-national",
        scheme=SchemeName.NATIONAL,
        carrier=Carrier.QR,
        serial=SPEC,
        national_attribute_id=attribute_id,
    )


TEMPLATE = "TG{plant:2}{lot:1-6}-{serial:10}{check}"


def template_rule(template: str | None = TEMPLATE, check: str | None = "mod37_36") -> CodingRule:
    return CodingRule(
        id="unit-template",
        scheme=SchemeName.TEMPLATE,
        carrier=Carrier.DATAMATRIX,
        serial=SPEC,
        template=template,
        check=check,
    )


NMPA_RULE = CodingRule(
    id="unit-nmpa", scheme=SchemeName.NMPA20, carrier=Carrier.CODE128, serial=None
)


def expected_gs1_data(elements: list[Element]) -> str:
    """The element string written out by hand: a GS only after a variable-length, non-last AI."""
    parts = []
    for index, (ai, value) in enumerate(elements):
        parts.append(ai + value)
        if ai not in PREDEFINED and index < len(elements) - 1:
            parts.append(GS)
    return "".join(parts)


# --- GS1 -----------------------------------------------------------------------------------------


def test_gs1_codes_md_vector_01_17_10_21() -> None:
    rule = gs1_rule(expiry_day_zero=True)
    code = CodeFactory(rule, PRODUCT, LOT).issue(SERIAL)
    # codes.md §1.3/§1.4, first row: GS after the lot only because the serial follows.
    assert code.data == "01095011015300031727050010AB-123\x1d217Q2XK9PZ4M"
    assert code.hri == "(01)09501101530003(17)270500(10)AB-123(21)7Q2XK9PZ4M"
    assert code.key == "01" + GTIN + "21" + SERIAL
    assert code.serial == SERIAL


def test_gs1_codes_md_vector_serial_before_expiry_and_lot() -> None:
    code = CodeFactory(gs1_rule(("01", "21", "17", "10")), PRODUCT, LOT).issue(SERIAL)
    # codes.md §1.4, second row: the GS now follows the serial, and the lot ends the data.
    assert code.data == "0109501101530003217Q2XK9PZ4M\x1d1727053110AB-123"
    assert code.hri == "(01)09501101530003(21)7Q2XK9PZ4M(17)270531(10)AB-123"
    assert code.key == "010950110153000321" + SERIAL


def test_gs1_with_production_date() -> None:
    code = CodeFactory(gs1_rule(("01", "11", "17", "10", "21")), PRODUCT, LOT).issue("X%y&Z")
    assert code.data == "0109501101530003112501151727053110AB-123\x1d21X%y&Z"
    assert code.hri == "(01)09501101530003(11)250115(17)270531(10)AB-123(21)X%y&Z"
    assert code.key == "010950110153000321X%y&Z"


def test_gs1_lot_last_has_no_trailing_separator() -> None:
    code = CodeFactory(gs1_rule(("01", "21", "10")), PRODUCT, LOT).issue(SERIAL)
    assert code.data == "0109501101530003217Q2XK9PZ4M\x1d10AB-123"
    assert not code.data.endswith(GS)
    assert code.data.count(GS) == 1


def test_gs1_gtin_and_serial_only() -> None:
    code = CodeFactory(gs1_rule(("01", "21")), PRODUCT, LOT).issue(SERIAL)
    assert code.data == "0109501101530003217Q2XK9PZ4M"
    assert GS not in code.data
    assert code.hri == "(01)09501101530003(21)7Q2XK9PZ4M"


@pytest.mark.parametrize(
    ("gtin", "padded"),
    [("95012346", "00000095012346"), ("6901234567892", "06901234567892"), (GTIN, GTIN)],
)
def test_gs1_gtin_padded_to_14_digits(gtin: str, padded: str) -> None:
    product = dataclasses.replace(PRODUCT, gtin=gtin)
    code = CodeFactory(gs1_rule(("01", "21")), product, LOT).issue("1")
    assert code.data == "01" + padded + "211"
    assert code.key == "01" + padded + "211"


def test_gs1_expiry_exact_day_by_default() -> None:
    lot = LotData(lot="L1", expiry=date(2028, 2, 29))
    code = CodeFactory(gs1_rule(), PRODUCT, lot).issue("1")
    assert code.data.startswith("0109501101530003" + "17280229")


@pytest.mark.parametrize(
    ("expiry", "printed"),
    [(date(2027, 5, 31), "270500"), (date(2028, 2, 29), "280200"), (date(2027, 2, 28), "270200")],
)
def test_gs1_expiry_day_zero(expiry: date, printed: str) -> None:
    code = CodeFactory(gs1_rule(expiry_day_zero=True), PRODUCT, LotData("L1", expiry)).issue("1")
    assert code.hri == f"(01){GTIN}(17){printed}(10)L1(21)1"


@pytest.mark.parametrize("expiry", [date(2027, 5, 30), date(2028, 2, 28), date(2027, 6, 1)])
def test_gs1_expiry_day_zero_refuses_a_day_that_is_not_the_month_end(expiry: date) -> None:
    with pytest.raises(CodeFormatError) as info:
        CodeFactory(gs1_rule(expiry_day_zero=True), PRODUCT, LotData("L1", expiry))
    assert expiry.isoformat() in info.value.message
    assert "last day of the month" in (info.value.hint or "")


def test_gs1_production_date_is_never_day_zero() -> None:
    """expiry_day_zero is about (17) only: (11) keeps its exact day."""
    lot = LotData("L1", expiry=date(2027, 5, 31), production_date=date(2025, 1, 31))
    code = CodeFactory(gs1_rule(("01", "11", "17", "10", "21"), expiry_day_zero=True), PRODUCT, lot)
    assert code.issue("1").hri == f"(01){GTIN}(11)250131(17)270500(10)L1(21)1"


def test_gs1_lot_data_not_in_the_rule_is_left_out() -> None:
    code = CodeFactory(gs1_rule(("01", "10", "21")), PRODUCT, LOT).issue("1")
    assert "17" not in code.hri
    assert "(11)" not in code.hri
    assert code.hri == f"(01){GTIN}(10)AB-123(21)1"


def test_gs1_product_without_gtin() -> None:
    product = dataclasses.replace(PRODUCT, gtin=None)
    with pytest.raises(CodeFormatError) as info:
        CodeFactory(gs1_rule(), product, LOT)
    assert info.value.field == "gtin"
    assert "aspirin-100" in info.value.message
    assert info.value.hint == "add its GTIN"


def test_gs1_product_with_a_wrong_gtin_check_digit() -> None:
    product = dataclasses.replace(PRODUCT, gtin="09501101530004")
    with pytest.raises(CheckCharacterError) as info:
        CodeFactory(gs1_rule(), product, LOT)
    assert info.value.field == "gtin"
    assert info.value.expected == "3"
    assert info.value.found == "4"
    assert info.value.position == 13


@pytest.mark.parametrize("ais", [("01", "17", "10"), ("17", "10", "21"), ("01",), ()])
def test_gs1_rule_without_gtin_or_serial(ais: tuple[str, ...]) -> None:
    with pytest.raises(CodeFormatError) as info:
        CodeFactory(gs1_rule(ais), PRODUCT, LOT)
    assert info.value.field == "ais"
    assert "unit-gs1" in info.value.message
    assert "(01)" in (info.value.hint or "")
    assert "(21)" in (info.value.hint or "")


@pytest.mark.parametrize("ai", ["240", "22", "7003", "00"])
def test_gs1_unfillable_ai(ai: str) -> None:
    with pytest.raises(CodeFormatError) as info:
        CodeFactory(gs1_rule(("01", ai, "21")), PRODUCT, LOT)
    assert info.value.field == "ais"
    assert f"({ai})" in info.value.message
    assert info.value.hint == "use AIs 01, 10, 11, 17 and 21"


def test_gs1_serial_listed_twice_is_a_code_format_error() -> None:
    with pytest.raises(CodeFormatError) as info:
        CodeFactory(gs1_rule(("01", "21", "10", "21")), PRODUCT, LOT)
    assert info.value.field == "ais"


@pytest.mark.parametrize(
    ("lot", "position", "what"),
    [("AB 123", 2, "' ' is not allowed"), ("A" * 21, 20, "21 characters long"), ("L#1", 1, "'#'")],
)
def test_gs1_bad_lot(lot: str, position: int, what: str) -> None:
    with pytest.raises(CodeFormatError) as info:
        CodeFactory(gs1_rule(), PRODUCT, LotData(lot, expiry=date(2027, 5, 31)))
    assert info.value.field == "(10)"
    assert info.value.position == position
    assert what in info.value.message
    assert info.value.hint


def test_gs1_lot_of_20_characters_is_accepted() -> None:
    lot = "A" * 20
    code = CodeFactory(gs1_rule(), PRODUCT, LotData(lot, expiry=date(2027, 5, 31))).issue("1")
    assert f"10{lot}{GS}211" in code.data


@pytest.mark.parametrize(
    ("ais", "field", "missing"),
    [
        (("01", "17", "10", "21"), "17", "expiry date"),
        (("01", "11", "21"), "11", "production date"),
    ],
)
def test_gs1_missing_lot_date(ais: tuple[str, ...], field: str, missing: str) -> None:
    with pytest.raises(CodeFormatError) as info:
        CodeFactory(gs1_rule(ais), PRODUCT, LotData("L1"))
    assert info.value.field == field
    assert missing in info.value.message
    assert info.value.hint == f"give the batch its {missing}"


def test_gs1_issue_checked_validates_the_serial() -> None:
    factory = CodeFactory(gs1_rule(), PRODUCT, LOT)
    assert factory.issue_checked(SERIAL) == factory.issue(SERIAL)
    with pytest.raises(CodeFormatError) as info:
        factory.issue_checked("AB 12")
    assert info.value.field == "(21)"
    assert info.value.position == 2
    with pytest.raises(CodeFormatError) as info:
        factory.issue_checked("X" * 21)
    assert info.value.field == "(21)"
    with pytest.raises(CodeFormatError):
        factory.issue_checked("")


@pytest.mark.parametrize("rule", [gs1_rule(), sscc_rule()], ids=["gs1", "sscc"])
def test_gs1_and_sscc_codes_are_not_imported_whole(rule: CodingRule) -> None:
    factory = CodeFactory(rule, PRODUCT, LOT)
    with pytest.raises(CodeFormatError) as info:
        factory.from_data("0109501101530003217Q2XK9PZ4M")
    assert info.value.field == "code"
    assert "serial" in (info.value.hint or "")


AI_ORDERS = [
    ("01", "17", "10", "21"),
    ("01", "21", "17", "10"),
    ("01", "11", "17", "10", "21"),
    ("01", "10", "21"),
    ("01", "21", "10"),
    ("21", "01", "10", "17"),
    ("10", "21", "11", "01"),
]
serials = st.text(alphabet=SAFE_ALPHANUMERIC, min_size=1, max_size=20)
lots = st.text(alphabet=CSET82_ALPHABET, min_size=1, max_size=20)


@settings(max_examples=150, deadline=None)
@given(ais=st.sampled_from(AI_ORDERS), serial=serials, lot=lots, day_zero=st.booleans())
def test_gs1_data_is_the_encoders_and_parses_back(
    ais: tuple[str, ...], serial: str, lot: str, day_zero: bool
) -> None:
    lot_data = LotData(lot, expiry=date(2027, 5, 31), production_date=date(2025, 1, 15))
    code = CodeFactory(gs1_rule(ais, expiry_day_zero=day_zero), PRODUCT, lot_data).issue(serial)
    values = {
        "01": GTIN,
        "10": lot,
        "11": "250115",
        "17": "270500" if day_zero else "270531",
        "21": serial,
    }
    elements = [Element(ai, values[ai]) for ai in ais]
    assert code.data == encode(elements)
    assert code.data == expected_gs1_data(elements)
    assert code.data.count(GS) == sum(1 for ai in ais[:-1] if ai not in PREDEFINED)
    assert not code.data.endswith(GS)
    assert list(parse(code.data).elements) == elements
    assert list(parse("]d2" + code.data).elements) == elements
    assert code.hri == to_hri(elements)
    assert code.key == "01" + GTIN + "21" + serial
    assert code.serial == serial
    if "(" not in lot:
        assert list(parse_hri(code.hri).elements) == elements


@settings(max_examples=100, deadline=None)
@given(serials=st.lists(serials, min_size=2, max_size=5, unique=True))
def test_gs1_distinct_serials_give_distinct_keys(serials: list[str]) -> None:
    factory = CodeFactory(gs1_rule(), PRODUCT, LOT)
    codes = [factory.issue(serial) for serial in serials]
    assert len({code.key for code in codes}) == len(serials)
    assert len({code.data for code in codes}) == len(serials)
    assert [code.serial for code in codes] == serials


# --- SSCC ----------------------------------------------------------------------------------------


def test_sscc_codes_md_vector() -> None:
    # codes.md §1.1: extension 3, company prefix 7612345, serial reference 000001000.
    code = CodeFactory(sscc_rule("3"), PRODUCT, LOT).issue("000001000")
    assert code == IssuedCode(
        key="00376123450000010008",
        serial="000001000",
        data="00376123450000010008",
        hri="(00)376123450000010008",
    )
    assert list(parse(code.data).elements) == [Element("00", "376123450000010008")]


def test_sscc_second_codes_md_vector() -> None:
    # codes.md §1.1: 106141411234567897, prefix 0614141 with extension 1.
    product = dataclasses.replace(PRODUCT, company_prefix="0614141")
    code = CodeFactory(sscc_rule("1"), product, LOT).issue("123456789")
    assert code.data == "00106141411234567897"


@settings(max_examples=100, deadline=None)
@given(
    extension=st.sampled_from("0123456789"),
    prefix=st.integers(6, 12).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n)),
    data=st.data(),
)
def test_sscc_layout_and_check_digit(extension: str, prefix: str, data: st.DataObject) -> None:
    width = 17 - 1 - len(prefix)
    serial = data.draw(st.text("0123456789", min_size=width, max_size=width))
    product = dataclasses.replace(PRODUCT, company_prefix=prefix)
    code = CodeFactory(sscc_rule(extension), product, LOT).issue(serial)
    body = extension + prefix + serial
    assert len(body) == 17
    assert code.data == "00" + body + check_digit(body)
    assert code.key == code.data
    assert code.hri == "(00)" + code.data[2:]
    assert list(parse(code.data).elements) == [Element("00", code.data[2:])]


@pytest.mark.parametrize("serial", ["00001000", "0000010000", "00000100A", "", "00000 100"])
def test_sscc_wrong_serial_reference(serial: str) -> None:
    factory = CodeFactory(sscc_rule(), PRODUCT, LOT)
    with pytest.raises(CodeFormatError) as info:
        factory.issue(serial)
    assert info.value.field == "serial"
    assert "9 digits" in (info.value.hint or "")
    with pytest.raises(CodeFormatError):
        factory.issue_checked(serial)


@pytest.mark.parametrize("prefix", [None, "12345", "1234567890123", "76123A5"])
def test_sscc_needs_a_company_prefix(prefix: str | None) -> None:
    product = dataclasses.replace(PRODUCT, company_prefix=prefix)
    with pytest.raises(CodeFormatError) as info:
        CodeFactory(sscc_rule(), product, LOT)
    assert info.value.field == "company_prefix"
    assert "6-12 digit" in (info.value.hint or "")


@pytest.mark.parametrize("extension", ["", "33", "A"])
def test_sscc_extension_is_one_digit(extension: str) -> None:
    with pytest.raises(CodeFormatError) as info:
        CodeFactory(sscc_rule(extension), PRODUCT, LOT)
    assert info.value.field == "extension"


# --- National trace code -------------------------------------------------------------------------


@pytest.mark.parametrize("attribute_id", [1, 2, 6])
def test_national_codes(attribute_id: int) -> None:
    factory = CodeFactory(national_rule(attribute_id), PRODUCT, LOT)
    code = factory.issue("ABC123")
    prefix = f"{USCC}.01111010.110105.{attribute_id}."
    assert code.data == prefix + "ABC123"
    assert code.key == code.hri == code.data
    assert code.serial == "ABC123"
    parsed = parse_national_code(code.data)
    assert (parsed.uscc, parsed.product_class, parsed.origin) == (USCC, "01111010", "110105")
    assert parsed.attribute_id == attribute_id
    assert parsed.attribute_code == "ABC123"
    assert factory.from_data(code.data) == code
    assert factory.issue_checked("ABC123") == code


def test_national_codes_follow_the_rules_format() -> None:
    slash = NationalCodeFormat(delimiter="/")
    rule = dataclasses.replace(national_rule(6), national_format=slash)
    factory = CodeFactory(rule, PRODUCT, LOT)
    code = factory.issue("PALLET1")
    assert code.data == f"{USCC}/01111010/110105/6/PALLET1"
    assert factory.from_data(code.data) == code
    assert serial_key(rule, PRODUCT, "PALLET1") == code.key
    with pytest.raises(CodeFormatError):
        factory.from_data(f"{USCC}.01111010.110105.6.PALLET1")


@pytest.mark.parametrize("attribute_id", [3, 4, 5])
def test_national_batch_attribute_ids_are_refused(attribute_id: int) -> None:
    with pytest.raises(CodeFormatError) as info:
        CodeFactory(national_rule(attribute_id), PRODUCT, LOT)
    assert info.value.field == "attribute_id"
    assert "batch" in info.value.message
    assert "2 (serial)" in (info.value.hint or "")


def test_national_rule_without_attribute_id_is_refused() -> None:
    with pytest.raises(CodeFormatError) as info:
        CodeFactory(national_rule(None), PRODUCT, LOT)
    assert info.value.field == "attribute_id"


@pytest.mark.parametrize("attribute_id", [0, 7])
def test_national_attribute_id_out_of_range_is_a_code_format_error(attribute_id: int) -> None:
    with pytest.raises(CodeFormatError) as info:
        CodeFactory(national_rule(attribute_id), PRODUCT, LOT)
    assert info.value.field == "attribute_id"


def test_national_product_without_identity() -> None:
    product = dataclasses.replace(PRODUCT, national=None)
    with pytest.raises(CodeFormatError) as info:
        CodeFactory(national_rule(), product, LOT)
    assert info.value.field == "national"


def test_national_issue_checked_validates_the_serial() -> None:
    factory = CodeFactory(national_rule(), PRODUCT, LOT)
    prefix_length = len(f"{USCC}.01111010.110105.2.")
    with pytest.raises(CodeFormatError) as info:
        factory.issue_checked("abc")
    assert info.value.field == "attribute_code"
    assert info.value.position == prefix_length
    assert info.value.hint == "write 'a' in upper case"
    with pytest.raises(CodeFormatError) as info:
        factory.issue_checked("A.B")
    assert info.value.field == "attribute_code"


@pytest.mark.parametrize(
    "other",
    [
        "911101066976941872.01111010.110105.2.ABC123",  # another company (codes.md §4)
        f"{USCC}.01111011.110105.2.ABC123",  # another product class
        f"{USCC}.01111010.110106.2.ABC123",  # another origin
    ],
)
def test_national_from_data_refuses_another_products_code(other: str) -> None:
    factory = CodeFactory(national_rule(), PRODUCT, LOT)
    with pytest.raises(CodeFormatError) as info:
        factory.from_data(other)
    assert info.value.field == "code"
    assert info.value.position == 0
    message = info.value.message
    assert "another product or company" in message
    # Both identities are named: the code's first, then this product's.
    found, _, expected = message.partition(" is not ")
    assert all(segment in expected for segment in (USCC, "01111010", "110105"))
    assert all(segment in found for segment in other.split(".")[:3])
    assert info.value.hint == "import codes of this product only"


def test_national_from_data_refuses_a_wrong_uscc_check() -> None:
    factory = CodeFactory(national_rule(), PRODUCT, LOT)
    with pytest.raises(CheckCharacterError) as info:
        factory.from_data("91110000101623741A.01111010.110105.2.ABC123")
    assert info.value.field == "uscc.check"
    assert info.value.position == 17
    assert info.value.expected == "K"


@pytest.mark.parametrize("attribute_id", [3, 6])
def test_national_from_data_refuses_another_attribute_id(attribute_id: int) -> None:
    factory = CodeFactory(national_rule(2), PRODUCT, LOT)
    with pytest.raises(CodeFormatError):
        factory.from_data(f"{USCC}.01111010.110105.{attribute_id}.ABC123")


# --- Template ------------------------------------------------------------------------------------


def test_template_render_and_check_character() -> None:
    factory = CodeFactory(template_rule(), PRODUCT, LotData("A1"))
    code = factory.issue("K7NP3W9XQ2")
    check = mod37_36_check("TGSHA1K7NP3W9XQ2")
    assert code.data == "TGSHA1-K7NP3W9XQ2" + check
    assert code.key == code.hri == code.data
    assert code.serial == "K7NP3W9XQ2"
    assert CodeTemplate.compile(TEMPLATE, "mod37_36").parse(code.data) == {
        "plant": "SH",
        "lot": "A1",
        "serial": "K7NP3W9XQ2",
    }
    assert factory.from_data(code.data) == code
    assert factory.issue_checked("K7NP3W9XQ2") == code


def test_template_built_in_fields() -> None:
    rule = template_rule("{gtin:14}{expiry:6}{lot:1-6}/{serial:4}{check}", "mod97_10")
    lot = LotData("A1", expiry=date(2027, 5, 31))
    code = CodeFactory(rule, PRODUCT, lot).issue("0001")
    body = GTIN + "270531" + "A1" + "0001"
    assert code.data == f"{GTIN}270531A1/0001" + mod97_10_check(body)


def test_template_from_data_refuses_a_wrong_check_character() -> None:
    factory = CodeFactory(template_rule(), PRODUCT, LotData("A1"))
    good = factory.issue("K7NP3W9XQ2").data
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(CheckCharacterError) as info:
        factory.from_data(wrong)
    assert info.value.field == "check"
    assert info.value.position == len(good) - 1
    assert info.value.expected == good[-1]
    assert info.value.found == wrong[-1]


def test_template_from_data_refuses_another_lots_code() -> None:
    other = CodeFactory(template_rule(), PRODUCT, LotData("B2")).issue("K7NP3W9XQ2").data
    factory = CodeFactory(template_rule(), PRODUCT, LotData("A1"))
    with pytest.raises(CodeFormatError) as info:
        factory.from_data(other)
    assert info.value.field == "lot"
    assert "'B2'" in info.value.message
    assert "'A1'" in info.value.message
    assert "another product or lot" in (info.value.hint or "")


def test_template_from_data_refuses_another_plants_code() -> None:
    beijing = dataclasses.replace(PRODUCT, template_values={"plant": "BJ"})
    other = CodeFactory(template_rule(), beijing, LotData("A1")).issue("K7NP3W9XQ2").data
    factory = CodeFactory(template_rule(), PRODUCT, LotData("A1"))
    with pytest.raises(CodeFormatError) as info:
        factory.from_data(other)
    assert info.value.field == "plant"
    assert "'BJ'" in info.value.message


@pytest.mark.parametrize(
    ("serial", "position"), [("k7np3w9xq2", 0), ("K7NP3W9XQ", 9), ("K7NP3W9XQ2X", 10)]
)
def test_template_refuses_a_bad_serial(serial: str, position: int) -> None:
    factory = CodeFactory(template_rule(), PRODUCT, LotData("A1"))
    with pytest.raises(CodeFormatError) as info:
        factory.issue(serial)
    assert info.value.field == "serial"
    assert info.value.position == position


def test_template_needs_every_field_value() -> None:
    product = dataclasses.replace(PRODUCT, template_values={})
    with pytest.raises(CodeFormatError) as info:
        CodeFactory(template_rule(), product, LotData("A1"))
    assert info.value.field == "plant"


def test_template_checks_the_lot_once_for_the_factory() -> None:
    with pytest.raises(CodeFormatError) as info:
        CodeFactory(template_rule(), PRODUCT, LotData("A-1"))
    assert info.value.field == "lot"
    assert info.value.position == 1


def test_template_rule_without_template() -> None:
    with pytest.raises(CodeFormatError) as info:
        CodeFactory(template_rule(None, None), PRODUCT, LOT)
    assert info.value.field == "template"


@settings(max_examples=100, deadline=None)
@given(
    serial=st.text(SAFE_ALPHANUMERIC, min_size=10, max_size=10),
    lot=st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=6),
)
def test_template_round_trip(serial: str, lot: str) -> None:
    factory = CodeFactory(template_rule(), PRODUCT, LotData(lot))
    code = factory.issue(serial)
    assert factory.from_data(code.data) == code
    body = "TGSH" + lot + serial
    assert code.data == f"TGSH{lot}-{serial}" + mod37_36_check(body)


# --- NMPA 20-digit -------------------------------------------------------------------------------


def test_nmpa20_codes_are_not_generated() -> None:
    factory = CodeFactory(NMPA_RULE, PRODUCT, LOT)
    for issue in (factory.issue, factory.issue_checked):
        with pytest.raises(CodeFormatError) as info:
            issue("123456789")
        assert info.value.field == "serial"
        assert "issued by the platform" in info.value.message
        assert "import" in (info.value.hint or "")


def test_nmpa20_from_data_accepts_this_drugs_code() -> None:
    factory = CodeFactory(NMPA_RULE, PRODUCT, LOT)
    code = factory.from_data(DRUG_ID + "123456789" + "1234")
    assert code == IssuedCode(
        key="81000011234567891234",
        serial="123456789",
        data="81000011234567891234",
        hri="81000011234567891234",
    )


def test_nmpa20_from_data_refuses_another_drug_id() -> None:
    factory = CodeFactory(NMPA_RULE, PRODUCT, LOT)
    with pytest.raises(CodeFormatError) as info:
        factory.from_data("8100002" + "123456789" + "1234")
    assert info.value.field == "drug_id"
    assert info.value.position == 0
    assert DRUG_ID in (info.value.hint or "")


@pytest.mark.parametrize(
    ("code", "field", "position"),
    [
        ("8100001123456789123", "nmpa20", 19),
        ("810000112345678912345", "nmpa20", 20),
        ("81000011234X6789123 4", "serial", 11),
    ],
)
def test_nmpa20_from_data_refuses_a_malformed_code(code: str, field: str, position: int) -> None:
    with pytest.raises(CodeFormatError) as info:
        CodeFactory(NMPA_RULE, PRODUCT, LOT).from_data(code)
    assert info.value.field == field
    assert info.value.position == position


def test_nmpa20_product_without_drug_id() -> None:
    product = dataclasses.replace(PRODUCT, nmpa_drug_id=None)
    with pytest.raises(CodeFormatError) as info:
        CodeFactory(NMPA_RULE, product, LOT)
    assert info.value.field == "nmpa_drug_id"


# --- serial_key ----------------------------------------------------------------------------------


def test_serial_key_gs1() -> None:
    assert serial_key(gs1_rule(), PRODUCT, SERIAL) == "01" + GTIN + "21" + SERIAL
    short = dataclasses.replace(PRODUCT, gtin="6901234567892")
    assert serial_key(gs1_rule(), short, "1") == "01069012345678922" + "11"


@settings(max_examples=100, deadline=None)
@given(serial=serials, lot=lots)
def test_serial_key_gs1_is_the_factorys_key_for_any_lot(serial: str, lot: str) -> None:
    rule = gs1_rule()
    lot_data = LotData(lot, expiry=date(2027, 5, 31))
    assert (
        serial_key(rule, PRODUCT, serial) == CodeFactory(rule, PRODUCT, lot_data).issue(serial).key
    )


def test_serial_key_gs1_refuses_a_bad_serial() -> None:
    with pytest.raises(CodeFormatError) as info:
        serial_key(gs1_rule(), PRODUCT, "AB 1")
    assert info.value.field == "(21)"
    assert info.value.position == 2


def test_serial_key_gs1_refuses_a_product_without_gtin() -> None:
    with pytest.raises(CodeFormatError) as info:
        serial_key(gs1_rule(), dataclasses.replace(PRODUCT, gtin=None), SERIAL)
    assert info.value.field == "gtin"


def test_serial_key_sscc() -> None:
    assert serial_key(sscc_rule(), PRODUCT, "000001000") == "00376123450000010008"
    with pytest.raises(CodeFormatError) as info:
        serial_key(sscc_rule(), PRODUCT, "1000")
    assert info.value.field == "serial"


def test_serial_key_national() -> None:
    key = serial_key(national_rule(), PRODUCT, "ABC123")
    assert key == f"{USCC}.01111010.110105.2.ABC123"
    with pytest.raises(CodeFormatError) as info:
        serial_key(national_rule(), PRODUCT, "abc")
    assert info.value.field == "attribute_code"


@pytest.mark.parametrize("rule", [template_rule(), NMPA_RULE], ids=["template", "nmpa20"])
def test_serial_key_refuses_schemes_imported_whole(rule: CodingRule) -> None:
    with pytest.raises(CodeFormatError) as info:
        serial_key(rule, PRODUCT, "K7NP3W9XQ2")
    assert info.value.field == "serial"
    assert "imported whole" in info.value.message
    assert "column `code`" in (info.value.hint or "")


# --- symbology -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "symbology"),
    [
        (gs1_rule(), "]d2"),
        (gs1_rule(carrier=Carrier.GS1_128), "]C1"),
        (gs1_rule(carrier=Carrier.QR), "]Q3"),
        (sscc_rule(), "]C1"),
        (national_rule(), "]Q1"),
        (template_rule(), "]d1"),
        (NMPA_RULE, "]C0"),
    ],
)
def test_symbology(rule: CodingRule, symbology: str) -> None:
    assert symbology_for(rule) == symbology
    lot = dataclasses.replace(LOT, lot="A1")
    assert CodeFactory(rule, PRODUCT, lot).symbology == symbology
