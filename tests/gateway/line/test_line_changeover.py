"""A format or material changeover announced by the PLC: the line is held, production waits for
a new vision challenge, and the batch resumes once it passes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ebr.journal import EventKind, Journal
from gateway.line.devices import open_line_devices
from gateway.line.plc import PlcEventKind, parse_event
from gateway.line.runtime import LineRuntime
from gateway.simulation import LineSimulation
from serialization.lifecycle import BatchPhase
from simulators.line_plc.packml import State
from tests.e2e.line_site import clean_line, demo_site, open_line_site, until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.mark.parametrize(
    ("message", "text"),
    [
        ("changeover format carton-24", "format carton-24"),
        ("changeover material label roll 2026-11", "material label roll 2026-11"),
    ],
)
def test_a_changeover_event_names_its_kind_and_the_new_setup(message: str, text: str) -> None:
    event = parse_event(message, 1.0)
    assert event is not None
    assert event.kind is PlcEventKind.CHANGEOVER
    assert event.text == text


@pytest.mark.parametrize(
    "message", ["changeover", "changeover format", "changeover colour blue", "changeover  x"]
)
def test_a_changeover_without_kind_or_name_is_not_ours(message: str) -> None:
    assert parse_event(message, 1.0) is None


async def test_a_format_changeover_holds_the_line_until_a_new_challenge_passes(
    tmp_path: Path,
) -> None:
    site = open_line_site(demo_site(tmp_path))
    line = site.config.lines[0]
    options = clean_line(seed=5)
    try:
        async with (
            LineSimulation(line, base_dir=site.config.base_dir, options=options) as simulation,
            open_line_devices(line, site.config.base_dir) as devices,
            LineRuntime(site.store, line, site.batch_id, devices) as runtime,
        ):
            plc = simulation.plc
            assert plc is not None
            ledger = runtime.pipeline.ledger
            await runtime.prepare(site.operator)
            await until(lambda: len(ledger.accepted) >= 10, "ten accepted units", 20.0)

            await plc.changeover("format", "carton-24")
            await until(
                lambda: runtime.supervisor.phase is BatchPhase.CHALLENGE, "a challenge due", 20.0
            )
            assert runtime.supervisor.challenge_reasons == ("format change",)
            await until(
                lambda: plc.machine.state in (State.HELD, State.HOLDING), "the PLC held", 20.0
            )
            await asyncio.sleep(1.0)
            accepted_while_held = len(ledger.accepted)
            await asyncio.sleep(0.5)
            assert len(ledger.accepted) == accepted_while_held

            ended_early = await runtime.run_units(accepted_while_held + 20, site.operator)
            assert ended_early is None
            report = runtime.report()
    finally:
        entries = list(Journal(site.store.engine).entries(site.batch_id))
        site.store.close()
    assert report["reconciliation_balanced"], report
    notes = [e.event.data for e in entries if e.event.kind is EventKind.NOTE]
    topics = [note["topic"] for note in notes]
    changeover = topics.index("changeover")
    assert notes[changeover] | {"kind": "format", "name": "carton-24"} == notes[changeover]
    assert "challenge_required" in topics[changeover:]
    challenges = [i for i, topic in enumerate(topics) if topic == "challenge"]
    assert len(challenges) == 2
    assert challenges[1] > changeover
    phases = [e.event.data["to"] for e in entries if e.event.kind is EventKind.BATCH_PHASE]
    first_run = phases.index("running")
    assert phases[first_run + 1 :] == ["challenge", "running", "completing", "reconciled"]
