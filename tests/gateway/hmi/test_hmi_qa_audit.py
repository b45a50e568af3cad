"""The audit trail in QA's HMI: filtered by time, object, event and user, paginated, exported
as CSV with exactly the entries shown; an evidence bundle verified when whole and refused,
naming the first broken entry, when one entry was edited."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest

from tests.gateway.hmi.test_hmi_qa import (
    PAGE_SIZE,
    QA,
    SUPERVISOR,
    Qa,
    qa,
    reconciled_with_exceptions,
    unescape,
)

__all__ = ["qa"]
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
ROW_SEQ = re.compile(r"<tr><td>(\d+)</td>")


def seqs(page_text: str) -> list[int]:
    return [int(seq) for seq in ROW_SEQ.findall(page_text)]


async def test_the_filters_select_the_entries_and_the_csv_holds_exactly_them(qa: Qa) -> None:
    reconciled_with_exceptions(qa.site)
    qa.site.clock.advance(timedelta(hours=1))
    token = await qa.log_in(QA)
    for exception_id in qa.pending():
        await qa.http.post(
            f"/qa/batches/{qa.batch}/exceptions/{exception_id}/ack",
            data={"csrf_token": token, "comment": "checked"},
        )
    expected = [e.seq for e in qa.site.trail.entries(event="ebr.exception_acknowledged")]
    assert len(expected) >= 2

    by_event = await qa.http.get("/qa/audit", params={"event": "ebr.exception_acknowledged"})
    assert by_event.status_code == 200
    assert seqs(by_event.text) == expected
    exported = await qa.http.get("/qa/audit.csv", params={"event": "ebr.exception_acknowledged"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [int(row["seq"]) for row in rows] == expected
    assert {row["username"] for row in rows} == {QA}
    assert {row["reason"] for row in rows} == {"checked"}
    assert 'href="/qa/audit.csv?event=ebr.exception_acknowledged"' in by_event.text

    first = qa.site.trail.entries(object_type="ebr_exception")[0]
    by_object = await qa.http.get(
        "/qa/audit", params={"object_type": "ebr_exception", "object_id": first.object_id}
    )
    assert seqs(by_object.text) == [
        e.seq for e in qa.site.trail.entries(object_type="ebr_exception", object_id=first.object_id)
    ]
    by_user = await qa.http.get("/qa/audit", params={"user": QA, "event": "login"})
    assert seqs(by_user.text) == [e.seq for e in qa.site.trail.entries(username=QA, event="login")]

    empty = await qa.http.get("/qa/audit", params={"until": "2000-01-01T00:00"})
    assert seqs(empty.text) == []
    assert "No entries" in empty.text

    boundary = {"since": "2026-11-22T08:30", "until": "2026-11-22T08:30"}
    before = [e.seq for e in qa.site.trail.entries() if e.at < "2026-11-22T08:30"]
    after = [e.seq for e in qa.site.trail.entries() if e.at >= "2026-11-22T08:30"]
    assert before
    assert after
    early = await qa.http.get("/qa/audit", params={"until": boundary["until"], "page": 1})
    assert f"Entries: {len(before)}" in early.text
    late_csv = await qa.http.get("/qa/audit.csv", params={"since": boundary["since"]})
    assert [int(row["seq"]) for row in csv.DictReader(io.StringIO(late_csv.text))] == after


async def test_the_trail_is_paginated(qa: Qa) -> None:
    await qa.log_in(SUPERVISOR)
    every = [e.seq for e in qa.site.trail.entries()]
    assert len(every) > 2 * PAGE_SIZE
    first = await qa.http.get("/qa/audit")
    assert seqs(first.text) == every[:PAGE_SIZE]
    assert 'id="page-next" href="/qa/audit?page=2"' in first.text
    assert 'id="page-previous"' not in first.text
    second = await qa.http.get("/qa/audit", params={"page": 2})
    assert seqs(second.text) == every[PAGE_SIZE : 2 * PAGE_SIZE]
    assert 'id="page-previous" href="/qa/audit?page=1"' in second.text


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"since": "yesterday"}, "filter since"),
        ({"since": "2026-11-23T10:00", "until": "2026-11-23T09:00"}, "filter until"),
        ({"event": "x" * 201}, "filter event"),
        ({"page": "zero"}, "page"),
    ],
)
async def test_a_bad_filter_is_refused_with_what_where_and_how(
    qa: Qa, params: dict[str, str], where: str
) -> None:
    await qa.log_in(QA)
    refused = await qa.http.get("/qa/audit", params=params)
    assert refused.status_code == 400, refused.text
    assert f"Where: {where}" in refused.text
    assert "How to fix it:" in refused.text


async def test_an_exported_bundle_verifies_and_a_tampered_one_names_the_first_broken_entry(
    qa: Qa,
) -> None:
    reconciled_with_exceptions(qa.site)
    token = await qa.log_in(QA)
    bundle = (await qa.http.get("/qa/audit/bundle.json")).content
    document = json.loads(bundle)
    assert len(document["entries"]) == qa.site.trail.head()[0]

    good = await qa.http.post(
        "/qa/bundle",
        data={"csrf_token": token},
        files={"bundle": ("bundle.json", bundle, "application/json")},
    )
    assert good.status_code == 200, good.text
    assert "✔ Verified" in good.text
    assert 'id="first-broken"' not in good.text

    victim = document["entries"][3]
    victim["new_value"] = json.dumps({"edited": "afterwards"})
    tampered = await qa.http.post(
        "/qa/bundle",
        data={"csrf_token": token},
        files={"bundle": ("tampered.json", json.dumps(document).encode(), "application/json")},
    )
    assert tampered.status_code == 200
    assert "✖ Not verified" in tampered.text
    assert f"First broken entry: #{victim['seq']}" in tampered.text

    not_json = await qa.http.post(
        "/qa/bundle",
        data={"csrf_token": token},
        files={"bundle": ("notes.txt", b"hello", "text/plain")},
    )
    assert not_json.status_code == 400
    assert "notes.txt: not JSON" in unescape(not_json.text)
    no_token = await qa.http.post(
        "/qa/bundle", files={"bundle": ("bundle.json", bundle, "application/json")}
    )
    assert no_token.status_code == 403
    assert "no CSRF token" in no_token.text
