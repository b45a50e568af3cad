"""A PostgreSQL site database as a destination: the line's events land in its table once by
eventID, also when a page is sent again after a lost acknowledgement."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, create_engine, select

from drivers.backoff import Backoff
from gateway.uplink.dispatcher import Dispatcher, DispatcherSettings
from gateway.uplink.site_database import EVENTS, SiteDatabaseUplink
from tests.gateway.uplink.test_outbox_feed import exported_bodies
from tests.gateway.uplink.uplink_fixtures import event_ids, fed_line, messages


async def test_events_land_once_by_event_id_in_the_site_database(
    engine: Engine, pg_schema_url: str
) -> None:
    fed = fed_line(engine, destinations=("site-db",), units=12, cases=1)
    fed.line.accept(*fed.line.units[:10])
    uplink = SiteDatabaseUplink("site-db", pg_schema_url)
    dispatcher = Dispatcher(fed.outbox, uplink, settings=DispatcherSettings(page=4))
    page = fed.outbox.pending("site-db", limit=4)
    first = SiteDatabaseUplink("site-db", pg_schema_url)
    await first.open()
    assert (await first.send(page)).acked == page, "delivered, acknowledgement lost"
    await first.close()
    while await dispatcher.step():
        pass
    assert messages(engine) == []
    site = create_engine(pg_schema_url)
    with site.connect() as conn:
        rows = conn.execute(select(EVENTS).order_by(EVENTS.c.sender, EVENTS.c.sequence)).all()
    site.dispose()
    assert [row.event_id for row in rows] == event_ids(exported_bodies(fed))
    assert [row.event for row in rows] == exported_bodies(fed)
    assert [row.sequence for row in rows] == list(range(1, 11))
    await uplink.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_an_unreachable_site_database_leaves_the_messages_in_the_outbox(
    engine: Engine,
) -> None:
    fed = fed_line(engine, destinations=("site-db",), units=4, cases=1)
    fed.line.accept(*fed.line.units[:2])
    uplink = SiteDatabaseUplink(
        "site-db", "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1"
    )
    dispatcher = Dispatcher(
        fed.outbox, uplink, settings=DispatcherSettings(backoff=Backoff(initial=0.01, cap=0.02))
    )
    assert not await dispatcher.step()
    health = dispatcher.health()
    assert health.state.value == "down"
    assert "site database site-db: connect:" in (health.last_error or "")
    assert len(messages(engine)) == 2
