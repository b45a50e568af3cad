"""The uplink option: serials requested from an L4 with RequestToken paging and imported, and
the production journal reported to the L4 as OPEN-SCS SID and aggregation events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from asyncua import Client
from sqlalchemy import Engine

from ebr.allocation import CodeAllocator
from ebr.audit.trail import AuditTrail
from ebr.errors import PoolExhaustedError
from ebr.journal import EventKind
from gateway.opcua_server.openscs_client import L4RefusedError, L4Session
from gateway.opcua_server.openscs_events import EventReporter
from gateway.opcua_server.openscs_model import ReturnStatus
from gateway.opcua_server.openscs_provision import ProvisionError, provision_from_l4
from serialization.rules import PackagingLevel
from serialization.states import CodeState
from tests.ebr.fixtures_master import MASTER_KEY, install_master_data, open_batch
from tests.ebr.journal.journal_fixtures import make_line
from tests.gateway.opcua_server.openscs_l4 import running_l4

SGTIN_CLASS = "urn:epc:idpat:sgtin:9501101.053002.*"
SERIAL_AT = len("01") + 14 + len("21")
"""Where the serial starts in a GS1 unit code's key."""


def _serials(n: int) -> list[str]:
    return [f"L4X{i:09d}" for i in range(n)]


async def test_serials_requested_page_by_page_are_those_then_used(
    engine: Engine, tmp_path: Path
) -> None:
    install_master_data(engine)
    async with running_l4(_serials(60), page_size=10) as l4, Client(l4.endpoint) as client:
        session = await L4Session.attach(client)
        done = await provision_from_l4(
            session, engine, product_id="para", level=PackagingLevel.UNIT, count=25,
            spool_dir=tmp_path,
        )  # fmt: skip
        short = await provision_from_l4(
            session, engine, product_id="para", level=PackagingLevel.UNIT, count=40,
            spool_dir=tmp_path,
        )  # fmt: skip
    assert (done.imported, done.pages, done.status) == (25, 3, ReturnStatus.NO_ERROR)
    assert (short.imported, short.pages) == (35, 4)
    assert short.status is ReturnStatus.INSUFFICIENT_SERIAL_NUMBERS
    assert l4.received("SNRequestUnallocated")[0] == (
        25,
        "SERIALONLY",
        (("SIDClassID", SGTIN_CLASS),),
    )
    assert json.loads(done.spool_file.read_text())["serials"] == _serials(25)
    batch = open_batch(engine, "para")
    allocator = CodeAllocator(engine, master_key=MASTER_KEY)
    assert [c.serial for c in allocator.allocate("line-1", batch, 60)] == _serials(60)
    with pytest.raises(PoolExhaustedError):
        allocator.allocate("line-1", batch, 1)


async def test_serials_the_store_refuses_are_kept_in_the_spool_file(
    engine: Engine, tmp_path: Path
) -> None:
    install_master_data(engine)
    pool = [*_serials(4), "BAD SERIAL", *_serials(4)[:1]]
    async with running_l4(pool) as l4, Client(l4.endpoint) as client:
        session = await L4Session.attach(client)
        with pytest.raises(ProvisionError) as refused:
            await provision_from_l4(
                session, engine, product_id="para", level=PackagingLevel.UNIT, count=6,
                spool_dir=tmp_path,
            )  # fmt: skip
        with pytest.raises(ValueError, match="generates its own unit serials"):
            await provision_from_l4(
                session, engine, product_id="amox", level=PackagingLevel.UNIT, count=1,
                spool_dir=tmp_path,
            )  # fmt: skip
    error = refused.value
    assert "nothing was imported" in str(error)
    assert "tracegate codes import FILE" in str(error)
    assert any("line" not in p and "serials[4]" in p for p in error.problems)
    assert any("duplicate" in p for p in error.problems)
    assert json.loads(error.spool_file.read_text())["serials"] == pool
    batch = open_batch(engine, "para")
    with pytest.raises(PoolExhaustedError):
        CodeAllocator(engine, master_key=MASTER_KEY).allocate("line-1", batch, 1)


async def test_journal_events_reach_the_l4_once_and_in_order(engine: Engine) -> None:
    line = make_line(engine, units=20, cases=4)
    units, cases = line.units, line.cases
    line.accept(*units[:12])
    line.ok(line.event(EventKind.UNIT_ISSUED, units[12]))
    line.ok(line.event(EventKind.UNIT_REJECTED, units[12], reason="grade", detail="F"))
    line.ok(line.event(EventKind.AGGREGATED, cases[0], children=units[:5], level="case"))
    line.ok(line.event(EventKind.AGGREGATED, cases[1], children=units[5:10], level="case"))
    line.ok(line.event(EventKind.AGGREGATED, cases[2], children=units[10:12], level="case"))
    line.ok(line.event(EventKind.CHILD_REMOVED, cases[2], child=units[11]))
    line.ok(line.event(EventKind.CODES_VOIDED, keys=[*units[13:16], cases[3]], reason="end"))
    line.accept(units[16])
    line.ok(line.event(EventKind.UNIT_REJECTED, units[16], reason="late", detail="PLC late"))
    line.ok(line.event(EventKind.UNIT_ISSUED, units[17]))
    line.ok(line.event(EventKind.CODES_VOIDED, keys=[units[17]], reason="end"))
    async with running_l4([]) as l4, Client(l4.endpoint) as client:
        session = await L4Session.attach(client)
        reporter = EventReporter(session, engine, uplink=l4.endpoint)
        l4.refuse.add("LabelsScrappingEvent")
        with pytest.raises(L4RefusedError, match="UNABLE_TO_ACCEPT_SID_EVENTS"):
            await reporter.report_batch(line.batch)
        assert reporter.reported_through(line.batch) == 24
        l4.refuse.clear()
        first = await reporter.report_batch(line.batch)
        again = await reporter.report_batch(line.batch)
    commissioned = l4.received("SIDCommissioningEvent")
    assert [len(c.serial_numbers) for c, _fmt, _ctx in commissioned] == [7, 5, 1]
    serials = [s for c, _fmt, _ctx in commissioned for s in c.serial_numbers]
    assert serials == [key[SERIAL_AT:] for key in units[:12] + units[16:17]]
    collection, fmt, context = commissioned[0]
    assert collection.state == int(CodeState.COMMISSIONED)
    assert fmt == "SERIALONLY"
    assert context["Lot"] == "AB-123"
    assert context["BatchID"] == str(line.batch)
    assert context["SIDClassID"] == "urn:epc:idpat:sgtin:9501101.053000.*"
    assert context["JournalSeq"] == "13-19"
    scrapped = l4.received("LabelsScrappingEvent")
    assert [c.serial_numbers[0] for c, _f, _x in scrapped] == [
        units[12][SERIAL_AT:],
        units[17][SERIAL_AT:],
    ]
    assert scrapped[0][0].state == int(CodeState.LABEL_SCRAPPED)
    (destroyed,) = l4.received("SIDDestroyingEvent")
    assert (destroyed[0].serial_numbers, destroyed[0].state) == (
        (units[16][SERIAL_AT:],),
        int(CodeState.DESTROYED),
    )
    packing = l4.received("AggregationPackingEvent")
    assert [len(aggregations) for aggregations, _fmt, _ctx in packing] == [2, 1]
    assert [len(a.children.serial_numbers) for a in packing[0][0]] == [5, 5]
    assert packing[0][2]["SIDClassID"] == "urn:tracegate:sidclass:amox:case"
    (unpacking,) = l4.received("AggregationUnpackingEvent")
    assert len(unpacking[0][0].children.serial_numbers) == 1
    invalidated = l4.received("SNInvalidatingEvent")
    assert [len(c.serial_numbers) for c, _f, _x in invalidated] == [3, 1]
    assert (first.calls, again.calls) == (9, 0)
    trail = AuditTrail(engine).entries(event="openscs.events_reported")
    assert trail[-1].new["through_seq"] == reporter.reported_through(line.batch)
