"""Every batch's journal chain (or the most recent batches') recomputes and replays."""

from __future__ import annotations

from sqlalchemy import select

from ebr.journal import verify_journal
from ebr.models import JournalEventRow
from gateway.doctor.context import DoctorContext
from gateway.doctor.verdict import Status, Verdict

ITEM = "journal chains"


def check_journals(context: DoctorContext) -> Verdict:
    if context.engine is None:
        return Verdict(ITEM, Status.SKIP, "not checked: the database is not reachable")
    engine = context.engine
    query = select(JournalEventRow.batch_id).distinct().order_by(JournalEventRow.batch_id.desc())
    if context.options.last_batches is not None:
        query = query.limit(context.options.last_batches)
    with engine.connect() as conn:
        batches = sorted(int(batch) for batch in conn.execute(query).scalars())
    if not batches:
        return Verdict(ITEM, Status.OK, "no batch has a journal yet")
    broken: list[str] = []
    events = 0
    for batch in batches:
        result = verify_journal(engine, batch)
        events += result.events
        if not (result.ok and result.states_match):
            broken.append(f"batch {batch}: {result.problem}")
    scope = f"{len(batches)} batch(es), {events} events"
    if broken:
        return Verdict(
            ITEM,
            Status.FAIL,
            f"{len(broken)} of {scope} do not verify: " + "; ".join(broken),
            "table journal_events",
            "the record was changed outside the gateway: keep the database as it is, restore the "
            "batch's journal from the last verified backup to compare, and raise a deviation",
        )
    return Verdict(ITEM, Status.OK, f"{scope}: every chain and the state it leaves verify")
