"""The outbox: how full it is, how old its oldest message, whether a message is quarantined."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from ebr.outbox.message import as_utc
from ebr.outbox.models import PENDING, QUARANTINED, OutboxMessageRow
from ebr.outbox.store import Outbox, OutboxLimits
from gateway.doctor.context import DoctorContext
from gateway.doctor.verdict import Status, Verdict

ITEM = "outbox"


def check_outbox(context: DoctorContext) -> Verdict:
    if context.engine is None or context.config is None:
        return Verdict(ITEM, Status.SKIP, "not checked: the database is not reachable")
    section = context.config.uplinks
    limits = (
        OutboxLimits()
        if section is None
        else OutboxLimits(
            section.outbox.max_rows, section.outbox.max_bytes, section.outbox.high_water
        )
    )
    level = Outbox(context.engine, limits=limits).level()
    with context.engine.connect() as conn:
        oldest = conn.execute(
            select(func.min(OutboxMessageRow.created_at)).where(OutboxMessageRow.state == PENDING)
        ).scalar()
        quarantined = conn.execute(
            select(func.count()).where(OutboxMessageRow.state == QUARANTINED)
        ).scalar_one()
    age_s = 0.0 if oldest is None else (datetime.now(UTC) - as_utc(oldest)).total_seconds()
    what = level.describe() + (f", oldest waiting {age_s:,.0f} s" if oldest is not None else "")
    fix = "check the uplinks' destinations are up (docs/uplinks.md); the outbox drains by itself"
    if level.full:
        return Verdict(
            ITEM, Status.FAIL, f"full, production is refused: {what}", "outbox_messages", fix
        )
    problems = []
    if level.high:
        problems.append("above the high-water mark")
    if age_s > context.options.outbox_max_age_s:
        problems.append(f"a message waits longer than {context.options.outbox_max_age_s:g} s")
    if quarantined:
        problems.append(f"{quarantined} quarantined message(s) hold their batches back")
        fix += "; release quarantined messages once the receiver accepts them"
    if problems:
        return Verdict(ITEM, Status.WARN, "; ".join(problems) + f": {what}", "outbox_messages", fix)
    return Verdict(ITEM, Status.OK, what)
