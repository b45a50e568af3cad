"""What a scanner or camera reports: an optional AIM symbology identifier and the data."""

from __future__ import annotations

from dataclasses import dataclass

from serialization.errors import CodeFormatError
from serialization.gs1.element import GS1_SYMBOLOGY_IDENTIFIERS, parse
from serialization.gs1.message import GS1Message


@dataclass(frozen=True, slots=True)
class Scan:
    symbology: str | None
    """The AIM symbology identifier (`]d2`, `]C1`, `]Q1`…) or None when the reader sent none."""
    data: str
    """The data after the symbology identifier, GS bytes included."""
    message: GS1Message | None
    """The GS1 message, when the data is one."""
    error: CodeFormatError | None = None
    """Why data without a symbology identifier is not a GS1 message, if it is not."""

    @property
    def is_gs1(self) -> bool:
        return self.message is not None


def _symbology_identifier(text: str) -> str | None:
    if (
        len(text) >= 3
        and text[0] == "]"
        and text[1].isascii()
        and text[1].isalpha()
        and text[2].isascii()
        and text[2].isdigit()
    ):
        return text[:3]
    return None


def parse_scan(text: str) -> Scan:
    """Split a scan into symbology identifier and data, and parse GS1 data.

    - `]d2`, `]C1`, `]Q3`, `]e0` announce GS1 data: it is parsed and errors are raised.
    - Any other identifier (`]d1`, `]C0`, `]Q1`, `]E0`…) means the symbol is not GS1 element
      string data: `message` is None.
    - Without an identifier the data is tried as a GS1 element string; when that fails,
      `message` is None and `error` says why, without raising.
    """
    symbology = _symbology_identifier(text)
    if symbology is None:
        try:
            message = parse(text)
        except CodeFormatError as error:
            return Scan(None, text, None, error)
        return Scan(None, text, message)
    data = text[3:]
    if symbology in GS1_SYMBOLOGY_IDENTIFIERS:
        return Scan(symbology, data, parse(text))
    return Scan(symbology, data, None)
