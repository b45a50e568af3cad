import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from serialization.codes import SchemeName
from serialization.errors import CheckCharacterError, CodeFormatError
from serialization.iso7064 import ALPHANUMERIC, mod11_10_check, mod37_36_check, mod97_10_check
from serialization.template import CodeTemplate, template_trace_code


def test_fixed_template_round_trip() -> None:
    template = CodeTemplate.compile("TG{drug_id:7}{serial:10}{check}", "mod37_36")
    values = {"drug_id": "1234567", "serial": "K7NP3W9XQ2"}
    code = template.render(values)
    assert code == "TG1234567K7NP3W9XQ2" + mod37_36_check("TG1234567K7NP3W9XQ2")
    assert template.parse(code) == values


def test_variable_field_before_delimiter() -> None:
    template = CodeTemplate.compile("{lot:1-10}-{serial:12}{check}", "mod97_10")
    code = template.render({"lot": "AB12", "serial": "000000000001"})
    assert code == "AB12-000000000001" + mod97_10_check("AB12000000000001")
    assert template.parse(code) == {"lot": "AB12", "serial": "000000000001"}


def test_check_skips_literals_outside_the_alphabet_only() -> None:
    template = CodeTemplate.compile("TG{lot:1-6}-{serial:4}{check}", "mod37_36")
    assert template.render({"lot": "A1", "serial": "K7NP"}) == "TGA1-K7NP" + mod37_36_check(
        "TGA1K7NP"
    )
    digits = CodeTemplate.compile("TG{serial:5}{check}", "mod11_10")
    assert digits.render({"serial": "79462"}) == "TG794623"
    assert digits.parse("TG794623") == {"serial": "79462"}
    assert mod11_10_check("79462") == "3"


def test_fields_after_the_check_are_not_covered() -> None:
    template = CodeTemplate.compile("{serial:6}{check}/{lot:1-8}", "mod37_36")
    first = template.render({"serial": "ABC123", "lot": "L1"})
    second = template.render({"serial": "ABC123", "lot": "L2"})
    assert first[:7] == second[:7]
    assert template.parse(second) == {"serial": "ABC123", "lot": "L2"}


def test_variable_field_followed_by_fixed_tail() -> None:
    template = CodeTemplate.compile("{serial:8-12}{check}", "mod11_10")
    for serial in ("12345678", "123456789012"):
        code = template.render({"serial": serial})
        assert template.parse(code) == {"serial": serial}


def test_without_check() -> None:
    template = CodeTemplate.compile("P{line:2}/{serial:6-20}")
    assert template.check is None
    assert template.alphabet == ALPHANUMERIC
    assert template.parse(template.render({"line": "03", "serial": "ABCDEF"})) == {
        "line": "03",
        "serial": "ABCDEF",
    }


def test_helpers() -> None:
    template = CodeTemplate.compile("{lot:1-10}-{serial:12}{check}", "mod37_36")
    assert template.field_names == ("lot", "serial")
    assert template.width("lot") == (1, 10)
    assert template.serial_width == 12
    assert CodeTemplate.compile("{lot:4}").serial_width is None
    with pytest.raises(CodeFormatError) as info:
        template.width("expiry")
    assert "lot, serial" in (info.value.hint or "")


def test_trace_code() -> None:
    template = CodeTemplate.compile("TG{drug_id:7}{serial:10}{check}", "mod37_36")
    code = template.render({"drug_id": "1234567", "serial": "K7NP3W9XQ2"})
    trace = template_trace_code(template, code)
    assert trace.scheme is SchemeName.TEMPLATE
    assert trace.key == trace.data == trace.hri == code
    assert trace.symbology == "]d1"
    assert trace.fields == (
        ("drug_id", "1234567"),
        ("serial", "K7NP3W9XQ2"),
        ("check", code[-1]),
    )


def test_trace_code_with_two_digit_check_in_the_middle() -> None:
    template = CodeTemplate.compile("{serial:6}{check}/{lot:1-8}", "mod97_10")
    code = template.render({"serial": "ABC123", "lot": "L1"})
    assert template_trace_code(template, code).field("check") == mod97_10_check("ABC123")


def test_wrong_check_character() -> None:
    template = CodeTemplate.compile("TG{drug_id:7}{serial:10}{check}", "mod37_36")
    code = template.render({"drug_id": "1234567", "serial": "K7NP3W9XQ2"})
    wrong = "0" if code[-1] != "0" else "1"
    with pytest.raises(CheckCharacterError) as info:
        template.parse(code[:-1] + wrong)
    error = info.value
    assert (error.expected, error.found) == (code[-1], wrong)
    assert (error.field, error.position) == ("check", 19)


def test_transposed_serial_is_caught() -> None:
    template = CodeTemplate.compile("{serial:10}{check}", "mod37_36")
    code = template.render({"serial": "K7NP3W9XQ2"})
    with pytest.raises(CheckCharacterError):
        template.parse("7K" + code[2:])


@pytest.mark.parametrize(
    ("text", "field", "position"),
    [
        ("TX1234567K7NP3W9XQ2F", "literal", 1),
        ("TG1234567K7NP3W9XQ", "serial", 18),
        ("TG123456", "drug_id", 8),
        ("TG12345a7K7NP3W9XQ2F", "drug_id", 7),
        ("TG1234567K7NP3W9XQ2", "check", 19),
    ],
)
def test_parse_errors_are_located(text: str, field: str, position: int) -> None:
    template = CodeTemplate.compile("TG{drug_id:7}{serial:10}{check}", "mod37_36")
    with pytest.raises(CodeFormatError) as info:
        template.parse(text)
    assert (info.value.field, info.value.position) == (field, position)
    assert info.value.hint


def test_parse_extra_characters() -> None:
    template = CodeTemplate.compile("{serial:4}")
    with pytest.raises(CodeFormatError) as info:
        template.parse("ABCDE")
    assert info.value.position == 4


def test_parse_variable_field_too_long() -> None:
    template = CodeTemplate.compile("{lot:1-4}-{serial:4}")
    with pytest.raises(CodeFormatError) as info:
        template.parse("ABCDE-1234")
    assert (info.value.field, info.value.position) == ("lot", 4)


def test_parse_missing_delimiter() -> None:
    template = CodeTemplate.compile("{lot:1-4}-{serial:4}")
    with pytest.raises(CodeFormatError) as info:
        template.parse("AB/1234")
    assert (info.value.field, info.value.position) == ("literal", 2)


def test_parse_variable_field_with_fixed_tail_too_short() -> None:
    template = CodeTemplate.compile("{serial:8-12}{check}", "mod11_10")
    with pytest.raises(CodeFormatError) as info:
        template.parse("12345")
    assert info.value.field == "serial"


@pytest.mark.parametrize(
    ("values", "field", "position"),
    [
        ({"lot": "A1"}, "serial", None),
        ({"lot": "A1", "serial": "12345678901"}, "serial", 11),
        ({"lot": "A1", "serial": "1234567890123"}, "serial", 12),
        ({"lot": "", "serial": "123456789012"}, "lot", 0),
        ({"lot": "A-1", "serial": "123456789012"}, "lot", 1),
        ({"lot": "A1", "serial": "123456789012", "expiry": "2701"}, "expiry", None),
        ({"lot": "A1", "serial": "123456789012", "check": "7"}, "check", None),
    ],
)
def test_render_errors_name_the_field(
    values: dict[str, str], field: str, position: int | None
) -> None:
    template = CodeTemplate.compile("{lot:1-10}-{serial:12}{check}", "mod37_36")
    with pytest.raises(CodeFormatError) as info:
        template.render(values)
    assert (info.value.field, info.value.position) == (field, position)
    assert info.value.hint


def test_render_hints() -> None:
    template = CodeTemplate.compile("{serial:4}{check}", "mod37_36")
    with pytest.raises(CodeFormatError) as info:
        template.render({"serial": "ab12"})
    assert "upper case" in (info.value.hint or "")
    digits = CodeTemplate.compile("{serial:4}{check}", "mod11_10")
    with pytest.raises(CodeFormatError) as info:
        digits.render({"serial": "AB12"})
    assert "digits only" in (info.value.hint or "")


@pytest.mark.parametrize(
    ("template", "check", "position"),
    [
        ("", None, None),
        ("TG-", None, None),
        ("{check}", "mod11_10", None),
        ("{check}{serial:4}", "mod11_10", 0),
        ("TG{check}{serial:4}", "mod37_36", 2),
        ("{serial:4", None, 0),
        ("{serial:4{lot:2}}", None, 0),
        ("x}{serial:4}", None, 1),
        ("{serial}", None, 7),
        ("{serial:}", None, 7),
        ("{serial:a}", None, 7),
        ("{serial:0}", None, 8),
        ("{serial:5-3}", None, 8),
        ("{Serial:4}", None, 1),
        ("{9lot:4}", None, 1),
        ("{check:1}{serial:4}", "mod11_10", 0),
        ("{serial:4}{serial:4}", None, 0),
        ("{serial:4}{check}{check}", "mod11_10", 17),
        ("{serial:4}{check}", None, 10),
        ("{serial:4}", "mod11_10", None),
        ("{a:1-3}{b:1-2}", None, 0),
        ("{a:1-3}X{b:1-2}", None, 0),
        ("{a:1-3}{b:2}-{c:1-4}", None, 0),
        ("{a:1-3}-{c:1-4}{d:1-2}", None, 8),
        ("TG {serial:4}", None, 2),
        ("序{serial:4}", None, 0),
    ],
)
def test_bad_templates_are_refused(template: str, check: str | None, position: int | None) -> None:
    with pytest.raises(CodeFormatError) as info:
        CodeTemplate.compile(template, check)
    assert info.value.field == "template"
    assert info.value.position == position
    assert info.value.hint


def test_unknown_check_system() -> None:
    with pytest.raises(CodeFormatError) as info:
        CodeTemplate.compile("{serial:4}{check}", "mod10")
    assert info.value.field == "check"
    assert "mod37_36" in (info.value.hint or "")


def test_ambiguous_literal_is_fine_before_a_fixed_tail() -> None:
    template = CodeTemplate.compile("{lot:1-3}X{serial:2}")
    assert template.parse("AXXX12") == {"lot": "AXX", "serial": "12"}


TEMPLATES = [
    ("TG{drug_id:7}{serial:10}{check}", "mod37_36"),
    ("{lot:1-10}-{serial:12}{check}", "mod37_36"),
    ("{lot:1-10}-{serial:12}{check}", "mod97_10"),
    ("{drug_id:7}{serial:12}{check}", "mod11_10"),
    ("{serial:6-20}{check}", "mod11_10"),
    ("L{lot:1-20}/S{serial:1-20}", None),
    ("{serial:8}{check}.{lot:1-6}", "mod97_10"),
]


@pytest.mark.parametrize(("source", "check"), TEMPLATES)
@given(data=st.data())
def test_round_trip(source: str, check: str | None, data: st.DataObject) -> None:
    template = CodeTemplate.compile(source, check)
    values = {
        field.name: data.draw(
            st.text(
                st.sampled_from(template.alphabet),
                min_size=field.min_width,
                max_size=field.max_width,
            ),
            label=field.name,
        )
        for field in template.fields
    }
    code = template.render(values)
    assert template.parse(code) == values
    assert template_trace_code(template, code).key == code


@pytest.mark.parametrize(("source", "check"), [t for t in TEMPLATES if t[1] == "mod37_36"])
@given(data=st.data())
def test_single_substitution_never_parses(source: str, check: str, data: st.DataObject) -> None:
    template = CodeTemplate.compile(source, check)
    values = {
        field.name: data.draw(
            st.text(
                st.sampled_from(ALPHANUMERIC), min_size=field.max_width, max_size=field.max_width
            )
        )
        for field in template.fields
    }
    code = template.render(values)
    index = data.draw(st.integers(0, len(code) - 1))
    replacement = data.draw(
        st.sampled_from(ALPHANUMERIC + string.punctuation).filter(lambda c: c != code[index])
    )
    with pytest.raises(CodeFormatError):
        template.parse(code[:index] + replacement + code[index + 1 :])
