"""A short chaos campaign inside `make test`: a SIGKILL at a random moment, one with ACCEPTs in
flight, one device fault and one uplink outage on the simulated line, every invariant checked
after each (docs/reliability.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from chaos.campaign import Plan, run_campaign
from chaos.report import TrialResult

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture
def mosquitto() -> None:
    if shutil.which("mosquitto") is None:
        pytest.skip("CHAOS CAMPAIGN SKIPPED: mosquitto is not installed; run `make services`")


async def test_short_campaign_violates_no_invariant(tmp_path: Path, mosquitto: None) -> None:
    plan = Plan(kill=1, inflight=1, device=1, outage=1, clock=0, fsync=0, disk=0, complete=False)
    seen: list[TrialResult] = []
    report = await run_campaign(
        plan,
        seed=12,
        workdir=tmp_path / "work",
        report_path=tmp_path / "report.json",
        on_trial=seen.append,
    )

    written = json.loads((tmp_path / "report.json").read_text())
    assert written["totals"]["trials"] == 4
    assert [trial["kind"] for trial in written["trials"]] == [
        "kill",
        "inflight",
        "device",
        "outage",
    ]
    failures = [trial.to_dict() for trial in report.trials if not trial.passed]
    assert not failures, json.dumps(failures, indent=1)[:6000]
    names = {result.name for result in seen[-1].invariants}
    assert {
        "no_code_issued_twice",
        "printed_units_accounted",
        "accepted_units_have_records",
        "journal_chain_verifies",
        "audit_chain_verifies",
        "reconciliation_balances",
        "upward_messages_exactly_once",
        "outbox_drained_after_outage",
    } <= names
    in_flight = {r.name: r for r in report.trials[1].invariants}
    before_restart = in_flight["printed_units_accounted_before_restart"].details
    assert before_restart["awaiting_recovery"] >= 1, before_restart
    assert in_flight["restart_revokes_accepts_in_flight"].details["revoked"] >= 1
    delivered = next(r for r in seen[-1].invariants if r.name == "upward_messages_exactly_once")
    assert delivered.details["broker"]["received"] > 0
    assert delivered.details["capture"]["received"] > 0
