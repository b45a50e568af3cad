"""The human-readable interpretation (HRI): `(01)09501101530003(17)270500(10)AB-123`.

HRI is what is printed beside the symbol for people; it is never what the symbol encodes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from serialization.errors import CodeFormatError
from serialization.gs1.ai import DEFINITIONS
from serialization.gs1.message import Element, GS1Message
from serialization.gs1.validate import FAST_VALIDATORS, check_value

_AI_IN_PARENTHESES = re.compile(r"\(([0-9]{2,4})\)")


def to_hri(elements: Iterable[Element]) -> str:
    """Each element as `(AI)value`, in order. Not validated: this is text for display.

    A value containing "(", a known AI and ")" cannot be read back unambiguously by
    `parse_hri`; such values are legal but should not be chosen for lots or serials.
    """
    return "".join(f"({ai}){value}" for ai, value in elements)


def parse_hri(text: str) -> GS1Message:
    """Parse and validate HRI text. Positions in errors are indexes into `text`.

    Values may contain parentheses: a "(" starts the next element only when a known AI and
    ")" follow it. Leading and trailing whitespace is ignored.
    """
    position = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    match = _AI_IN_PARENTHESES.match(text, position, end)
    if match is None or match.group(1) not in DEFINITIONS:
        raise CodeFormatError(
            "HRI text must start with a known AI in parentheses, e.g. (01)",
            position=position,
            hint="write each element as (AI)value",
            field=f"({match.group(1)})" if match else None,
        )
    elements: list[Element] = []
    seen: dict[str, str] = {}
    while match is not None:
        ai = match.group(1)
        start = match.end()
        following = None
        for candidate in _AI_IN_PARENTHESES.finditer(text, start, end):
            if candidate.group(1) in DEFINITIONS:
                following = candidate
                break
        stop = following.start() if following else end
        value = text[start:stop]
        if not FAST_VALIDATORS[ai](value):
            check_value(DEFINITIONS[ai], value, start)
        earlier = seen.setdefault(ai, value)
        if earlier != value:
            raise CodeFormatError(
                f"({ai}) appears twice, as {earlier!r} and {value!r}",
                field=f"({ai})",
                position=start,
                hint="a GS1 message may repeat an AI only with the same value",
            )
        elements.append(Element(ai, value))
        match = following
    return GS1Message(tuple(elements))
