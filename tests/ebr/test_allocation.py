from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import Engine, func, select

from ebr.allocation import CodeAllocator
from ebr.catalog import LineSetup, ProductLevelSetup, SiteIdentity, sync_master_data
from ebr.errors import AllocationError, NotFoundError, PoolExhaustedError, StoreError
from ebr.imports import CodeImporter
from ebr.models import Code
from serialization.errors import SerialPolicyError
from serialization.gs1.element import parse
from serialization.rules import PackagingLevel
from serialization.states import CodeState
from tests.ebr.fixtures_master import (
    GS1_CSPRNG,
    GS1_FF1,
    MASTER_KEY,
    PRODUCTS,
    USCC,
    install_master_data,
    open_batch,
)


@pytest.fixture
def store(engine: Engine) -> Engine:
    install_master_data(engine)
    return engine


def _states(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(Code.key, Code.state)).all())


def test_gs1_codes_are_allocated_durably_and_unique(store: Engine) -> None:
    batch = open_batch(store, "amox")
    allocator = CodeAllocator(store)
    first = allocator.allocate("line-1", batch, 500)
    second = allocator.allocate("line-1", batch, 500)
    keys = [c.key for c in first + second]
    assert len(set(keys)) == 1000
    states = _states(store)
    assert all(states[key] == CodeState.ALLOCATED for key in keys)
    code = first[0]
    assert code.key == "0109501101530003" + "21" + code.serial
    assert code.data == f"01095011015300031727053110AB-123\x1d21{code.serial}"
    assert code.hri == f"(01)09501101530003(17)270531(10)AB-123(21){code.serial}"
    message = parse(code.data)
    assert message.value("21") == code.serial


def test_ff1_pool_advances_its_counter_and_never_repeats(store: Engine) -> None:
    batch = open_batch(store, "ibu")
    allocator = CodeAllocator(store, master_key=MASTER_KEY)
    keys = [c.key for _ in range(5) for c in allocator.allocate("line-1", batch, 200)]
    assert len(set(keys)) == 1000
    again = CodeAllocator(store, master_key=MASTER_KEY).allocate("line-1", batch, 10)
    assert not {c.key for c in again} & set(keys)


def test_ff1_without_a_key_is_refused_with_a_hint(store: Engine) -> None:
    batch = open_batch(store, "ibu")
    with pytest.raises(AllocationError, match="no serial key") as error:
        CodeAllocator(store).allocate("line-1", batch, 1)
    assert "keys create" in str(error.value)


def test_sscc_cases(store: Engine) -> None:
    batch = open_batch(store, "amox")
    cases = CodeAllocator(store, master_key=MASTER_KEY).allocate(
        "line-1", batch, 50, level=PackagingLevel.CASE
    )
    for case in cases:
        assert case.key.startswith("0009501101")
        assert len(case.key) == 20
        assert parse(case.data).value("00") == case.key[2:]


def test_national_and_wrong_line_and_closed_batch(store: Engine) -> None:
    batch = open_batch(store, "herb")
    codes = CodeAllocator(store).allocate("line-1", batch, 3)
    assert codes[0].data.startswith("91110000101623741K.0101.110105.2.")
    with pytest.raises(AllocationError, match="runs on line 'line-1'"):
        CodeAllocator(store).allocate("line-2", batch, 1)
    with pytest.raises(AllocationError, match="at least one"):
        CodeAllocator(store).allocate("line-1", batch, 0)
    with pytest.raises(NotFoundError, match="unknown batch"):
        CodeAllocator(store).allocate("line-1", 999_999, 1)


def test_unconfigured_level_is_refused(store: Engine) -> None:
    batch = open_batch(store, "herb")
    with pytest.raises(NotFoundError, match="no coding rule for level pallet"):
        CodeAllocator(store).allocate("line-1", batch, 1, level=PackagingLevel.PALLET)


def test_duplicate_lot_is_refused(store: Engine) -> None:
    open_batch(store, "amox", lot="L1")
    with pytest.raises(StoreError, match="already has a batch with lot 'L1'"):
        open_batch(store, "amox", lot="L1")


def test_imported_serials_are_used_once_in_import_order(store: Engine) -> None:
    serials = [f"S{n:05d}" for n in range(30)]
    body = "product,serial\n" + "".join(f"para,{s}\n" for s in serials)
    CodeImporter(store).import_bytes("serials.csv", body.encode())
    batch = open_batch(store, "para")
    allocator = CodeAllocator(store)
    first = allocator.allocate("line-1", batch, 20)
    assert [c.serial for c in first] == serials[:20]
    assert first[0].data == "01095011015300271727053110AB-123\x1d21S00000"
    with pytest.raises(PoolExhaustedError, match="has 10 unused"):
        allocator.allocate("line-1", batch, 11)
    assert len(allocator.allocate("line-1", batch, 10)) == 10


def test_imported_range_is_handed_out_permuted_and_complete(store: Engine) -> None:
    CodeImporter(store).import_bytes(
        "range.json", b'{"product": "para", "ranges": [{"start": "100000", "end": "100999"}]}'
    )
    batch = open_batch(store, "para")
    allocator = CodeAllocator(store, master_key=MASTER_KEY)
    serials = [c.serial for _ in range(10) for c in allocator.allocate("line-1", batch, 100)]
    assert sorted(serials) == [str(n) for n in range(100000, 101000)]
    assert serials[:5] != sorted(serials[:5])
    with pytest.raises(PoolExhaustedError):
        allocator.allocate("line-1", batch, 1)


def test_whole_codes_nmpa(store: Engine) -> None:
    codes = [f"8612345{n:09d}{n % 10000:04d}" for n in range(5)]
    CodeImporter(store).import_bytes(
        "codes.json", ('{"product": "nmpa", "codes": ["' + '","'.join(codes) + '"]}').encode()
    )
    batch = open_batch(store, "nmpa")
    got = CodeAllocator(store).allocate("line-1", batch, 5)
    assert [c.data for c in got] == codes
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Code)).scalar_one() == 5


def test_a_guessable_serial_spec_in_the_store_is_refused(engine: Engine) -> None:
    assert GS1_CSPRNG.serial is not None
    weak = replace(GS1_CSPRNG, id="weak", serial=replace(GS1_CSPRNG.serial, length=4))
    sync_master_data(
        engine,
        SiteIdentity("plant-1", "Demo", USCC),
        [weak],
        [PRODUCTS["amox"]],
        [ProductLevelSetup("amox", PackagingLevel.UNIT, weak)],
        [LineSetup("line-1", "Line 1")],
    )
    batch = open_batch(engine, "amox")
    with pytest.raises(SerialPolicyError, match="guessing probability"):
        CodeAllocator(engine).allocate("line-1", batch, 1)


def test_a_changed_serial_format_starts_a_new_pool(engine: Engine) -> None:
    install_master_data(engine)
    batch = open_batch(engine, "ibu")
    allocator = CodeAllocator(engine, master_key=MASTER_KEY)
    before = allocator.allocate("line-1", batch, 50)
    assert GS1_FF1.serial is not None
    longer = replace(GS1_FF1, serial=replace(GS1_FF1.serial, length=14))
    sync_master_data(
        engine,
        SiteIdentity("plant-1", "Demo", USCC),
        [longer],
        [PRODUCTS["ibu"]],
        [ProductLevelSetup("ibu", PackagingLevel.UNIT, longer)],
        [],
    )
    after = allocator.allocate("line-1", batch, 50)
    assert {len(c.serial) for c in before} == {12}
    assert {len(c.serial) for c in after} == {14}
    assert not {c.key for c in before} & {c.key for c in after}
