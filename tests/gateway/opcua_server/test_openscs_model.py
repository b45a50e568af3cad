"""The plain OPEN-SCS pieces: request tokens, serial number formats, SID classes, and how
journal events are grouped into calls."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ebr.journal import EventKind, JournalEntry, JournalEvent
from gateway.opcua_server.openscs_events import plan_calls
from gateway.opcua_server.openscs_model import (
    OpenScsError,
    RequestToken,
    ReturnStatus,
    SnFormat,
)
from gateway.opcua_server.openscs_sid import SidClassIndex, sid_class_for
from serialization.rules import PackagingLevel
from tests.ebr.fixtures_master import GS1_IMPORTED, NMPA, PRODUCTS, SSCC

TOKEN_SHAPE = re.compile(r"[0-9a-f]{32}\.[0-9]{1,19}")
PARA = sid_class_for(PRODUCTS["para"], PackagingLevel.UNIT, GS1_IMPORTED, "Demo Pharma")
CASES = sid_class_for(PRODUCTS["amox"], PackagingLevel.CASE, SSCC, "Demo Pharma")
NMPA_CLASS = sid_class_for(PRODUCTS["nmpa"], PackagingLevel.UNIT, NMPA, "Demo Pharma")


@given(st.text(alphabet="0123456789abcdef", min_size=32, max_size=32), st.integers(0, 2**62))
def test_tokens_round_trip(request_id: str, after: int) -> None:
    token = RequestToken(request_id, after)
    assert RequestToken.decode(token.encode()) == token


@given(st.text(max_size=80))
def test_any_text_is_a_token_or_a_clear_refusal(text: str) -> None:
    if TOKEN_SHAPE.fullmatch(text) and not re.fullmatch(r".*\.0[0-9]+", text):
        assert RequestToken.decode(text).encode() == text
        return
    with pytest.raises(OpenScsError) as refused:
        RequestToken.decode(text)
    assert refused.value.status is ReturnStatus.INVALID_REQUEST_TOKEN
    assert refused.value.argument == "RequestToken"
    assert "ReturnedRequestToken" in str(refused.value)


def test_formats() -> None:
    assert SnFormat.parse("") is SnFormat.SERIAL_ONLY
    assert SnFormat.parse(" epcuri ") is SnFormat.EPC_URI
    with pytest.raises(OpenScsError, match="unknown serial number format 'GS1'"):
        SnFormat.parse("GS1")


def test_sid_classes_and_their_selection() -> None:
    assert PARA.id == "urn:epc:idpat:sgtin:9501101.053002.*"
    assert CASES.id == "urn:tracegate:sidclass:amox:case"
    assert PARA.pooled
    assert not CASES.pooled
    assert NMPA_CLASS.syntax == "NMPA drug traceability code, 20 digits, drug id 8612345"
    index = SidClassIndex([PARA, CASES, NMPA_CLASS])
    assert index.select({"GTIN": "9501101530027"}) is PARA
    assert index.select({}, "urn:tracegate:sidclass:para:unit") is PARA
    assert index.select({"SIDClassID": PARA.id, "GTIN": "09501101530027"}) is PARA
    with pytest.raises(OpenScsError, match="name different SID classes"):
        index.select({"SIDClassID": CASES.id, "GTIN": "09501101530027"})
    with pytest.raises(OpenScsError, match="check digit"):
        index.select({"GTIN": "09501101530028"})
    with pytest.raises(OpenScsError, match="no SID class selected"):
        index.select({})
    assert PARA.write(SnFormat.EPC_URI, key="", serial="A/1", data=None) == (
        "urn:epc:id:sgtin:9501101.053002.A%2F1"
    )
    assert CASES.write(SnFormat.EPC_URI, key="00095011010000000018", serial="1", data=None) == (
        "urn:epc:id:sscc:9501101.0000000001"
    )


KEYS = {f"u{i}": PARA for i in range(6)} | {f"c{i}": CASES for i in range(3)}
EVENT = st.one_of(
    st.builds(lambda k: (EventKind.UNIT_ACCEPTED, k, {}), st.sampled_from(sorted(KEYS))),
    st.builds(
        lambda ks: (EventKind.CODES_VOIDED, None, {"keys": ks}),
        st.lists(st.sampled_from(sorted(KEYS)), min_size=1, max_size=4, unique=True),
    ),
    st.builds(
        lambda p, cs: (EventKind.AGGREGATED, p, {"children": cs}),
        st.sampled_from(["c0", "c1", "c2"]),
        st.lists(st.sampled_from([f"u{i}" for i in range(6)]), min_size=1, max_size=3),
    ),
    st.just((EventKind.BATCH_PHASE, None, {"from": "a", "to": "b"})),
)


@given(st.lists(EVENT, max_size=30), st.integers(1, 5))
def test_calls_keep_journal_order_and_respect_the_limit(
    events: list[tuple[EventKind, str | None, dict[str, object]]], limit: int
) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    entries = [
        JournalEntry(JournalEvent(1, kind, code_key=key, data=data), seq, at, "", "")
        for seq, (kind, key, data) in enumerate(events, start=1)
    ]
    calls = plan_calls(entries, KEYS.__getitem__, lambda _kind: limit)
    expected: list[tuple[str, str]] = []
    for kind, key, data in events:
        if kind is EventKind.UNIT_ACCEPTED and key is not None:
            expected.append(("SIDCommissioningEvent", key))
        elif kind is EventKind.CODES_VOIDED:
            keys = [str(k) for k in data["keys"]]  # type: ignore[attr-defined]
            for sid in dict.fromkeys(KEYS[k].id for k in keys):
                expected += [("SNInvalidatingEvent", k) for k in keys if KEYS[k].id == sid]
        elif kind is EventKind.AGGREGATED and key is not None:
            expected.append(("AggregationPackingEvent", key))
    sent = [
        (call.method, item)
        for call in calls
        for item in (call.keys or tuple(parent for parent, _children in call.aggregations))
    ]
    assert sent == expected
    for call in calls:
        assert 1 <= call.size <= limit
        assert call.first_seq <= call.last_seq
        assert all(KEYS[k].id == call.sid.id for k in call.keys)
    for before, after in itertools.pairwise(calls):
        assert before.last_seq <= after.first_seq
        if (before.method, before.sid.id) == (after.method, after.sid.id):
            assert before.size + after.size > limit
