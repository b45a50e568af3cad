"""The GS1 Application Identifiers (AIs) tracegate understands, as data.

Formats follow the GS1 Syntax Dictionary. Only AIs whose data field is a single run of
digits or of CSET 82 characters (optionally a GS1 key with a check digit, or a date) are
listed; composite fields such as (253) or (8006) are left out rather than half-validated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from serialization.errors import CodeFormatError

CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
"""GS1 AI encodable character set 82: the characters an X field may hold."""


@dataclass(frozen=True, slots=True)
class AIDefinition:
    ai: str
    title: str
    numeric: bool
    """N field (digits only); otherwise an X field (CSET 82)."""
    min_length: int
    max_length: int
    predefined_length: bool
    """The AI is in the GS1 table of predefined lengths: no GS separator ever follows it."""
    check_digit: bool
    """The value ends with a GS1 mod-10 check digit over the whole value."""
    date: bool
    """The value starts with a date `yymmdd`."""
    day_zero: bool = False
    """Day `00` is allowed and means the last day of the month (`yymmd0` fields)."""
    time: bool = False
    """A time `hhmm` follows the date."""

    @property
    def fixed_length(self) -> bool:
        return self.min_length == self.max_length

    @property
    def needs_separator(self) -> bool:
        """A GS must follow this element when another element comes after it."""
        return not self.predefined_length


def _n(ai: str, title: str, length: int, *, check: bool = False) -> AIDefinition:
    return AIDefinition(ai, title, True, length, length, True, check, False)


def _yymmd0(ai: str, title: str) -> AIDefinition:
    return AIDefinition(ai, title, True, 6, 6, True, False, True, day_zero=True)


def _x(ai: str, title: str, max_length: int) -> AIDefinition:
    return AIDefinition(ai, title, False, 1, max_length, False, False, False)


def _nvar(ai: str, title: str, max_length: int) -> AIDefinition:
    return AIDefinition(ai, title, True, 1, max_length, False, False, False)


_DEFINITIONS: tuple[AIDefinition, ...] = (
    _n("00", "SSCC", 18, check=True),
    _n("01", "GTIN", 14, check=True),
    _n("02", "CONTENT", 14, check=True),
    _x("10", "BATCH/LOT", 20),
    _yymmd0("11", "PROD DATE"),
    _yymmd0("12", "DUE DATE"),
    _yymmd0("13", "PACK DATE"),
    _yymmd0("15", "BEST BEFORE or BEST BY"),
    _yymmd0("16", "SELL BY"),
    _yymmd0("17", "USE BY or EXPIRY"),
    _n("20", "VARIANT", 2),
    _x("21", "SERIAL", 20),
    _x("22", "CPV", 20),
    _x("240", "ADDITIONAL ID", 30),
    _x("241", "CUST. PART No.", 30),
    _nvar("242", "MTO VARIANT", 6),
    _x("243", "PCN", 20),
    _x("250", "SECONDARY SERIAL", 30),
    _x("251", "REF. TO SOURCE", 30),
    _x("254", "GLN EXTENSION COMPONENT", 20),
    _nvar("30", "VAR. COUNT", 8),
    _nvar("37", "COUNT", 8),
    _x("400", "ORDER NUMBER", 30),
    _x("403", "ROUTE", 30),
    _n("410", "SHIP TO LOC", 13, check=True),
    _n("411", "BILL TO", 13, check=True),
    _n("412", "PURCHASE FROM", 13, check=True),
    _n("413", "SHIP FOR LOC", 13, check=True),
    _n("414", "LOC No.", 13, check=True),
    _n("415", "PAY TO", 13, check=True),
    _n("416", "PROD/SERV LOC", 13, check=True),
    _n("417", "PARTY", 13, check=True),
    _x("420", "SHIP TO POST", 20),
    AIDefinition("7003", "EXPIRY TIME", True, 10, 10, False, False, True, time=True),
    _x("710", "NHRN PZN", 20),
    _x("711", "NHRN CIP", 20),
    _x("712", "NHRN CN", 20),
    _x("713", "NHRN DRN", 20),
    _x("714", "NHRN AIM", 20),
    _x("715", "NHRN NDC", 20),
    _x("7240", "PROTOCOL", 20),
    _x("8012", "VERSION", 20),
    _x("90", "INTERNAL", 30),
    *(_x(str(ai), "INTERNAL", 90) for ai in range(91, 100)),
)

DEFINITIONS: Mapping[str, AIDefinition] = MappingProxyType({d.ai: d for d in _DEFINITIONS})
"""Every known AI, by its digits."""


def _prefix_lengths() -> dict[str, int]:
    three = ("23", "24", "25", "40", "41", "42", "71")
    four = ("31", "32", "33", "34", "35", "36", "39", "43", "70", "72", "80", "81", "82")
    two = [f"{p:02d}" for p in (*range(23), 30, 37, *range(90, 100))]
    lengths = dict.fromkeys(two, 2)
    lengths.update(dict.fromkeys(three, 3))
    lengths.update(dict.fromkeys(four, 4))
    return lengths


AI_LENGTH_BY_PREFIX: Mapping[str, int] = MappingProxyType(_prefix_lengths())
"""How many digits an AI has, by its first two digits (every AI sharing them has the same).

Prefixes GS1 has not allocated are absent.
"""


def lookup(ai: str) -> AIDefinition:
    """The definition of `ai`; `CodeFormatError` if tracegate does not know it."""
    definition = DEFINITIONS.get(ai)
    if definition is None:
        raise CodeFormatError(
            f"unknown Application Identifier {ai!r}",
            field=f"({ai})",
            hint="check the AI against the GS1 General Specifications; "
            "serialization.gs1.ai.DEFINITIONS lists the AIs tracegate supports",
        )
    return definition


def ai_at(data: str, position: int = 0) -> AIDefinition:
    """The definition of the AI that starts `data` at `position`.

    The AI's length comes from its first two digits, so an unknown AI is reported as the
    AI it would be (e.g. "(2345)" is never read as "(23)" followed by data).
    """
    prefix = data[position : position + 2]
    length = AI_LENGTH_BY_PREFIX.get(prefix)
    if length is None:
        shown = prefix if prefix.isascii() and prefix.isdigit() else repr(prefix)
        raise CodeFormatError(
            f"no Application Identifier starts with {shown}",
            position=position,
            hint="an element string is AI digits followed by the value; "
            "check for a missing or misplaced GS separator",
        )
    ai = data[position : position + length]
    definition = DEFINITIONS.get(ai)
    if definition is None:
        raise CodeFormatError(
            f"unknown Application Identifier ({ai})",
            field=f"({ai})",
            position=position,
            hint="check the AI against the GS1 General Specifications, "
            "or a GS separator missing before it",
        )
    return definition
