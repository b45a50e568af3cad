"""The MES pulls records with a real asyncua client: pages, acknowledgements, restarts of the
server between pages, bad arguments, the batch export, aggregation and a code's history."""

from __future__ import annotations

import json

from asyncua import ua
from asyncua.ua.status_codes import StatusCodes
from sqlalchemy import Engine

from ebr.journal import EventKind, JournalEvent
from gateway.opcua_server import ServerSettings
from tests.gateway.opcua_server.mes_fixtures import (
    MES,
    Plant,
    make_plant,
    mes_client,
    message_of,
    serving,
    settings,
)


def produce(plant: Plant) -> list[int]:
    """Commission every unit, pack 20 into a case, sample one, reject one unreadable unit,
    complete and reconcile: the record sequences, in order."""
    plant.commission(plant.units)
    case = plant.cases[0]
    plant.append(
        JournalEvent(
            plant.batch,
            EventKind.AGGREGATED,
            code_key=case,
            data={"children": plant.units[:20], "level": "case"},
        ),
        JournalEvent(
            plant.batch,
            EventKind.UNIT_SAMPLED,
            code_key=plant.units[25],
            data={"reason": "QC", "destructive": True, "user": "qa"},
        ),
        JournalEvent(plant.batch, EventKind.UNIT_REJECTED, data={"reason": "no read"}),
        JournalEvent(plant.batch, EventKind.NOTE, data={"topic": "challenge", "passed": True}),
        JournalEvent(
            plant.batch,
            EventKind.NOTE,
            data={"topic": "reconciliation", "balanced": True, "counts": {"accepted": 30}},
        ),
    )
    with plant.engine.connect() as conn:
        from sqlalchemy import select

        from ebr.models import JournalEventRow

        rows = conn.execute(
            select(JournalEventRow.id, JournalEventRow.kind, JournalEventRow.data).order_by(
                JournalEventRow.id
            )
        ).all()
    return [
        row.id
        for row in rows
        if row.kind not in ("unit.issued", "line.note") or "reconciliation" in row.data
    ]


async def test_pages_with_acknowledgements_and_restarts_lose_and_repeat_nothing(
    engine: Engine,
) -> None:
    plant = make_plant(engine)
    expected = produce(plant)
    endpoint = settings()
    received: list[int] = []
    more = True
    while more:
        async with serving(plant, endpoint), mes_client(endpoint.endpoint) as mes:
            records, last, more = await mes.get_records(-1, 20)
            assert len(records) <= 20
            received += [r["sequence"] for r in records]
            assert await mes.acknowledge(last) == last

    assert received == expected
    async with serving(plant, endpoint), mes_client(endpoint.endpoint) as mes:
        assert await mes.get_records(-1, 20) == ([], received[-1], False)


async def test_records_say_what_happened_where_and_carry_the_hashed_data(engine: Engine) -> None:
    plant = make_plant(engine)
    produce(plant)
    async with serving(plant) as server, mes_client(server.endpoint) as mes:
        records, _last, more = await mes.get_records(0)
    assert not more
    kinds = {r["type"] for r in records}
    assert kinds == {"commissioning", "aggregation", "decommissioning", "batch_summary"}
    first = records[0]
    assert first["type"] == "commissioning"
    assert first["code"] == plant.units[0]
    assert (first["site"], first["line"], first["product"], first["lot"]) == (
        "plant-1",
        "line-1",
        "amox",
        "AB-123",
    )
    assert first["batch_id"] == plant.batch
    assert first["at"].endswith("Z") or "+00:00" in first["at"]
    packed = next(r for r in records if r["type"] == "aggregation")
    assert packed["data"]["children"] == plant.units[:20]
    summary = records[-1]
    assert summary["type"] == "batch_summary"
    assert summary["data"]["balanced"] is True
    entries = list(plant.journal.entries(plant.batch))
    by_seq = {e.seq: e for e in entries}
    assert all(by_seq[r["batch_seq"]].hash == r["hash"] for r in records)


async def test_acknowledge_is_idempotent_and_refuses_a_sequence_not_yet_written(
    engine: Engine,
) -> None:
    plant = make_plant(engine, units=5)
    plant.commission(plant.units)
    async with serving(plant) as server, mes_client(server.endpoint) as mes:
        records, last, _more = await mes.get_records(0)
        assert await mes.acknowledge(last) == last
        assert await mes.acknowledge(records[0]["sequence"]) == last
        assert await mes.acknowledge(last) == last
        beyond = await mes.call(
            "Acknowledge",
            ua.Variant(MES, ua.VariantType.String),
            ua.Variant(last + 1, ua.VariantType.Int64),
        )
        assert beyond.StatusCode.value == StatusCodes.BadInvalidArgument
        assert "beyond the newest record" in message_of(beyond)
        assert beyond.InputArgumentResults[1].value == StatusCodes.BadInvalidArgument
        again, _last, _more = await mes.get_records(-1)
    assert again == []


BAD_CALLS = [
    (
        "GetRecords",
        [ua.Variant(-5, ua.VariantType.Int64), ua.Variant(1, ua.VariantType.UInt32)],
        StatusCodes.BadInvalidArgument,
        "negative",
    ),
    (
        "GetRecords",
        [ua.Variant("x", ua.VariantType.String), ua.Variant(1, ua.VariantType.UInt32)],
        StatusCodes.BadTypeMismatch,
        "must be an Int64",
    ),
    ("GetRecords", [ua.Variant(0, ua.VariantType.Int64)], StatusCodes.BadArgumentsMissing, ""),
    (
        "GetBatchRecord",
        [ua.Variant(999, ua.VariantType.Int64)],
        StatusCodes.BadNotFound,
        "no batch 999",
    ),
    (
        "TraceCode",
        [ua.Variant("nope", ua.VariantType.String)],
        StatusCodes.BadNotFound,
        "no code 'nope'",
    ),
    (
        "GetAggregation",
        [ua.Variant(3, ua.VariantType.Int32)],
        StatusCodes.BadTypeMismatch,
        "must be a String",
    ),
    (
        "Acknowledge",
        [ua.Variant(" ", ua.VariantType.String), ua.Variant(0, ua.VariantType.Int64)],
        StatusCodes.BadInvalidArgument,
        "consumer name",
    ),
]


async def test_bad_arguments_get_a_bad_status_and_a_reason_and_change_nothing(
    engine: Engine,
) -> None:
    plant = make_plant(engine, units=2, cases=0)
    plant.commission(plant.units)
    async with serving(plant) as server, mes_client(server.endpoint) as mes:
        for method, arguments, status, words in BAD_CALLS:
            result = await mes.call(method, *arguments)
            assert result.StatusCode.value == status, (method, result.StatusCode)
            assert words in message_of(result), method
        records, _last, _more = await mes.get_records(-1)
    assert [r["code"] for r in records] == plant.units


async def test_batch_record_aggregation_and_trace(engine: Engine) -> None:
    plant = make_plant(engine)
    produce(plant)
    async with serving(plant) as server, mes_client(server.endpoint) as mes:
        record = await mes.json_of("GetBatchRecord", ua.Variant(plant.batch, ua.VariantType.Int64))
        tree = await mes.json_of(
            "GetAggregation", ua.Variant(plant.units[3], ua.VariantType.String)
        )
        case = await mes.json_of(
            "GetAggregation", ua.Variant(plant.cases[0], ua.VariantType.String)
        )
        trace = await mes.json_of("TraceCode", ua.Variant(plant.units[3], ua.VariantType.String))
    assert record["batch"]["lot"] == "AB-123"
    assert record["counts"]["accepted"] == 30
    assert record["counts"]["sampled"] == 1
    assert record["reconciliation"] == {"balanced": True, "counts": {"accepted": 30}}
    assert record["verification"]["ok"] is True
    assert record["verification"]["states_match"] is True
    assert len(record["events"]) == record["events_total"] == record["verification"]["events"]
    assert tree["ancestors"] == [{"code": plant.cases[0], "level": "case", "state": "Commissioned"}]
    assert tree["tree"]["children"] == []
    assert [c["code"] for c in case["tree"]["children"]] == plant.units[:20]
    assert trace["state"] == "Commissioned"
    assert trace["parent"] == plant.cases[0]
    assert [t["to"] for t in trace["transitions"]] == ["Encoded", "Commissioned"]
    assert [e["kind"] for e in trace["events"]] == [
        "unit.issued",
        "unit.accepted",
        "aggregation.packed",
    ]


async def test_a_method_declared_on_the_type_works_on_the_instance_only(engine: Engine) -> None:
    plant = make_plant(engine, units=2, cases=0)
    async with serving(plant) as server, mes_client(server.endpoint) as mes:
        records = mes.node("Site.Records")
        last = await records.call_method(
            ua.NodeId("Site.Records.Acknowledge", mes.ns),
            ua.Variant(MES, ua.VariantType.String),
            ua.Variant(0, ua.VariantType.Int64),
        )
        assert last == 0
        on_type = ua.CallMethodRequest(
            ObjectId=ua.NodeId("Types.RecordsType", mes.ns),
            MethodId=ua.NodeId("Types.RecordsType.GetRecords", mes.ns),
            InputArguments=[
                ua.Variant(0, ua.VariantType.Int64),
                ua.Variant(1, ua.VariantType.UInt32),
            ],
        )
        (result,) = await mes.client.uaclient.call([on_type])
        assert result.StatusCode.value == StatusCodes.BadMethodInvalid
        arguments = await mes.node("Site.Records.GetRecords.InputArguments").read_value()
        assert [(a.Name, a.DataType.Identifier) for a in arguments] == [
            ("sinceSequence", ua.VariantType.Int64.value),
            ("maxCount", ua.VariantType.UInt32.value),
        ]


async def test_a_page_stops_before_its_byte_limit(engine: Engine) -> None:
    plant = make_plant(engine, units=20, cases=0)
    plant.commission(plant.units)
    small: ServerSettings = settings(max_page_bytes=2000)
    async with serving(plant, small) as server, mes_client(server.endpoint) as mes:
        records, last, more = await mes.get_records(0)
        assert more
        assert 1 <= len(records) < 20
        assert sum(len(json.dumps(r).encode()) for r in records) < 2500
        rest, _last, _more = await mes.get_records(last, 100)
    assert len(records) + len(rest) <= 20
