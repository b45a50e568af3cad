"""What a plant configures to code a product at one packaging level, as plain data.

`config` builds these from the site file after validating it; `ebr` and the line use them to
make codes. Keeping them here, free of pydantic and SQL, lets every layer share one meaning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from serialization.codes import SchemeName
from serialization.national import DEFAULT_FORMAT, NationalCodeFormat


class SerialGenerator(StrEnum):
    CSPRNG = "csprng"
    """Uniform draw from the OS's cryptographic generator; uniqueness by database constraint."""
    FF1 = "ff1"
    """NIST SP 800-38G FF1 permutation of a counter, keyed per product: no collisions."""
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
    national_format: NationalCodeFormat = DEFAULT_FORMAT
    """National: delimiter and segment lengths, for platforms that differ from the defaults."""
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


def rule_to_dict(rule: CodingRule) -> dict[str, Any]:
    """A JSON-ready form of a rule, for the store; `rule_from_dict` reads it back."""
    return {
        "id": rule.id,
        "scheme": rule.scheme.value,
        "carrier": rule.carrier.value,
        "serial": None
        if rule.serial is None
        else {
            "generator": rule.serial.generator.value,
            "alphabet": rule.serial.alphabet,
            "length": rule.serial.length,
            "planned_volume": rule.serial.planned_volume,
        },
        "gs1_ais": list(rule.gs1_ais),
        "expiry_day_zero": rule.expiry_day_zero,
        "sscc_extension": rule.sscc_extension,
        "national_attribute_id": rule.national_attribute_id,
        "national_format": {
            "delimiter": rule.national_format.delimiter,
            "product_class_lengths": list(rule.national_format.product_class_lengths),
            "origin_lengths": list(rule.national_format.origin_lengths),
            "attribute_code_alphabet": rule.national_format.attribute_code_alphabet,
            "attribute_code_length": list(rule.national_format.attribute_code_length),
        },
        "template": rule.template,
        "check": rule.check,
    }


def rule_from_dict(data: Mapping[str, Any]) -> CodingRule:
    serial = data.get("serial")
    return CodingRule(
        id=data["id"],
        scheme=SchemeName(data["scheme"]),
        carrier=Carrier(data["carrier"]),
        serial=None
        if serial is None
        else SerialSpec(
            generator=SerialGenerator(serial["generator"]),
            alphabet=serial["alphabet"],
            length=int(serial["length"]),
            planned_volume=int(serial["planned_volume"]),
        ),
        gs1_ais=tuple(data.get("gs1_ais", ())),
        expiry_day_zero=bool(data.get("expiry_day_zero", False)),
        sscc_extension=data.get("sscc_extension", "0"),
        national_attribute_id=data.get("national_attribute_id"),
        national_format=_national_format(data.get("national_format")),
        template=data.get("template"),
        check=data.get("check"),
    )


def _national_format(data: Mapping[str, Any] | None) -> NationalCodeFormat:
    if not data:
        return DEFAULT_FORMAT
    low, high = data["attribute_code_length"]
    return NationalCodeFormat(
        delimiter=data["delimiter"],
        product_class_lengths=tuple(data["product_class_lengths"]),
        origin_lengths=tuple(data["origin_lengths"]),
        attribute_code_alphabet=data["attribute_code_alphabet"],
        attribute_code_length=(int(low), int(high)),
    )


def product_to_dict(product: ProductMaster) -> dict[str, Any]:
    return {
        "id": product.id,
        "name": product.name,
        "gtin": product.gtin,
        "company_prefix": product.company_prefix,
        "nmpa_drug_id": product.nmpa_drug_id,
        "national": None
        if product.national is None
        else {
            "uscc": product.national.uscc,
            "product_class": product.national.product_class,
            "origin": product.national.origin,
        },
        "template_values": dict(product.template_values),
    }


def product_from_dict(data: Mapping[str, Any]) -> ProductMaster:
    national = data.get("national")
    return ProductMaster(
        id=data["id"],
        name=data["name"],
        gtin=data.get("gtin"),
        company_prefix=data.get("company_prefix"),
        nmpa_drug_id=data.get("nmpa_drug_id"),
        national=None if national is None else NationalIdentity(**national),
        template_values=dict(data.get("template_values") or {}),
    )
