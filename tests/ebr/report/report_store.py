"""A batch taken through its executed record on a real store, for the report's tests: values
(one corrected, one manual out of limits verified by a second person, one from a tag out of
limits that opens a deviation), a deviation opened by hand with its QMS reference, a scheduled
check, the line's reconciliation, acknowledged exceptions, closed deviations, the audit-trail
review and QA's release, all through `ExecutionRecord` as the gateway would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select

from ebr.audit.actor import GATEWAY
from ebr.execution import ExecutionRecord, SignatureRequest, Source, Step, execution_requirements
from ebr.journal import EventKind, Journal, JournalEvent
from ebr.models import Batch
from ebr.signatures import ESignatures
from ebr.users import Role, Session
from tests.ebr.audit.audit_users import INITIAL, OWN, Site
from tests.ebr.fixtures_master import install_master_data, open_batch

QA = ("wangfang", "王芳")
RECONCILIATION: dict[str, Any] = {
    "topic": "reconciliation",
    "balanced": True,
    "counts": {"allocated": 12, "issued": 10, "accepted": 9, "rejected": 1},
    "journal_verified": True,
}
PHASES_TO_COMPLETING = ("clearance", "challenge", "running", "completing")
STEPS = tuple(Step)


@dataclass(frozen=True)
class StoredBatch:
    engine: Engine
    batch: int
    original: int
    correction: int
    verified: int
    from_tag: int
    deviation: int
    manual_deviation: int


class _Plant(Site):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        install_master_data(engine)
        self.engine = engine
        self.add("olga", Role.OPERATOR)
        self.add("pete", Role.OPERATOR)
        username, full_name = QA
        self.users.create(
            self.admin, username=username, full_name=full_name, role=Role.QA, password=INITIAL
        )
        self.users.change_password(username, INITIAL, OWN)
        signatures = ESignatures(self.users, self.trail, execution_requirements())
        self.journal = Journal(engine, clock=self.clock, audit=self.trail)
        self.record = ExecutionRecord(
            engine, self.trail, signatures, self.users, journal=self.journal
        )
        self.batch = open_batch(engine, "amox", lot="RPT-1")

    def session(self, username: str) -> Session:
        return self.users.login(username, OWN)

    def journal_note(self, data: dict[str, Any]) -> None:
        self.journal.append_many([JournalEvent(self.batch, EventKind.NOTE, data=data)])

    def phase(self, to: str) -> None:
        with self.engine.connect() as conn:
            now = conn.execute(select(Batch.status).where(Batch.id == self.batch)).scalar_one()
        event = JournalEvent(self.batch, EventKind.BATCH_PHASE, data={"from": now, "to": to})
        self.journal.append_many([event])


def stored_batch(engine: Engine) -> StoredBatch:
    plant = _Plant(engine)
    record, batch, clock = plant.record, plant.batch, plant.clock
    olga, pete, qa = plant.session("olga"), plant.session("pete"), plant.session(QA[0])
    for step in STEPS[: STEPS.index(Step.CHALLENGE) + 1]:
        record.complete_step(batch, step, olga)

    original = record.record(
        batch, "setup", "封口温度", "182.5", unit="℃", low="180", high="190", source="manual",
        by=olga,
    )  # fmt: skip
    clock.advance(timedelta(minutes=3))
    correction = record.record(
        batch, "setup", "封口温度", "185.0", unit="℃", low="180", high="190", source="manual",
        by=olga, reason="读数抄错, 按仪表更正", supersedes=original,
    )  # fmt: skip
    verified = record.record(
        batch, "checks", "fill weight", "10.7", unit="g", low="9.5", high="10.5",
        source=Source.MANUAL, by=olga, reason="reweighed twice",
        verifier=SignatureRequest(pete, OWN, "pete"),
    )  # fmt: skip
    from_tag = record.record(
        batch, "parameters", "line_speed", 131, unit="upm", high="120", source=Source.TAG,
        by=GATEWAY, evidence={"tag": "ns=2;s=Line1.Speed", "sha256": "ab" * 32},
    )  # fmt: skip
    manual = record.open_deviation(
        batch, "minor", "标签卷更换", "label reel changed mid-batch, same lot", "reel ran out",
        "QMS-DEV-2026-017", by=olga,
    )  # fmt: skip
    record.schedule_check(batch, "label legible", clock() + timedelta(minutes=5))
    clock.advance(timedelta(minutes=5))
    record.record_check(batch, "label legible", "yes", by=olga)

    deviation = next(d.id for d in record.deviations(batch) if d.id != manual)
    for opened, why in ((deviation, "设定值已更正并复核"), (manual, "same lot, verified")):
        record.close_deviation(opened, qa, OWN, why, username=QA[0])
    for step in STEPS[STEPS.index(Step.PRODUCTION) : STEPS.index(Step.REVIEW)]:
        record.complete_step(batch, step, olga)
    for phase in PHASES_TO_COMPLETING:
        plant.phase(phase)
    plant.journal_note({**RECONCILIATION, "user": "olga"})
    plant.phase("reconciled")

    record.collect_review_exceptions(batch)
    for item in record.exceptions(batch):
        record.acknowledge(item.id, qa, f"已评估 #{item.id}, 无质量影响")
    record.sign_audit_review(batch, qa, OWN)
    clock.advance(timedelta(minutes=1))
    record.release(batch, qa, OWN)
    return StoredBatch(engine, batch, original, correction, verified, from_tag, deviation, manual)
