"""What an export reads of a batch: site identity, product, lot, each code's level and scheme."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from ebr.allocation import CodeAllocator
from ebr.batch_record import read_batch_record
from serialization.codes import SchemeName
from serialization.rules import PackagingLevel
from tests.ebr.fixtures_master import MASTER_KEY, install_master_data, open_batch


def test_the_record_names_each_code_with_its_level_and_scheme(engine: Engine) -> None:
    install_master_data(engine)
    batch = open_batch(engine, "amox")
    other = open_batch(engine, "amox", lot="CD-456")
    allocator = CodeAllocator(engine, master_key=MASTER_KEY)
    units = [c.key for c in allocator.allocate("line-1", batch, 3)]
    cases = [c.key for c in allocator.allocate("line-1", batch, 1, level=PackagingLevel.CASE)]
    foreign = allocator.allocate("line-1", other, 1)[0].key

    record = read_batch_record(engine, batch)
    assert (record.site_id, record.site_gln, record.site_company_prefix) == (
        "plant-1",
        "9501101000001",
        "9501101",
    )
    assert (record.product.gtin, record.lot, record.expiry) == (
        "09501101530003",
        "AB-123",
        date(2027, 5, 31),
    )
    assert record.line_id == "line-1"
    assert {key: record.scheme_of(key) for key in [*units, *cases]} == {
        **dict.fromkeys(units, SchemeName.GS1),
        **dict.fromkeys(cases, SchemeName.SSCC),
    }
    assert record.levels[cases[0]] is PackagingLevel.CASE
    assert record.scheme_of(foreign) is None
