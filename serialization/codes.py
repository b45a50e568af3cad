"""Value types shared by every coding scheme."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SchemeName(StrEnum):
    GS1 = "gs1"
    """GS1 element string (GTIN + serial and more) carried in a GS1 DataMatrix or GS1-128."""
    SSCC = "sscc"
    """GS1 Serial Shipping Container Code for logistic units (cases, pallets)."""
    NMPA20 = "nmpa20"
    """China's 20-digit domestic drug traceability code, issuer-supplied."""
    NATIONAL = "national"
    """National important-product trace code (USCC).(class).(origin).(attr id).(attr code)."""
    TEMPLATE = "template"
    """A plant-specific format described by a template, with an ISO/IEC 7064 check character."""


@dataclass(frozen=True, slots=True)
class TraceCode:
    """One unit's code, in every form the line needs.

    `key` is the identity that must be unique for all time (R-CODE-1): for GS1 the GTIN and serial
    (`01…21…`), for an SSCC the SSCC (`00…`), for the other schemes the whole code. `data` is what
    the symbol carries (GS as the real 0x1D byte, no symbology identifier); `hri` is the text
    printed beside the symbol for people.
    """

    scheme: SchemeName
    key: str
    data: str
    hri: str
    fields: tuple[tuple[str, str], ...]
    symbology: str

    def field(self, name: str) -> str | None:
        for field_name, value in self.fields:
            if field_name == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Check:
    """One validation performed on a code, in words."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class ParsedCode:
    code: TraceCode
    checks: tuple[Check, ...]
    warnings: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return all(check.ok for check in self.checks)
