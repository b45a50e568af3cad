"""Every writer of the store leaves audit entries in its own transaction (R-AUD-1, R-AUD-2)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import Engine

from ebr.allocation import CodeAllocator
from ebr.audit.actor import Actor
from ebr.audit.bundle import verify_database
from ebr.audit.trail import AuditTrail
from ebr.catalog import SiteIdentity, sync_master_data
from ebr.code_states import CodeStates
from ebr.errors import AllocationError
from ebr.imports import CodeImporter
from tests.ebr.fixtures_master import PRODUCTS, USCC, install_master_data, open_batch


def test_store_writers_leave_a_verifiable_trail(engine: Engine) -> None:
    install_master_data(engine)
    trail = AuditTrail(engine)
    assert {r.event for r in trail.entries(object_type="product")} >= {
        "product.created",
        "product_levels.created",
    }
    batch = open_batch(engine, "amox")
    codes = CodeAllocator(engine).allocate("line-1", batch, 5)
    qa = Actor(user_id=7, username="qa.li")
    CodeStates(engine, actor=qa).invalidate([codes[0].key], reason="label damaged")
    CodeImporter(engine).import_bytes("s.csv", b"product,serial\npara,A1\n")

    (created,) = trail.entries(event="batch.created")
    assert created.new["lot"] == "AB-123"
    (allocated,) = trail.entries(event="codes.allocated")
    assert allocated.new["count"] == 5
    assert allocated.new["first"] == codes[0].key
    (changed,) = trail.entries(event="codes.state_changed")
    assert changed.username == "qa.li"
    assert changed.reason == "label damaged"
    assert changed.old == {"states": {"Allocated": 1}}
    assert changed.new["state"] == "SNInvalid"
    assert trail.entries(event="codes.imported")[0].new["rows"] == 1
    assert verify_database(engine).ok


def test_a_changed_product_is_recorded_with_old_and_new_values(engine: Engine) -> None:
    install_master_data(engine)
    renamed = replace(PRODUCTS["herb"], name="Decoction pieces, 500 g")
    sync_master_data(
        engine,
        SiteIdentity("plant-1", "Demo Pharma", USCC, "9501101", "9501101000001"),
        [],
        [renamed],
        [],
        [],
        reason="new pack size approved (change control CC-42)",
    )
    (change,) = AuditTrail(engine).entries(event="product.modified")
    assert change.object_id == "herb"
    assert change.old["name"] == "Decoction pieces"
    assert change.new["name"] == "Decoction pieces, 500 g"
    assert change.reason == "new pack size approved (change control CC-42)"
    install_master_data(engine)
    assert len(AuditTrail(engine).entries(event="product.modified")) == 2


def test_a_refused_operation_leaves_no_entry(engine: Engine) -> None:
    install_master_data(engine)
    batch = open_batch(engine, "herb")
    before = len(AuditTrail(engine).entries())
    with pytest.raises(AllocationError):
        CodeAllocator(engine).allocate("line-2", batch, 1)
    assert len(AuditTrail(engine).entries()) == before
    assert CodeStates(engine).unconfirmed("line-1") == []
