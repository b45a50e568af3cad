"""What a plant configures to code a product at one packaging level, as plain data.

`config` builds these from the site file after validating it; `ebr` and the line use them to
make codes. Keeping them here, free of pydantic and SQL, lets every layer share one meaning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from serialization.codes import SchemeName


class SerialGenerator(StrEnum):
    CSPRNG = "csprng"
    """Uniform draw from the OS's cryptographic generator; uniqueness by database constraint."""
    FF1 = "ff1"
    """NIST SP 800-38G FF1 permutation of a counter, keyed per product: no collisions, no lookups."""
    IMPORTED = "imported"
    """Serials or whole codes come only from lists or ranges imported from the enterprise."""


class Carrier(StrEnum):
    DATAMATRIX = "datamatrix"
    GS1_128 = "gs1-128"
    CODE128 = "code128"
    QR = "qr"


class PackagingLevel(StrEnum):
    UNIT = "unit"
    BUNDLE = "bundle"
    CASE = "case"
    PALLET = "pallet"


@dataclass(frozen=True, slots=True)
class SerialSpec:
    generator: SerialGenerator
    alphabet: str
    length: int
    planned_volume: int
    """Serials expected over the life of the product at this level: sets the guessing odds."""


@dataclass(frozen=True, slots=True)
class CodingRule:
    id: str
    scheme: SchemeName
    carrier: Carrier
    serial: SerialSpec | None
    gs1_ais: tuple[str, ...] = ()
    """GS1: the data elements in print order, e.g. ("01", "17", "10", "21")."""
    expiry_day_zero: bool = False
    """GS1: print expiry as YYMM00 (last day of the month) instead of the exact day."""
    sscc_extension: str = "0"
    national_attribute_id: int | None = None
    template: str | None = None
    check: str | None = None
    """Template: the ISO/IEC 7064 system of the `{check}` field: mod11_10, mod37_36, mod97_10."""


@dataclass(frozen=True, slots=True)
class NationalIdentity:
    """The fixed segments of a national important-product trace code for one product."""

    uscc: str
    product_class: str
    origin: str


@dataclass(frozen=True, slots=True)
class ProductMaster:
    id: str
    name: str
    gtin: str | None = None
    company_prefix: str | None = None
    """GS1 company prefix this product's GTIN and SSCCs are built on (from GS1 membership data)."""
    nmpa_drug_id: str | None = None
    national: NationalIdentity | None = None
    template_values: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LotData:
    lot: str
    expiry: date | None = None
    production_date: date | None = None
