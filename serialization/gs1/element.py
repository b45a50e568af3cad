"""GS1 element strings: the data a GS1 DataMatrix, GS1-128, GS1 QR or DataBar carries.

Machine form: AI digits and value, one element after the other, with a GS (0x1D, the FNC1
separator) only after an element whose AI is not of predefined length and that is not last.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NoReturn

from serialization.errors import CodeFormatError
from serialization.gs1.ai import AI_LENGTH_BY_PREFIX, DEFINITIONS, AIDefinition, ai_at, lookup
from serialization.gs1.hri import parse_hri, to_hri
from serialization.gs1.message import Element, GS1Message, new_message
from serialization.gs1.validate import (
    FAST_VALIDATORS,
    FastValidator,
    check_value,
    validate_element,
)

__all__ = [
    "GS",
    "GS1_SYMBOLOGY_IDENTIFIERS",
    "Element",
    "GS1Message",
    "encode",
    "parse",
    "parse_hri",
    "to_hri",
    "validate_element",
]

GS = "\x1d"
"""Group separator: how a reader transmits an FNC1 that separates two elements."""

GS1_SYMBOLOGY_IDENTIFIERS = frozenset({"]d2", "]C1", "]Q3", "]e0"})
"""AIM symbology identifiers of symbols that carry GS1 element strings (FNC1 in first)."""

_AI_LENGTH: dict[str, int] = dict(AI_LENGTH_BY_PREFIX)

_Rule = tuple[int, int, FastValidator, int]
"""AI length, value length if predefined (else 0), fast validator, a bit of its own."""

_RULES: dict[str, _Rule] = {
    ai: (len(ai), d.max_length if d.predefined_length else 0, FAST_VALIDATORS[ai], 1 << index)
    for index, (ai, d) in enumerate(DEFINITIONS.items())
}
_TWO_DIGIT_RULES: dict[str, _Rule] = {ai: rule for ai, rule in _RULES.items() if len(ai) == 2}
_new_element = tuple.__new__


def encode(elements: Iterable[Element]) -> str:
    """The machine element string of `elements` (no symbology identifier), validated.

    Raises on an unknown AI, an invalid value, or one AI given twice with different values.
    """
    items = list(elements)
    if not items:
        raise CodeFormatError("a GS1 message needs at least one element", hint="add (01) or (00)")
    seen: dict[str, str] = {}
    parts: list[str] = []
    last = len(items) - 1
    for index, (ai, value) in enumerate(items):
        definition = lookup(ai)
        if not FAST_VALIDATORS[ai](value):
            check_value(definition, value)
        earlier = seen.setdefault(ai, value)
        if earlier != value:
            raise CodeFormatError(
                f"({ai}) appears twice, as {earlier!r} and {value!r}",
                field=f"({ai})",
                hint="a message may repeat an AI only with the same value; keep one",
            )
        parts.append(ai)
        parts.append(value)
        if index != last and not definition.predefined_length:
            parts.append(GS)
    return "".join(parts)


def parse(data: str) -> GS1Message:
    """Parse and validate a machine element string, as a scanner transmits it.

    A leading GS1 symbology identifier (`]d2`, `]C1`, `]Q3`, `]e0`) is stripped. A GS is
    accepted after any complete element, also where none is needed and at the very end
    (readers and the GS1 Syntax Engine tolerate those); anywhere else it is an error.
    Error positions are indexes into `data`, identifier included.
    """
    position = 0
    if data[:1] == "]":
        if data[:3] not in GS1_SYMBOLOGY_IDENTIFIERS:
            raise CodeFormatError(
                f"{data[:3]!r} is not the symbology identifier of a GS1 symbol",
                position=0,
                hint="GS1 data comes from ]d2 (DataMatrix), ]C1 (GS1-128), ]Q3 (QR) or ]e0 "
                "(DataBar); use parse_scan for other symbols",
            )
        position = 3
    end = len(data)
    if position >= end:
        raise CodeFormatError(
            "there is no element string", position=position, hint="the scan carried no data"
        )
    elements: list[Element] = []
    append = elements.append
    two_digit_rules = _TWO_DIGIT_RULES
    seen = 0
    while True:
        ai = data[position : position + 2]
        rule = two_digit_rules.get(ai)
        if rule is None:
            length = _AI_LENGTH.get(ai, 0)
            ai = data[position : position + length]
            rule = _RULES.get(ai) if length > 2 else None
            if rule is None:
                _raise_bad_ai(data, position, length)
        length, fixed, valid, bit = rule
        start = position + length
        if fixed:
            position = start + fixed
        else:
            position = data.find(GS, start)
            if position < 0:
                position = end
        value = data[start:position]
        if not valid(value):
            _raise_bad_value(DEFINITIONS[ai], value, start)
        if seen & bit:
            _check_repeat(elements, ai, value, start)
        seen |= bit
        append(_new_element(Element, (ai, value)))
        if position < end and data[position] == GS:
            position += 1
        if position >= end:
            return new_message(tuple(elements))


def _raise_bad_ai(data: str, position: int, length: int) -> NoReturn:
    if data[position] == GS:
        raise CodeFormatError(
            "a GS separator cannot stand here",
            position=position,
            hint="GS goes only between elements, once; remove this one",
        )
    remaining = len(data) - position
    if (length and remaining < length) or (remaining == 1 and data[position].isdigit()):
        raise CodeFormatError(
            "the data ends inside an Application Identifier",
            position=position,
            hint="the scan is truncated, or the last element lost its value",
        )
    ai_at(data, position)
    raise AssertionError(position)


def _raise_bad_value(definition: AIDefinition, value: str, start: int) -> NoReturn:
    check_value(definition, value, start)
    raise AssertionError(definition.ai, value)


def _check_repeat(elements: list[Element], ai: str, value: str, start: int) -> None:
    for earlier_ai, earlier in elements:
        if earlier_ai == ai and earlier != value:
            raise CodeFormatError(
                f"({ai}) appears twice, as {earlier!r} and {value!r}",
                field=f"({ai})",
                position=start,
                hint="a GS1 message may repeat an AI only with the same value",
            )
