"""Master data for store tests, built from the plain serialization types (no site file)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from ebr.catalog import (
    LineSetup,
    ProductLevelSetup,
    SiteIdentity,
    create_batch,
    sync_master_data,
)
from serialization.codes import SchemeName
from serialization.rules import (
    Carrier,
    CodingRule,
    NationalIdentity,
    PackagingLevel,
    ProductMaster,
    SerialGenerator,
    SerialSpec,
)

ALNUM = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
MASTER_KEY = bytes(range(32))
USCC = "91110000101623741K"


def _serial(generator: SerialGenerator, alphabet: str = ALNUM, length: int = 12) -> SerialSpec:
    return SerialSpec(generator, alphabet, length, planned_volume=10_000_000)


GS1_CSPRNG = CodingRule(
    "gs1-csprng",
    SchemeName.GS1,
    Carrier.DATAMATRIX,
    _serial(SerialGenerator.CSPRNG),
    gs1_ais=("01", "17", "10", "21"),
)
GS1_FF1 = CodingRule(
    "gs1-ff1",
    SchemeName.GS1,
    Carrier.DATAMATRIX,
    _serial(SerialGenerator.FF1),
    gs1_ais=("01", "21", "17", "10"),
)
GS1_IMPORTED = CodingRule(
    "gs1-imported",
    SchemeName.GS1,
    Carrier.DATAMATRIX,
    _serial(SerialGenerator.IMPORTED),
    gs1_ais=("01", "17", "10", "21"),
)
SSCC = CodingRule(
    "sscc", SchemeName.SSCC, Carrier.GS1_128, _serial(SerialGenerator.FF1, "0123456789", 9)
)
NMPA = CodingRule("nmpa", SchemeName.NMPA20, Carrier.CODE128, None)
NATIONAL = CodingRule(
    "national",
    SchemeName.NATIONAL,
    Carrier.QR,
    _serial(SerialGenerator.CSPRNG),
    national_attribute_id=2,
)
TEMPLATE = CodingRule(
    "template",
    SchemeName.TEMPLATE,
    Carrier.DATAMATRIX,
    _serial(SerialGenerator.IMPORTED),
    template="TG{drug_id:7}{serial:10}{check}",
    check="mod37_36",
)

PRODUCTS = {
    "amox": ProductMaster(
        "amox", "Amoxicillin 500 mg", gtin="09501101530003", company_prefix="9501101"
    ),
    "ibu": ProductMaster(
        "ibu", "Ibuprofen 200 mg", gtin="09501101530010", company_prefix="9501101"
    ),
    "para": ProductMaster(
        "para", "Paracetamol 500 mg", gtin="09501101530027", company_prefix="9501101"
    ),
    "nmpa": ProductMaster("nmpa", "Domestic drug", nmpa_drug_id="8612345"),
    "herb": ProductMaster(
        "herb", "Decoction pieces", national=NationalIdentity(USCC, "0101", "110105")
    ),
    "tmpl": ProductMaster("tmpl", "Plant format", nmpa_drug_id="8612345"),
}
LEVELS = [
    ProductLevelSetup("amox", PackagingLevel.UNIT, GS1_CSPRNG),
    ProductLevelSetup("amox", PackagingLevel.CASE, SSCC, quantity=20),
    ProductLevelSetup("ibu", PackagingLevel.UNIT, GS1_FF1),
    ProductLevelSetup("para", PackagingLevel.UNIT, GS1_IMPORTED),
    ProductLevelSetup("nmpa", PackagingLevel.UNIT, NMPA),
    ProductLevelSetup("herb", PackagingLevel.UNIT, NATIONAL),
    ProductLevelSetup("tmpl", PackagingLevel.UNIT, TEMPLATE),
]


def install_master_data(engine: Engine) -> None:
    sync_master_data(
        engine,
        SiteIdentity("plant-1", "Demo Pharma", USCC, "9501101", "9501101000001"),
        [GS1_CSPRNG, GS1_FF1, GS1_IMPORTED, SSCC, NMPA, NATIONAL, TEMPLATE],
        PRODUCTS.values(),
        LEVELS,
        [LineSetup("line-1", "Line 1"), LineSetup("line-2", "Line 2")],
    )


def open_batch(engine: Engine, product: str, lot: str = "AB-123", line: str = "line-1") -> int:
    return create_batch(
        engine,
        product_id=product,
        line_id=line,
        lot=lot,
        expiry=date(2027, 5, 31),
        production_date=date(2026, 11, 1),
    )
