"""GMP records cannot be deleted by anyone going through the database (R-REC-1)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from ebr.allocation import CodeAllocator
from ebr.code_states import CodeStates
from ebr.db import make_engine
from ebr.schema import upgrade
from serialization.states import CodeState
from tests.ebr.fixtures_master import install_master_data, open_batch


@pytest.fixture
def records(engine: Engine) -> str:
    install_master_data(engine)
    batch = open_batch(engine, "amox")
    codes = CodeAllocator(engine).allocate("line-1", batch, 3)
    CodeStates(engine).mark([codes[0].key], CodeState.ENCODED)
    return codes[0].key


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM codes",
        "DELETE FROM batches",
        "DELETE FROM allocations",
        "DELETE FROM serial_pools",
        "DELETE FROM products",
        "DELETE FROM code_transitions",
        "UPDATE code_transitions SET reason = 'rewritten'",
    ],
)
def test_removing_or_rewriting_records_is_refused(
    engine: Engine, records: str, statement: str
) -> None:
    with pytest.raises(DBAPIError, match=r"tracegate: (DELETE|UPDATE) on"), engine.begin() as conn:
        conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM codes")).scalar_one() == 3


def test_truncate_is_refused_on_postgresql(pg_schema_url: str) -> None:
    engine = make_engine(pg_schema_url)
    try:
        upgrade(engine)
        install_master_data(engine)
        with pytest.raises(DBAPIError, match="tracegate: TRUNCATE"), engine.begin() as conn:
            conn.execute(text("TRUNCATE codes CASCADE"))
    finally:
        engine.dispose()


def test_records_still_change_state(engine: Engine, records: str) -> None:
    CodeStates(engine).mark([records], CodeState.COMMISSIONED)
    assert CodeStates(engine).statuses([records])[records].state is CodeState.COMMISSIONED
