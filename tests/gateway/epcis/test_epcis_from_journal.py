"""A real batch, journalled through `ebr.journal.Journal` on SQLite and PostgreSQL, exported as
EPCIS: both documents validate, and they hold exactly the batch's accepted units, scrapped
prints and aggregations, in journal order and without contradiction."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, update

from ebr.batch_record import read_batch_record
from ebr.errors import NotFoundError
from ebr.journal import EventKind, Journal, JournalEntry, JournalEvent
from ebr.models import Site
from gateway.epcis.export import ExportFormat, export_batch
from gateway.epcis.from_journal import ExportSettings, journal_to_epcis
from gateway.epcis.validate import jsonld_problems, xml_problems
from serialization.codes import SchemeName
from serialization.epcis import (
    Action,
    AggregationEvent,
    EpcisError,
    ObjectEvent,
    SequenceError,
    check_sequence,
)
from serialization.epcis.identifiers import code_uri
from tests.ebr.journal.journal_fixtures import Line, make_line

SHANGHAI = ZoneInfo("Asia/Shanghai")
SETTINGS = ExportSettings(zone=SHANGHAI)
CREATED = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def line(engine: Engine) -> Line:
    line = make_line(engine, units=20, cases=4)
    line.journal = Journal(engine, clock=lambda: datetime(2026, 11, 22, 1, 2, 3, 456789, UTC))
    return line


def uri(key: str) -> str:
    scheme = SchemeName.SSCC if key.startswith("00") else SchemeName.GS1
    return code_uri(key, scheme, company_prefix_length=7)


def run_a_batch(line: Line) -> dict[str, object]:
    """Production with every kind of journal event; what the export must contain."""
    u, c = line.units, line.cases
    pallet = c[3]
    line.accept(*u[:12])
    line.ok(
        line.event(EventKind.UNIT_ISSUED, u[12]),
        line.event(EventKind.UNIT_REJECTED, u[12], reason="grade", detail="D"),
        line.event(EventKind.REJECT_CONFIRMED, u[12]),
    )
    line.accept(u[13])
    line.ok(line.event(EventKind.UNIT_REJECTED, u[13], reason="late", detail="PLC LATE"))
    line.ok(line.event(EventKind.UNIT_ISSUED, u[14]))
    line.ok(line.event(EventKind.CODES_VOIDED, keys=[u[14], u[15]], reason="restart"))
    line.ok(
        line.event(EventKind.AGGREGATED, c[0], children=u[0:4], level="case"),
        line.event(EventKind.AGGREGATED, c[1], children=u[4:8], level="case"),
        line.event(EventKind.AGGREGATED, pallet, children=[c[0], c[1]], level="pallet"),
        line.event(EventKind.CHILD_REMOVED, c[0], child=u[3], user="qa"),
        line.event(EventKind.CHILD_ADDED, c[0], child=u[8], user="qa"),
        line.event(EventKind.UNIT_SAMPLED, u[9], destructive=True, reason="QC", user="qa"),
        line.event(EventKind.UNIT_SAMPLED, u[5], destructive=True, reason="QC", user="qa"),
        line.event(EventKind.UNIT_DESTROYED, u[5], reason="sampled", user="qa"),
        line.event(EventKind.UNIT_SAMPLED, u[10], destructive=False, reason="look", user="qa"),
        line.event(EventKind.UNIT_DESTROYED, u[11], reason="damaged", user="qa"),
        line.event(EventKind.LABEL_REPLACED, c[2], old=c[1], reason="damaged", user="qa"),
        line.event(EventKind.UNPACKED, c[0], reason="rework", user="qa"),
        line.event(EventKind.BATCH_PHASE, to="completing"),
        line.event(EventKind.NOTE, topic="challenge", result="passed"),
    )
    return {
        "accepted": [*u[:12], u[13]],
        "containers": [c[0], c[1], pallet, c[2]],
        "printed_scrapped": [u[12], u[14]],
        "packed": {
            (c[0], tuple(u[0:4])),
            (c[1], tuple(u[4:8])),
            (pallet, (c[0], c[1])),
            (c[0], (u[8],)),
            (c[2], (u[4], u[6], u[7])),
            (pallet, (c[2],)),
        },
    }


def test_the_export_holds_exactly_the_batch(line: Line) -> None:
    expected = run_a_batch(line)
    u, c = line.units, line.cases
    record = read_batch_record(line.engine, line.batch)
    events = journal_to_epcis(record, line.journal.entries(line.batch), SETTINGS)
    check_sequence(events)

    commissioned = [
        e.epc_list[0]
        for e in events
        if isinstance(e, ObjectEvent) and e.biz_step == "commissioning"
    ]
    assert all(len(e.epcs()) >= 1 for e in events)
    units_commissioned = [epc for epc in commissioned if epc.startswith("urn:epc:id:sgtin")]
    assert units_commissioned == [uri(k) for k in expected["accepted"]]  # type: ignore[attr-defined]
    assert [epc for epc in commissioned if epc.startswith("urn:epc:id:sscc")] == [
        uri(k)
        for k in expected["containers"]  # type: ignore[attr-defined]
    ]
    packed = {
        (e.parent_id, e.child_epcs)
        for e in events
        if isinstance(e, AggregationEvent) and e.action is Action.ADD
    }
    assert packed == {
        (uri(parent), tuple(uri(k) for k in children))
        for parent, children in expected["packed"]  # type: ignore[attr-defined]
    }
    decommissioned = {
        epc
        for e in events
        if isinstance(e, ObjectEvent) and e.biz_step == "decommissioning"
        for epc in e.epc_list
    }
    assert decommissioned == {uri(u[12]), uri(u[14]), uri(c[1]), uri(c[0])}
    assert uri(u[15]) not in {epc for e in events for epc in e.epcs()}, "never printed"
    destroyed = [
        e.epc_list for e in events if isinstance(e, ObjectEvent) and e.biz_step == "destroying"
    ]
    assert destroyed == [(uri(u[13]),), (uri(u[9]),), (uri(u[5]),), (uri(u[11]),)]
    steps = Counter(e.biz_step for e in events)
    assert steps["sampling"] == 2
    assert steps["inspecting"] == 1
    unpacked = [
        (e.parent_id, e.child_epcs)
        for e in events
        if isinstance(e, AggregationEvent) and e.action is Action.DELETE
    ]
    assert unpacked == [
        (uri(c[0]), (uri(u[3]),)),
        (uri(c[1]), (uri(u[5]),)),
        (uri(c[1]), (uri(u[4]), uri(u[6]), uri(u[7]))),
        (uri(c[3]), (uri(c[1]),)),
        (uri(c[0]), (uri(u[0]), uri(u[1]), uri(u[2]), uri(u[8]))),
        (uri(c[3]), (uri(c[0]),)),
    ]
    first = events[0]
    assert first.event_time.isoformat(timespec="milliseconds") == "2026-11-22T09:02:03.456+08:00"
    assert isinstance(first, ObjectEvent)
    assert first.ilmd is not None
    assert (first.ilmd.lot_number, str(first.ilmd.item_expiration_date)) == ("AB-123", "2027-05-31")
    assert first.read_point == "urn:epc:id:sgln:9501101.00000.0"
    sscc_commissioning = next(e for e in events if isinstance(e, ObjectEvent) and
                              e.epc_list[0].startswith("urn:epc:id:sscc"))  # fmt: skip
    assert sscc_commissioning.ilmd is None


def test_both_documents_validate_and_name_events_alike(line: Line) -> None:
    run_a_batch(line)
    as_json = export_batch(line.engine, line.batch, ExportFormat.JSONLD, SETTINGS, created=CREATED)
    as_xml = export_batch(line.engine, line.batch, ExportFormat.XML, SETTINGS, created=CREATED)
    body = json.loads(as_json.data)
    assert jsonld_problems(body) == []
    assert xml_problems(as_xml.data) == []
    ids = [event["eventID"] for event in body["epcisBody"]["eventList"]]
    assert len(ids) == len(set(ids)) == len(as_json.events)
    for event_id in ids:
        assert event_id.encode() in as_xml.data
    assert as_json.counts()["commissioning"] == 17


def test_a_unit_of_a_case_taken_off_its_pallet_is_unpacked_from_its_case(line: Line) -> None:
    """The sequence checker forgot a case's units when the case left its pallet, so the
    destroyed unit's unpacking from its case was refused as a contradiction."""
    u, c = line.units, line.cases
    line.accept(*u[:2])
    line.ok(
        line.event(EventKind.AGGREGATED, c[0], children=u[:2], level="case"),
        line.event(EventKind.AGGREGATED, c[3], children=[c[0]], level="pallet"),
        line.event(EventKind.CHILD_REMOVED, c[3], child=c[0], user="qa"),
        line.event(EventKind.UNIT_DESTROYED, u[1], reason="damaged", user="qa"),
    )
    record = read_batch_record(line.engine, line.batch)
    events = journal_to_epcis(record, line.journal.entries(line.batch), SETTINGS)
    unpacked = [
        (e.parent_id, e.child_epcs)
        for e in events
        if isinstance(e, AggregationEvent) and e.action is Action.DELETE
    ]
    assert unpacked == [(uri(c[3]), (uri(c[0]),)), (uri(c[0]), (uri(u[1]),))]


def test_a_site_without_gln_cannot_be_exported(line: Line) -> None:
    line.accept(line.units[0])
    with line.engine.begin() as conn:
        conn.execute(update(Site).values(gln=None))
    with pytest.raises(EpcisError, match="has no GLN") as caught:
        export_batch(line.engine, line.batch, ExportFormat.JSONLD, SETTINGS, created=CREATED)
    assert "add it to the site section" in str(caught.value)


def test_an_unknown_batch_is_named(engine: Engine) -> None:
    with pytest.raises(NotFoundError, match="unknown batch 999"):
        read_batch_record(engine, 999)


def test_a_bad_identifier_base_is_refused_at_once() -> None:
    with pytest.raises(EpcisError, match="cannot be the base of code URIs"):
        ExportSettings(zone=SHANGHAI, private_base="tracegate")


def test_a_journal_that_contradicts_itself_is_not_exported(line: Line) -> None:
    """Entries planted past the journal's own checks: a case packed with a unit never
    accepted, and a code of no batch. The export names the rule, the event and the EPC."""
    record = read_batch_record(line.engine, line.batch)
    at = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    packed = JournalEvent(
        line.batch, EventKind.AGGREGATED, code_key=line.cases[0], data={"children": line.units[:1]}
    )
    with pytest.raises(SequenceError) as caught:
        journal_to_epcis(record, [JournalEntry(packed, 1, at, "0" * 64, "1" * 64)], SETTINGS)
    assert caught.value.rule == "commissioned before packing"
    assert caught.value.epc == uri(line.units[0])
    assert "AggregationEvent ADD packing at 2026-11-22T09:00:00+08:00" in str(caught.value)

    foreign = JournalEvent(line.batch, EventKind.UNIT_ACCEPTED, code_key=line.other_units[0])
    with pytest.raises(EpcisError, match="which was not allocated to the batch"):
        journal_to_epcis(record, [JournalEntry(foreign, 1, at, "0" * 64, "1" * 64)], SETTINGS)
