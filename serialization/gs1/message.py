"""The values of a GS1 message: AI/value pairs in the order they were read or will be written."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple


class Element(NamedTuple):
    """One GS1 element: an Application Identifier and its value (no parentheses, no GS).

    A named tuple rather than a dataclass because the parser makes hundreds of thousands of
    them a second and tuple construction is several times cheaper.
    """

    ai: str
    value: str


@dataclass(frozen=True, slots=True)
class GS1Message:
    """A GS1 message: its elements in order. Build one with `parse`, `parse_hri` or
    `parse_digital_link` to have it validated; `encode` validates one built by hand."""

    elements: tuple[Element, ...]

    def value(self, ai: str) -> str | None:
        """The value of the first element with `ai`, or None."""
        for element in self.elements:
            if element.ai == ai:
                return element.value
        return None

    def ais(self) -> tuple[str, ...]:
        return tuple(element.ai for element in self.elements)

    def __iter__(self) -> Iterator[Element]:
        return iter(self.elements)

    def __len__(self) -> int:
        return len(self.elements)


_new_object = object.__new__
_set_attribute = object.__setattr__


def new_message(elements: tuple[Element, ...]) -> GS1Message:
    """A GS1Message without the dataclass constructor's overhead, for the parsers' hot path."""
    message = _new_object(GS1Message)
    _set_attribute(message, "elements", elements)
    return message
