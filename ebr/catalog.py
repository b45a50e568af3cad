"""Master data in the store: site, coding rules, products, lines, batches.

The store keeps its own copy of what the site file configured, so that every record can be
read back with the rule and product data it was made with, even after the file changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select

from ebr.audit.actor import GATEWAY, Actor, trail_for
from ebr.audit.trail import AuditEvent, AuditTrail
from ebr.errors import NotFoundError, StoreError
from ebr.models import Batch, CodingRuleRow, Line, Product, ProductLevel, Site
from ebr.sql import insert_returning_id
from serialization.coding import CodeFactory
from serialization.lifecycle import BatchPhase
from serialization.rules import (
    CodingRule,
    LotData,
    PackagingLevel,
    ProductMaster,
    product_from_dict,
    product_to_dict,
    rule_from_dict,
    rule_to_dict,
)
from serialization.serials import tweak_for

BATCH_STATUSES = tuple(phase.value for phase in BatchPhase)


@dataclass(frozen=True, slots=True)
class SiteIdentity:
    id: str
    company_name: str
    uscc: str
    gs1_company_prefix: str | None = None
    gln: str | None = None


@dataclass(frozen=True, slots=True)
class ProductLevelSetup:
    product_id: str
    level: PackagingLevel
    rule: CodingRule
    """The rule resolved for this product (as `SiteConfig.rule_for` gives it)."""
    quantity: int | None = None


@dataclass(frozen=True, slots=True)
class LineSetup:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class BatchContext:
    batch_id: int
    line_id: str
    status: str
    lot: str
    product: ProductMaster
    rule: CodingRule
    lot_data: LotData
    tweak: bytes


def sync_master_data(
    engine: Engine,
    site: SiteIdentity,
    rules: Iterable[CodingRule],
    products: Iterable[ProductMaster],
    levels: Iterable[ProductLevelSetup],
    lines: Iterable[LineSetup],
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    audit: AuditTrail | None = None,
    actor: Actor = GATEWAY,
    reason: str = "site configuration applied",
) -> None:
    """Write the configured master data in one transaction; every creation and every change
    (old and new values) goes into the audit trail in the same transaction."""
    events: list[AuditEvent | None] = []
    with engine.begin() as conn:
        site_values = {
            "company_name": site.company_name,
            "uscc": site.uscc,
            "gs1_company_prefix": site.gs1_company_prefix,
            "gln": site.gln,
        }
        events.append(
            _upsert(conn, Site, site.id, site_values, actor, reason, {"updated_at": clock()})
        )
        for rule in rules:
            rule_values: dict[str, Any] = {
                "scheme": rule.scheme.value,
                "definition": rule_to_dict(rule),
            }
            events.append(_upsert(conn, CodingRuleRow, rule.id, rule_values, actor, reason))
        for product in products:
            values: dict[str, Any] = {
                "site_id": site.id,
                "name": product.name,
                "gtin": product.gtin.rjust(14, "0") if product.gtin else None,
                "company_prefix": product.company_prefix,
                "nmpa_drug_id": product.nmpa_drug_id,
                "master": product_to_dict(product),
            }
            events.append(_upsert(conn, Product, product.id, values, actor, reason))
        level_list = list(levels)
        for product_id in dict.fromkeys(setup.product_id for setup in level_list):
            wanted = [s for s in level_list if s.product_id == product_id]
            events.append(_replace_levels(conn, product_id, wanted, actor, reason))
        for line in lines:
            events.append(_upsert(conn, Line, line.id, {"name": line.name}, actor, reason))
        recorded = [event for event in events if event is not None]
        if recorded:
            trail_for(engine, audit).record(conn, recorded)


def _upsert(
    conn: Connection,
    model: type,
    key: str,
    values: Mapping[str, Any],
    actor: Actor,
    reason: str,
    untracked: Mapping[str, Any] | None = None,
) -> AuditEvent | None:
    """Insert or update one row; the audit event for what changed, or None if nothing did."""
    table = model.__table__  # type: ignore[attr-defined]
    object_type = table.name.removesuffix("s")
    row = conn.execute(select(table).where(table.c.id == key)).mappings().first()
    if row is None:
        conn.execute(insert(table).values(id=key, **values, **(untracked or {})))
        return actor.event(
            f"{object_type}.created", object_type, key, action="create", new=dict(values)
        )
    old = {name: row[name] for name in values if row[name] != values[name]}
    if not old:
        return None
    conn.execute(table.update().where(table.c.id == key).values(**values, **(untracked or {})))
    return actor.event(
        f"{object_type}.modified",
        object_type,
        key,
        action="modify",
        old=old,
        new={name: values[name] for name in old},
        reason=reason,
    )


def _replace_levels(
    conn: Connection, product_id: str, wanted: list[ProductLevelSetup], actor: Actor, reason: str
) -> AuditEvent | None:
    def plain(level: str, rule_id: str, quantity: int | None, rule: Any) -> dict[str, Any]:
        return {"level": level, "coding_rule": rule_id, "quantity": quantity, "rule": rule}

    before = [
        plain(row.level, row.coding_rule_id, row.quantity, row.rule)
        for row in conn.execute(
            select(ProductLevel)
            .where(ProductLevel.product_id == product_id)
            .order_by(ProductLevel.level)
        )
    ]
    after = sorted(
        (plain(s.level.value, s.rule.id, s.quantity, rule_to_dict(s.rule)) for s in wanted),
        key=lambda item: str(item["level"]),
    )
    if before == after:
        return None
    conn.execute(delete(ProductLevel).where(ProductLevel.product_id == product_id))
    for setup in wanted:
        conn.execute(
            insert(ProductLevel).values(
                product_id=setup.product_id,
                level=setup.level.value,
                coding_rule_id=setup.rule.id,
                quantity=setup.quantity,
                rule=rule_to_dict(setup.rule),
            )
        )
    if not before:
        return actor.event(
            "product_levels.created", "product", product_id, action="create", new=after
        )
    return actor.event(
        "product_levels.modified",
        "product",
        product_id,
        action="modify",
        old=before,
        new=after,
        reason=reason,
    )


def load_product(conn: Connection, product_id: str) -> ProductMaster:
    row = conn.execute(select(Product.master).where(Product.id == product_id)).first()
    if row is None:
        raise NotFoundError(
            f"unknown product {product_id!r}", hint="check the product id in the site file"
        )
    return product_from_dict(row.master)


def load_rule(conn: Connection, product_id: str, level: PackagingLevel) -> CodingRule:
    row = conn.execute(
        select(ProductLevel.rule).where(
            ProductLevel.product_id == product_id, ProductLevel.level == level.value
        )
    ).first()
    if row is None:
        raise NotFoundError(
            f"product {product_id!r} has no coding rule for level {level.value}",
            hint="add the level with its coding_rule to the product in the site file; "
            "the gateway refuses to code a product whose rule is not configured (R-CODE-5)",
        )
    return rule_from_dict(row.rule)


def create_batch(
    engine: Engine,
    *,
    product_id: str,
    line_id: str,
    lot: str,
    expiry: date | None,
    production_date: date | None = None,
    planned_quantity: int | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    audit: AuditTrail | None = None,
    actor: Actor = GATEWAY,
) -> int:
    """Create a batch after checking that every configured level can code it (audited)."""
    with engine.begin() as conn:
        product = load_product(conn, product_id)
        if conn.execute(select(Line.id).where(Line.id == line_id)).first() is None:
            raise NotFoundError(f"unknown line {line_id!r}", hint="check the line id")
        levels = conn.execute(
            select(ProductLevel.rule).where(ProductLevel.product_id == product_id)
        ).scalars()
        lot_data = LotData(lot=lot, expiry=expiry, production_date=production_date)
        for rule in levels:
            CodeFactory(rule_from_dict(rule), product, lot_data)
        duplicate = conn.execute(
            select(Batch.id).where(Batch.product_id == product_id, Batch.lot == lot)
        ).first()
        if duplicate is not None:
            raise StoreError(
                f"product {product_id!r} already has a batch with lot {lot!r} "
                f"(batch {duplicate.id})",
                hint="a lot number is used once per product; choose another",
            )
        batch_id = insert_returning_id(
            conn,
            insert(Batch).values(
                product_id=product_id,
                line_id=line_id,
                lot=lot,
                expiry=expiry,
                production_date=production_date,
                planned_quantity=planned_quantity,
                status=BatchPhase.DOWNLOADED.value,
                created_at=clock(),
            ),
        )
        created = {
            "product_id": product_id,
            "line_id": line_id,
            "lot": lot,
            "expiry": expiry,
            "production_date": production_date,
            "planned_quantity": planned_quantity,
            "status": BatchPhase.DOWNLOADED.value,
        }
        trail_for(engine, audit).record(
            conn, [actor.event("batch.created", "batch", batch_id, action="create", new=created)]
        )
    return int(batch_id)


def load_batch_context(conn: Connection, batch_id: int, level: PackagingLevel) -> BatchContext:
    batch = conn.execute(select(Batch).where(Batch.id == batch_id)).first()
    if batch is None:
        raise NotFoundError(f"unknown batch {batch_id}", hint="create the batch first")
    product = load_product(conn, batch.product_id)
    rule = load_rule(conn, batch.product_id, level)
    return BatchContext(
        batch_id=batch.id,
        line_id=batch.line_id,
        status=batch.status,
        lot=batch.lot,
        product=product,
        rule=rule,
        lot_data=LotData(lot=batch.lot, expiry=batch.expiry, production_date=batch.production_date),
        tweak=tweak_for(product.gtin or product.id),
    )


@dataclass(frozen=True, slots=True)
class BatchInfo:
    id: int
    product_id: str
    line_id: str
    lot: str
    expiry: date | None
    status: str


def find_batch(engine: Engine, product_id: str, lot: str) -> BatchInfo | None:
    return _batch_where(engine, Batch.product_id == product_id, Batch.lot == lot)


def batch_info(engine: Engine, batch_id: int) -> BatchInfo | None:
    return _batch_where(engine, Batch.id == batch_id)


def _batch_where(engine: Engine, *where: Any) -> BatchInfo | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(
                Batch.id, Batch.product_id, Batch.line_id, Batch.lot, Batch.expiry, Batch.status
            ).where(*where)
        ).first()
    return None if row is None else BatchInfo(*row)
