"""A finished batch to trace and recall: units in cases on a pallet, a case on no pallet, a
sampled unit, a rejected unit and voided labels; and users of every role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from argon2 import PasswordHasher
from sqlalchemy import Engine

from ebr.allocation import CodeAllocator
from ebr.audit.trail import AuditTrail
from ebr.catalog import LineSetup, ProductLevelSetup, SiteIdentity, create_batch, sync_master_data
from ebr.journal import EventKind, Journal, JournalEntry, JournalEvent
from ebr.users import Role, Session, Users
from serialization.codes import SchemeName
from serialization.rules import (
    Carrier,
    CodingRule,
    PackagingLevel,
    ProductMaster,
    SerialGenerator,
    SerialSpec,
)

PASSWORD = "Trace-and-recall-2026"
ADMIN_PASSWORD = "Boot-first-2026-key"
UNIT_RULE = CodingRule(
    "unit",
    SchemeName.GS1,
    Carrier.DATAMATRIX,
    SerialSpec(SerialGenerator.CSPRNG, "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", 12, 10_000_000),
    gs1_ais=("01", "17", "10", "21"),
)
SSCC_RULE = CodingRule(
    "sscc",
    SchemeName.SSCC,
    Carrier.GS1_128,
    SerialSpec(SerialGenerator.CSPRNG, "0123456789", 9, 10**8),
)
PRODUCT = ProductMaster(
    "amox", "阿莫西林胶囊", gtin="09501101530003", company_prefix="9501101", nmpa_drug_id="8612345"
)
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@dataclass
class TracedBatch:
    engine: Engine
    batch: int
    units: list[str]
    """u0–u7 packed (u0–u3 in cases[0], u4–u7 in cases[1]), u8 sampled, u9 rejected."""
    cases: list[str]
    """cases[0] and cases[1] on pallets[0]; cases[2] packed with u10–u11, on no pallet."""
    pallets: list[str]
    voided: list[str]
    """A case and a pallet label never used."""
    other_batch: int
    other_units: list[str]
    """Accepted units of a second batch, still running."""


def install(engine: Engine) -> None:
    sync_master_data(
        engine,
        SiteIdentity(
            "plant-1", "北京示例制药有限公司", "91110105MA01TG8P53", "9501101", "9501101000001"
        ),
        [UNIT_RULE, SSCC_RULE],
        [PRODUCT],
        [
            ProductLevelSetup("amox", PackagingLevel.UNIT, UNIT_RULE),
            ProductLevelSetup("amox", PackagingLevel.CASE, SSCC_RULE, quantity=4),
            ProductLevelSetup("amox", PackagingLevel.PALLET, SSCC_RULE, quantity=2),
        ],
        [LineSetup("line-1", "Line 1")],
    )


def traced_batch(engine: Engine, *, master_data: bool = True) -> TracedBatch:
    """The batches; `master_data=False` when a site file has already written it (the site
    file of `tests/gateway/trace_site.py` configures the same)."""
    if master_data:
        install(engine)
    batch = create_batch(
        engine,
        product_id="amox",
        line_id="line-1",
        lot="L-1",
        expiry=date(2028, 1, 31),
        production_date=date(2026, 11, 1),
    )
    allocator = CodeAllocator(engine)
    units = [c.key for c in allocator.allocate("line-1", batch, 12)]
    cases = [c.key for c in allocator.allocate("line-1", batch, 4, level=PackagingLevel.CASE)]
    pallets = [c.key for c in allocator.allocate("line-1", batch, 2, level=PackagingLevel.PALLET)]
    journal = Journal(engine)
    accepted = [key for index, key in enumerate(units) if index != 9]
    write(journal, [JournalEvent(batch, EventKind.UNIT_ISSUED, code_key=k) for k in units])
    write(journal, [JournalEvent(batch, EventKind.UNIT_ACCEPTED, code_key=k) for k in accepted])
    write(
        journal,
        [
            JournalEvent(
                batch, EventKind.UNIT_REJECTED, code_key=units[9], data={"reason": "grade"}
            ),
            JournalEvent(
                batch,
                EventKind.UNIT_SAMPLED,
                code_key=units[8],
                data={"reason": "QA", "destructive": True, "user": "qa1"},
            ),
            _packed(batch, cases[0], units[0:4], "case"),
            _packed(batch, cases[1], units[4:8], "case"),
            _packed(batch, cases[2], units[10:12], "case"),
            _packed(batch, pallets[0], cases[0:2], "pallet"),
            JournalEvent(
                batch,
                EventKind.CODES_VOIDED,
                data={"keys": [cases[3], pallets[1]], "reason": "batch end"},
            ),
        ],
    )
    write(journal, [_phase(batch, "reconciled")])
    other = create_batch(
        engine, product_id="amox", line_id="line-1", lot="L-2", expiry=date(2028, 2, 29)
    )
    other_units = [c.key for c in allocator.allocate("line-1", other, 2)]
    write(journal, [JournalEvent(other, EventKind.UNIT_ISSUED, code_key=k) for k in other_units])
    write(journal, [JournalEvent(other, EventKind.UNIT_ACCEPTED, code_key=k) for k in other_units])
    write(journal, [_phase(other, "running")])
    return TracedBatch(
        engine, batch, units, cases[:3], pallets[:1], [cases[3], pallets[1]], other, other_units
    )


def _packed(batch: int, parent: str, children: list[str], level: str) -> JournalEvent:
    return JournalEvent(
        batch, EventKind.AGGREGATED, code_key=parent, data={"children": children, "level": level}
    )


def _phase(batch: int, to: str) -> JournalEvent:
    return JournalEvent(batch, EventKind.BATCH_PHASE, data={"to": to, "user": "qa1"})


def write(journal: Journal, events: list[JournalEvent]) -> list[JournalEntry]:
    results = journal.append_many(events)
    entries = [r for r in results if isinstance(r, JournalEntry)]
    assert len(entries) == len(events), [r for r in results if not isinstance(r, JournalEntry)]
    return entries


def site_users(trail: AuditTrail) -> Users:
    """Users `qa1` (QA), `sup1` (supervisor) and `op1` (operator), passwords PASSWORD."""
    users = Users(trail, hasher=FAST_HASHER)
    admin_password = ADMIN_PASSWORD
    users.bootstrap_administrator("admin", "Administrator", admin_password)
    admin = users.login("admin", admin_password)
    for name, full_name, role in (
        ("qa1", "秦质量", Role.QA),
        ("sup1", "Sam Supervisor", Role.SUPERVISOR),
        ("op1", "Olga Operator", Role.OPERATOR),
    ):
        users.create(admin, username=name, full_name=full_name, role=role, password=PASSWORD + "0")
        users.change_password(name, PASSWORD + "0", PASSWORD)
    users.logout(admin)
    return users


def login(users: Users, name: str) -> Session:
    return users.login(name, PASSWORD)
