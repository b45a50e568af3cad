"""Harnesses for the code parser: GS1 element strings, HRI, Digital Link, EPC, NMPA, national
codes, site templates and `recognize()` over all of them.

Every parser in `serialization` documents one error type, `SerializationError` (a ValueError with
field, position and hint); anything else is a bug. Where an encoder exists, what parses encodes
back to the same elements.
"""

from __future__ import annotations

import contextlib
from datetime import date

from fuzz.bytes_input import split_fields, text_of
from serialization.errors import SerializationError
from serialization.gs1 import (
    decode_sgtin96,
    encode,
    parse,
    parse_digital_link,
    parse_epc_uri,
    parse_hri,
    parse_scan,
    pure_identity_uri,
    to_digital_link,
    to_hri,
)
from serialization.gs1.element import Element
from serialization.national import parse_national_code
from serialization.nmpa import parse_nmpa20, validate_drug_standard_code
from serialization.recognize import RecognitionContext, describe_error, recognize
from serialization.template import CodeTemplate

SITE_CONTEXT = RecognitionContext(
    drug_ids=("8612345",),
    templates=(("tg", CodeTemplate.compile("TG{lot:1-6}-{serial:10}{check}", "mod37_36")),),
    today=date(2026, 6, 1),
)

_PARSERS = (
    parse,
    parse_hri,
    parse_digital_link,
    parse_epc_uri,
    parse_scan,
    decode_sgtin96,
    pure_identity_uri,
    parse_nmpa20,
    validate_drug_standard_code,
    parse_national_code,
)


def fuzz_code_parser(data: bytes) -> None:
    """Every code parser on the same text, and `recognize` with and without site knowledge."""
    text = text_of(data)
    for parser in _PARSERS:
        with contextlib.suppress(SerializationError):
            parser(text)
    for context in (None, SITE_CONTEXT):
        recognition = recognize(text, context)
        for _, error in recognition.rejections:
            assert describe_error(error)


def fuzz_gs1_round_trip(data: bytes) -> None:
    """A parsed element string, HRI or Digital Link encodes back to the same elements."""
    text = text_of(data)
    for parser in (parse, parse_hri, parse_digital_link):
        try:
            elements = parser(text).elements
        except SerializationError:
            continue
        _assert_round_trips(elements)


def _assert_round_trips(elements: tuple[Element, ...]) -> None:
    """Element strings and Digital Links always; HRI only when no value holds a "(": the
    parentheses that frame AIs in HRI are also characters a value may carry (CSET 82), so
    "(90)A(11)B" reads back as two AIs — HRI is for people, the element string is the code."""
    assert parse(encode(elements)).elements == elements
    if not any("(" in element.value for element in elements):
        assert parse_hri(to_hri(elements)).elements == elements
    try:
        link = to_digital_link(elements)
    except SerializationError:
        return
    assert sorted(parse_digital_link(link).elements) == sorted(elements)


def fuzz_code_template(data: bytes) -> None:
    """A site file's code template, compiled, then used to read a text."""
    template_text, check, code = (text_of(part) for part in split_fields(data, 3))
    try:
        template = CodeTemplate.compile(template_text, check or None)
    except SerializationError:
        return
    try:
        recognize(code, RecognitionContext(templates=(("fuzzed", template),)))
    except SerializationError as error:
        raise AssertionError(f"recognize raised {error!r}; it reports rejections") from error
