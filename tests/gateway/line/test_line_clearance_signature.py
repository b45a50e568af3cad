"""The line clearance is e-signed by the operator: the signature binds the journal entry that
records the confirmed checklist; a wrong password or an administrator's account leaves the batch
in clearance."""

from __future__ import annotations

from pathlib import Path

import pytest

from ebr.journal import EventKind, Journal
from ebr.signatures import ESignatures, Requirement
from ebr.users import Users
from gateway.line.clearance import CLEARANCE_ACTION, clearance_signer
from gateway.line.devices import open_line_devices
from gateway.line.runtime import LineRuntime
from gateway.line.supervisor import LineActionError
from gateway.line.testbed import SimulatedSite, open_simulated_site
from gateway.simulation import LineSimulation, SimulationOptions
from serialization.lifecycle import BatchPhase
from tests.e2e.line_site import OPERATOR, OPERATOR_PASSWORD, demo_site

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

OPTIONS = SimulationOptions(
    rate_upm=600.0, gate_distance=8, autostart=False, frame_size=(320, 240), seed=11
)


def _site(tmp_path: Path) -> SimulatedSite:
    return open_simulated_site(
        demo_site(tmp_path), operator=OPERATOR, password=OPERATOR_PASSWORD, full_name="张工 Zhang"
    )


def _clearance_seq(site: SimulatedSite, batch_id: int) -> int:
    return next(
        entry.seq
        for entry in Journal(site.store.engine).entries(batch_id)
        if entry.event.kind is EventKind.NOTE and entry.event.data["topic"] == "clearance"
    )


async def test_the_operator_signs_the_clearance_entry(tmp_path: Path) -> None:
    site = _site(tmp_path)
    batch_id = site.new_batch()
    line = site.line
    try:
        async with (
            LineSimulation(line, base_dir=site.config.base_dir, options=OPTIONS),
            open_line_devices(line, site.config.base_dir) as devices,
            LineRuntime(site.store, line, batch_id, devices) as runtime,
        ):
            await runtime.prepare(site.operator, site.signer)
            assert runtime.supervisor.phase is BatchPhase.RUNNING
        seq = _clearance_seq(site, batch_id)
        signatures = ESignatures(
            Users(site.store.audit), site.store.audit, {CLEARANCE_ACTION: Requirement.SINGLE}
        )
        (signature,) = signatures.signatures("journal_entry", f"{batch_id}:{seq}")
        report = signatures.verify("journal_entry", f"{batch_id}:{seq}")
    finally:
        site.store.close()
    assert (signature.username, signature.meaning) == (OPERATOR, "performed")
    assert signature.action == CLEARANCE_ACTION
    assert report.ok, report


async def test_a_wrong_password_or_an_administrator_leaves_the_batch_in_clearance(
    tmp_path: Path,
) -> None:
    site = _site(tmp_path)
    users = Users(site.store.audit)
    operator = users.login(OPERATOR, OPERATOR_PASSWORD)
    administrator = users.login(f"{OPERATOR}.admin", OPERATOR_PASSWORD)
    signers = {
        "password": clearance_signer(users, site.store.audit, operator, OPERATOR_PASSWORD + "x"),
        "administrators": clearance_signer(
            users, site.store.audit, administrator, OPERATOR_PASSWORD
        ),
    }
    line = site.line
    try:
        async with LineSimulation(line, base_dir=site.config.base_dir, options=OPTIONS):
            for expected, signer in signers.items():
                batch_id = site.new_batch()
                async with (
                    open_line_devices(line, site.config.base_dir) as devices,
                    LineRuntime(site.store, line, batch_id, devices) as runtime,
                ):
                    with pytest.raises(LineActionError, match="line clearance not signed") as err:
                        await runtime.prepare(site.operator, signer)
                    assert expected in str(err.value).lower()
                    assert runtime.supervisor.phase is BatchPhase.CLEARANCE
    finally:
        site.store.close()
