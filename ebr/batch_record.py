"""One batch as an export to other systems reads it from the store: who made it (site GLN and
GS1 company prefix), the product and lot, and every code allocated to it with its packaging
level and coding scheme. The journal's entries are read with `Journal.entries`.

Everything comes from the store, not from the site file: records are exported with the master
data they were made with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Engine, select

from ebr.catalog import load_product
from ebr.errors import NotFoundError
from ebr.models import Allocation, Batch, Code, Product, ProductLevel, Site
from serialization.codes import SchemeName
from serialization.rules import PackagingLevel, ProductMaster, rule_from_dict


@dataclass(frozen=True, slots=True)
class BatchRecord:
    batch_id: int
    line_id: str
    site_id: str
    site_gln: str | None
    site_company_prefix: str | None
    product: ProductMaster
    lot: str
    expiry: date | None
    levels: Mapping[str, PackagingLevel]
    """Each code allocated to the batch (by key) → its packaging level."""
    schemes: Mapping[PackagingLevel, SchemeName]
    """The coding scheme of each level the product has."""

    def scheme_of(self, key: str) -> SchemeName | None:
        level = self.levels.get(key)
        return None if level is None else self.schemes.get(level)


def read_batch_record(engine: Engine, batch_id: int) -> BatchRecord:
    with engine.connect() as conn:
        return batch_record_on(conn, batch_id)


def batch_record_on(conn: Connection, batch_id: int) -> BatchRecord:
    """The record through `conn` (inside a transaction: as the transaction sees it)."""
    batch = conn.execute(
        select(Batch.line_id, Batch.product_id, Batch.lot, Batch.expiry).where(Batch.id == batch_id)
    ).first()
    if batch is None:
        raise NotFoundError(f"unknown batch {batch_id}", hint="check the batch id")
    site = conn.execute(
        select(Site.id, Site.gln, Site.gs1_company_prefix)
        .join(Product, Product.site_id == Site.id)
        .where(Product.id == batch.product_id)
    ).one()
    product = load_product(conn, batch.product_id)
    schemes = {
        PackagingLevel(level): rule_from_dict(rule).scheme
        for level, rule in conn.execute(
            select(ProductLevel.level, ProductLevel.rule).where(
                ProductLevel.product_id == batch.product_id
            )
        )
    }
    levels = {
        key: PackagingLevel(level)
        for key, level in conn.execute(
            select(Code.key, Allocation.level)
            .join(Allocation, Code.allocation_id == Allocation.id)
            .where(Allocation.batch_id == batch_id)
        )
    }
    return BatchRecord(
        batch_id=batch_id,
        line_id=batch.line_id,
        site_id=site.id,
        site_gln=site.gln,
        site_company_prefix=site.gs1_company_prefix,
        product=product,
        lot=batch.lot,
        expiry=batch.expiry,
        levels=levels,
        schemes=schemes,
    )
