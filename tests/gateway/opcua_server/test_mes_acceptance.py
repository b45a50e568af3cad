"""Acceptance (issue 7): a real asyncua client pages through 100,000 unit records with
acknowledgements, the server restarted between pages; no record lost or repeated."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine, select

from ebr.models import JournalEventRow
from tests.gateway.opcua_server.mes_fixtures import make_plant, mes_client, serving, settings

UNITS = 100_000
PAGE = 10_000
"""Above the server's default page (10,000): four restarts rather than ten, as each costs asyncua's
start-up of about two seconds."""


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_100k_unit_records_with_a_restart_between_pages(engine: Engine) -> None:
    """On the embedded default store; paging with restarts on PostgreSQL is in
    test_mes_records (the suite's time budget does not take 100,000 records twice)."""
    plant = make_plant(engine, units=UNITS, cases=0)
    plant.commission(plant.units, chunk=25_000)
    with engine.connect() as conn:
        expected = list(
            conn.execute(
                select(JournalEventRow.id)
                .where(JournalEventRow.kind == "unit.accepted")
                .order_by(JournalEventRow.id)
            ).scalars()
        )
    assert len(expected) == UNITS
    server_settings = settings(max_page_records=PAGE, max_page_bytes=16 * 1024 * 1024)
    received: list[int] = []
    codes: list[str] = []
    restarts = 0
    started = time.perf_counter()
    more = True
    while more:
        async with (
            serving(plant, server_settings),
            mes_client(server_settings.endpoint, timeout=60) as mes,
        ):
            records, last, more = await mes.get_records(-1, PAGE)
            received += [r["sequence"] for r in records]
            codes += [r["code"] for r in records]
            assert await mes.acknowledge(last) == last
        restarts += 1
    elapsed = time.perf_counter() - started
    assert received == expected
    assert codes == plant.units
    assert restarts == UNITS // PAGE
    print(f"pulled {UNITS} records in {restarts} pages with restarts: {elapsed:.1f} s")
