"""One planted mistake per case: each must be reported at its key and line, in plain words."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from config import Severity

LineOf = Callable[..., int]


@dataclass(frozen=True)
class Planted:
    id: str
    old: str
    new: str
    location: str
    marker: str
    """Text on the line the problem must point at (in the edited file)."""
    message: str
    """Part of the message that says what is wrong."""
    hint: str | None = None
    """Part of the hint, when the fix is worth checking."""
    occurrence: int = 1


GS1_SERIAL = "      length: 12\n      planned_volume: 10_000_000"
GS1_LEVELS = (
    "      - level: unit\n        coding_rule: gs1-unit\n"
    "      - level: case\n        coding_rule: sscc-case\n        quantity: 20"
)
AIS = 'ais: ["01", "17", "10", "21"]'
TEMPLATE = 'template: "TG{plant:2}-{serial:10}{check}"'

CASES = [
    Planted(
        "gtin-check-digit",
        'gtin: "09501101530003"',
        'gtin: "09501101530004"',
        "products[0].gtin",
        "09501101530004",
        "check digit should be 3",
        "09501101530003",
    ),
    Planted(
        "gtin-as-yaml-int",
        'gtin: "09501101530003"',
        "gtin: 9501101530003",
        "products[0].gtin",
        "gtin: 9501101530003",
        "YAML read 9501101530003 as a number",
        'gtin: "9501101530003"',
    ),
    Planted(
        "gtin-leading-zero-int",
        'gtin: "09501101530003"',
        "gtin: 01234567",
        "products[0].gtin",
        "gtin: 01234567",
        "drop leading zeros",
        '"01234567"',
    ),
    Planted(
        "misspelled-key",
        "    name: GS1 product",
        "    nmae: GS1 product",
        "products[0].nmae",
        "nmae:",
        "unknown key 'nmae'",
        "did you mean 'name'?",
    ),
    Planted(
        "duplicate-product-id",
        "  - id: p-nmpa",
        "  - id: p-gs1",
        "products[1].id",
        "id: p-gs1",
        "duplicate product id 'p-gs1' (also products[0])",
        occurrence=2,
    ),
    Planted(
        "unknown-coding-rule",
        "coding_rule: national",
        "coding_rule: natinal",
        "products[2].levels[0].coding_rule",
        "coding_rule: natinal",
        "unknown coding rule 'natinal'",
        "did you mean 'national'?",
    ),
    Planted(
        "uscc-check-character",
        "uscc: 91110105MA01TG8P53",
        "uscc: 91110105MA01TG8P54",
        "site.uscc",
        "uscc:",
        "check character should be 3, not 4",
    ),
    Planted(
        "guessable-serial",
        GS1_SERIAL,
        "      length: 10\n      planned_volume: 5_000_000",
        "coding_rules[0].serial.length",
        "length: 10",
        "guessing probability of 5.0e-04",
        "add 1 character",
    ),
    Planted(
        "nmpa20-with-generator",
        "    scheme: nmpa20",
        "    scheme: nmpa20\n    serial:\n      generator: csprng",
        "coding_rules[2].serial.generator",
        "generator: csprng",
        "the platform issues them whole",
        "generator: imported",
        occurrence=3,
    ),
    Planted(
        "gs1-without-serial-ai",
        AIS,
        'ais: ["01", "17", "10"]',
        "coding_rules[0].ais",
        "ais:",
        "(21) missing",
    ),
    Planted(
        "unknown-ai",
        AIS,
        'ais: ["01", "17", "10", "21", "99x"]',
        "coding_rules[0].ais[4]",
        "ais:",
        "unknown Application Identifier '99x'",
    ),
    Planted(
        "ai-the-gateway-cannot-fill",
        AIS,
        'ais: ["01", "17", "10", "21", "22"]',
        "coding_rules[0].ais[4]",
        "ais:",
        "AI (22) CPV is a GS1 AI, but the gateway has no value",
        "01 the product's GTIN",
    ),
    Planted(
        "ais-as-yaml-ints",
        AIS,
        "ais: [01, 17, 10, 21]",
        "coding_rules[0].ais[0]",
        "ais:",
        "YAML read 01 as a number",
        'write "01"',
    ),
    Planted(
        "low-water-not-below-size",
        "low_water: 20",
        "low_water: 100",
        "lines[0].code_buffer.low_water",
        "low_water: 100",
        "must be below size 100",
    ),
    Planted(
        "duplicate-yaml-key",
        "  timezone: Asia/Shanghai",
        "  timezone: Asia/Shanghai\n  timezone: Asia/Shanghai",
        "site.timezone",
        "timezone:",
        "duplicate key 'timezone' (first written at line 7)",
        occurrence=2,
    ),
    Planted(
        "yaml-syntax-error",
        "    name: GS1 product",
        "    name: GS1 product\n   bad: [1",
        "(file)",
        "bad: [1",
        "YAML syntax",
        "indented differently",
    ),
    Planted(
        "gtin-not-under-company-prefix",
        'gtin: "09501101530003"',
        'gtin: "09502101530000"',
        "products[0].gtin",
        "09502101530000",
        "not under company prefix 9501101",
    ),
    Planted(
        "unknown-timezone",
        "timezone: Asia/Shanghai",
        "timezone: Asia/Beijing",
        "site.timezone",
        "timezone:",
        "unknown time zone 'Asia/Beijing'",
        "Asia/Shanghai",
    ),
    Planted(
        "template-field-without-value",
        TEMPLATE,
        'template: "TG{plant:2}{site:3}-{serial:10}{check}"',
        "products[3].template_values.site",
        "template_values:",
        "has a field {site} and this product gives no value",
    ),
    Planted(
        "template-does-not-compile",
        TEMPLATE,
        'template: "TG{plant:2}-{serial}{check}"',
        "coding_rules[4].template",
        "template:",
        "field serial has no valid width",
    ),
    Planted(
        "template-serial-width-differs",
        TEMPLATE,
        'template: "TG{plant:2}-{serial:12}{check}"',
        "coding_rules[4].serial",
        "    serial:",
        "serial length 10 does not fit the template's {serial:12}",
        occurrence=4,
    ),
    Planted(
        "template-without-serial",
        TEMPLATE,
        'template: "TG{plant:2}-{lot:1-8}{check}"',
        "coding_rules[4].template",
        "template:",
        "no {serial} field",
    ),
    Planted(
        "template-gtin-width",
        TEMPLATE,
        'template: "{gtin:13}-{plant:2}-{serial:10}{check}"',
        "coding_rules[4].template",
        "template:",
        "{gtin} is always 14 characters",
    ),
    Planted(
        "levels-out-of-order",
        GS1_LEVELS,
        "      - level: case\n        coding_rule: sscc-case\n"
        "      - level: unit\n        coding_rule: gs1-unit\n        quantity: 20",
        "products[0].levels[1].level",
        "level: unit",
        "level unit comes after case",
    ),
    Planted(
        "level-listed-twice",
        "        quantity: 20",
        "        quantity: 20\n      - level: case\n        coding_rule: sscc-case\n"
        "        quantity: 2",
        "products[0].levels[2].level",
        "level: case",
        "level case is listed twice",
        occurrence=2,
    ),
    Planted(
        "quantity-missing",
        "        quantity: 20\n",
        "",
        "products[0].levels[1].quantity",
        "level: case",
        "how many unit packages one case holds",
    ),
    Planted(
        "unknown-product-on-line",
        "products: [p-gs1, p-nmpa, p-national, p-template]",
        "products: [p-gs1, p-nmpa, p-national, p-templat]",
        "lines[0].products[3]",
        "products: [p-gs1",
        "unknown product 'p-templat'",
        "did you mean 'p-template'?",
    ),
    Planted(
        "national-batch-attribute",
        "attribute_id: 2",
        "attribute_id: 4",
        "coding_rules[3].attribute_id",
        "attribute_id: 4",
        "identifies a batch",
    ),
    Planted(
        "sscc-length-mismatch",
        "      planned_volume: 1_000_000\n  - id: nmpa",
        "      length: 10\n      planned_volume: 1_000_000\n  - id: nmpa",
        "coding_rules[1].serial.length",
        "length: 10",
        "leaves 9 digits for the serial reference, not 10",
    ),
    Planted(
        "sscc-on-a-unit",
        "coding_rule: nmpa\n",
        "coding_rule: sscc-case\n",
        "products[1].levels[0].coding_rule",
        "coding_rule: sscc-case",
        "identify logistic units",
        occurrence=2,
    ),
    Planted(
        "gln-check-digit",
        'gln: "9501101000001"',
        'gln: "9501101000002"',
        "site.gln",
        "gln:",
        "check digit should be 1",
    ),
    Planted(
        "required-key-missing",
        "    name: Template product\n",
        "",
        "products[3].name",
        "- id: p-template",
        "required, but missing",
        "add name:",
    ),
    Planted(
        "drug-id-as-yaml-int",
        'nmpa_drug_id: "8123456"',
        "nmpa_drug_id: 8123456",
        "products[1].nmpa_drug_id",
        "nmpa_drug_id:",
        "as a number",
    ),
    Planted(
        "scheme-misspelled",
        "    scheme: template",
        "    scheme: templat",
        "coding_rules[4].scheme",
        "scheme: templat",
        "'templat' is not one of",
        "did you mean 'template'?",
    ),
    Planted(
        "gs1-on-code128",
        "    scheme: gs1\n",
        "    scheme: gs1\n    carrier: code128\n",
        "coding_rules[0].carrier",
        "carrier: code128",
        "cannot be carried by code128",
        "FNC1",
    ),
    Planted(
        "ff1-without-key-file",
        "      generator: csprng\n      alphabet: digits",
        "      generator: ff1\n      alphabet: digits",
        "coding_rules[0].serial.generator",
        "generator: ff1",
        "needs the site's serial key",
        "serial_key_file",
    ),
    Planted(
        "template-value-lower-case",
        "      plant: BJ",
        "      plant: bj",
        "products[3].template_values.plant",
        "plant: bj",
        "cannot appear in field {plant}",
        'write "BJ"',
    ),
    Planted(
        "expiry-missing-for-ai-17",
        "    expiry:\n      months: 24\n",
        "",
        "products[0].expiry",
        "- id: p-gs1",
        "needs the shelf life",
    ),
    Planted(
        "duplicate-gtin",
        'nmpa_drug_id: "8123456"',
        'nmpa_drug_id: "8123456"\n    gtin: "9501101530003"',
        "products[1].gtin",
        'gtin: "9501101530003"',
        "is also the GTIN of products[0]",
    ),
    Planted(
        "sscc-extension-two-digits",
        "extension: 1",
        "extension: 12",
        "coding_rules[1].extension",
        "extension: 12",
        "'12' is not one digit",
    ),
    Planted(
        "national-origin-length",
        'origin: "110105"',
        'origin: "11010"',
        "products[2].national.origin",
        "origin:",
        "origin has 5 digits",
    ),
    Planted(
        "unknown-section",
        "lines:",
        "line:",
        "line",
        "line:",
        "unknown section 'line'",
        "did you mean 'lines'?",
    ),
    Planted(
        "wrong-type-number",
        "      size: 100",
        "      size: many",
        "lines[0].code_buffer.size",
        "size: many",
        "must be a whole number",
    ),
]


def test_the_base_site_is_clean(check, base_site):
    report = check(base_site)
    assert report.problems == []
    assert report.config is not None


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_planted_error_is_located_and_explained(case, check, base_site, line_at):
    assert base_site.count(case.old) == 1, "the case must edit exactly one place"
    text = base_site.replace(case.old, case.new)
    report = check(text)

    assert report.config is None
    found = [p for p in report.errors if p.location == case.location]
    assert found, f"nothing at {case.location}; got:\n" + "\n".join(report.lines())
    problem = next((p for p in found if case.message in p.message), None)
    assert problem is not None, [p.message for p in found]
    assert problem.severity is Severity.ERROR
    assert problem.line == line_at(text, case.marker, case.occurrence)
    if case.hint is not None:
        assert problem.hint is not None
        assert case.hint in problem.hint


def test_many_errors_in_one_file_are_all_reported(check, base_site):
    edits = [
        ('gtin: "09501101530003"', 'gtin: "09501101530004"'),
        ("uscc: 91110105MA01TG8P53", "uscc: 91110105MA01TG8P54"),
        ("    scheme: nmpa20", "    scheme: nmpa20\n    serial:\n      generator: ff1"),
        ("low_water: 20", "low_water: 500"),
        ("coding_rule: national", "coding_rule: natinal"),
        ("    name: Template product", "    nmae: Template product"),
        ("  timezone: Asia/Shanghai", "  timezone: Asia/Shanghai\n  timezone: UTC"),
    ]
    text = base_site
    for old, new in edits:
        text = text.replace(old, new)
    report = check(text)

    located = {p.location for p in report.errors}
    assert {
        "products[0].gtin",
        "site.uscc",
        "coding_rules[2].serial.generator",
        "lines[0].code_buffer.low_water",
        "products[2].levels[0].coding_rule",
        "products[3].nmae",
        "products[3].name",
        "site.timezone",
    } <= located
    assert all(p.line is not None for p in report.errors)
    assert [p.line for p in report.problems] == sorted(p.line or 0 for p in report.problems)


def test_a_broken_rule_does_not_also_make_its_users_unknown(check, base_site):
    report = check(base_site.replace("attribute_id: 2", "attribute_id: 9"))

    assert [p.location for p in report.errors] == ["coding_rules[3].attribute_id"]
    assert report.warnings == []


def test_a_broken_product_is_still_known_to_lines(check, base_site):
    report = check(base_site.replace('nmpa_drug_id: "8123456"', 'nmpa_drug_id: "812345"'))

    assert [p.location for p in report.errors] == ["products[1].nmpa_drug_id"]
    assert "7 digits, not 6" in report.errors[0].message
