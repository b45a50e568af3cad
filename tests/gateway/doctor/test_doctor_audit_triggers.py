"""`tracegate doctor` fails the audit chain when a protective trigger of the executed record is
gone, naming it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from gateway.doctor import Status, exit_code, run_doctor
from tests.ebr.audit.trigger_fixtures import remove_trigger
from tests.gateway.doctor.doctor_site import CALM, by_item, run_a_batch, write_site


def test_a_missing_ebr_trigger_fails_the_audit_chain(engine: Engine, tmp_path: Path) -> None:
    run_a_batch(engine)
    site = write_site(tmp_path, engine)
    assert by_item(run_doctor(site, CALM))["audit chain"].status is Status.OK
    with engine.begin() as conn:
        remove_trigger(conn, "ebr_exceptions", "ebr_exceptions_settled")

    verdicts = run_doctor(site, CALM)

    chain = by_item(verdicts)["audit chain"]
    assert chain.status is Status.FAIL
    assert "ebr_exceptions_settled is missing or disabled" in chain.what
    assert chain.fix
    assert exit_code(verdicts) == 2
