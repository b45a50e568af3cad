"""A batch's production journal reported to an L4 as OPEN-SCS events (the uplink option).

| journal event                 | OPEN-SCS method            | state in the collection |
|-------------------------------|----------------------------|-------------------------|
| unit.accepted                 | SIDCommissioningEvent      | Commissioned            |
| unit.rejected, code printed   | LabelsScrappingEvent       | LabelScrapped           |
| unit.rejected, late (accepted)| SIDDestroyingEvent         | Destroyed               |
| unit.rejected, not printed    | SNInvalidatingEvent        | SNInvalid               |
| unit.destroyed                | SIDDestroyingEvent         | Destroyed               |
| codes.voided                  | SNInvalidatingEvent        | SNInvalid               |
| codes.voided, code printed    | LabelsScrappingEvent       | LabelScrapped           |
| aggregation.packed            | AggregationPackingEvent    | parent + its children   |
| aggregation.child_added       | AggregationPackingEvent    | parent + the child      |
| aggregation.child_removed     | AggregationUnpackingEvent  | parent + the child      |
| aggregation.unpacked          | AggregationUnpackingEvent  | parent, no children     |

Consecutive events of one method and SID class go in one call, up to the L4's MaxEvents or
MaxAggregationEvents (else `DEFAULT_PER_CALL`). Each call's event context names the SID class,
product, lot, batch, line and journal sequence range. After a call the L4 answers NoError to,
the reported position is recorded in the audit trail (`openscs.events_reported` on the batch,
per uplink), so a restarted gateway continues there: delivery is at least once (a call whose
answer was lost is sent again) and in journal order (a refused call stops the run).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

from asyncua import ua
from sqlalchemy import Engine

from ebr.audit.actor import GATEWAY, Actor
from ebr.audit.trail import AuditTrail
from ebr.catalog import batch_info
from ebr.journal import EventKind, Journal, JournalEntry
from ebr.serial_exchange import CodeIdentity, code_identities
from gateway.opcua_server.openscs_client import L4RefusedError, L4Session
from gateway.opcua_server.openscs_model import (
    Aggregation,
    KeyValues,
    Label,
    LabelCollection,
    ReturnStatus,
    SnCollection,
    SnFormat,
)
from gateway.opcua_server.openscs_pool import load_sid_classes
from gateway.opcua_server.openscs_sid import TRACEGATE_URN, SidClass, SidClassIndex
from serialization.states import CodeState

REPORTED = "openscs.events_reported"
DEFAULT_PER_CALL = 1_000
WINDOW = 5_000
"""Journal entries read and planned at a time."""

SID_EVENTS: dict[EventKind, tuple[str, CodeState]] = {
    EventKind.UNIT_ACCEPTED: ("SIDCommissioningEvent", CodeState.COMMISSIONED),
    EventKind.UNIT_REJECTED: ("LabelsScrappingEvent", CodeState.LABEL_SCRAPPED),
    EventKind.UNIT_DESTROYED: ("SIDDestroyingEvent", CodeState.DESTROYED),
    EventKind.CODES_VOIDED: ("SNInvalidatingEvent", CodeState.SN_INVALID),
}
ENDED_BY_STATE: dict[EventKind, dict[CodeState | None, str]] = {
    EventKind.UNIT_REJECTED: {
        CodeState.DESTROYED: "SIDDestroyingEvent",
        CodeState.SN_INVALID: "SNInvalidatingEvent",
    },
    EventKind.CODES_VOIDED: {CodeState.LABEL_SCRAPPED: "LabelsScrappingEvent"},
}
"""A reject of a commissioned unit destroys it, of an allocated code invalidates it; a voided
code that was printed is a scrapped label. These states are final, so a code's state now is
the state the event left it in."""
AGGREGATION_EVENTS: dict[EventKind, str] = {
    EventKind.AGGREGATED: "AggregationPackingEvent",
    EventKind.CHILD_ADDED: "AggregationPackingEvent",
    EventKind.CHILD_REMOVED: "AggregationUnpackingEvent",
    EventKind.UNPACKED: "AggregationUnpackingEvent",
}


@dataclass(frozen=True, slots=True)
class PlannedCall:
    kind: str
    """"event" or "aggregation": the L4 manager that receives it."""
    method: str
    sid: SidClass
    first_seq: int
    last_seq: int
    keys: tuple[str, ...] = ()
    aggregations: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def size(self) -> int:
        return len(self.aggregations) if self.kind == "aggregation" else len(self.keys)


@dataclass(frozen=True, slots=True)
class Reported:
    calls: int
    events: int
    through_seq: int
    """The journal position recorded as reported (0: nothing yet)."""


def plan_calls(
    entries: Iterable[JournalEntry],
    sid_of: Callable[[str], SidClass],
    per_call: Callable[[str], int],
    state_of: Callable[[str], CodeState | None] = lambda _key: None,
) -> list[PlannedCall]:
    """Calls for the entries, in journal order, consecutive ones merged.

    `state_of` gives a code's state now; a rejected or voided code ended in a final state
    that says which event it was (see `ENDED_BY_STATE`)."""
    calls: list[PlannedCall] = []
    for entry in entries:
        for call in _split(_calls_of(entry, sid_of, state_of), per_call):
            last = calls[-1] if calls else None
            if (
                last is not None
                and (last.method, last.sid.id) == (call.method, call.sid.id)
                and last.size + call.size <= per_call(call.kind)
            ):
                calls[-1] = PlannedCall(
                    last.kind,
                    last.method,
                    last.sid,
                    last.first_seq,
                    call.last_seq,
                    last.keys + call.keys,
                    last.aggregations + call.aggregations,
                )
            else:
                calls.append(call)
    return calls


def _split(calls: list[PlannedCall], per_call: Callable[[str], int]) -> Iterator[PlannedCall]:
    """One event naming more codes than a call may carry becomes several calls."""
    for call in calls:
        limit = per_call(call.kind)
        for start in range(0, len(call.keys), limit):
            yield replace(call, keys=call.keys[start : start + limit])
        if not call.keys:
            yield call


def _calls_of(
    entry: JournalEntry,
    sid_of: Callable[[str], SidClass],
    state_of: Callable[[str], CodeState | None],
) -> list[PlannedCall]:
    event, seq = entry.event, entry.seq
    if event.kind in SID_EVENTS:
        keys = list(event.data.get("keys", ())) if event.kind is EventKind.CODES_VOIDED else []
        if event.code_key is not None and event.kind is not EventKind.CODES_VOIDED:
            keys = [event.code_key]
        groups: dict[tuple[str, str], list[str]] = {}
        for key in keys:
            method = SID_EVENTS[event.kind][0]
            if event.kind in ENDED_BY_STATE:
                method = ENDED_BY_STATE[event.kind].get(state_of(key), method)
            groups.setdefault((method, sid_of(key).id), []).append(key)
        return [
            PlannedCall("event", method, sid_of(group[0]), seq, seq, tuple(group))
            for (method, _sid), group in groups.items()
        ]
    if event.kind in AGGREGATION_EVENTS and event.code_key is not None:
        children = (
            event.data.get("children", ())
            if event.kind is EventKind.AGGREGATED
            else [event.data["child"]]
            if "child" in event.data
            else []
        )
        element = (event.code_key, tuple(str(child) for child in children))
        method = AGGREGATION_EVENTS[event.kind]
        return [
            PlannedCall("aggregation", method, sid_of(event.code_key), seq, seq, (), (element,))
        ]
    return []


class EventReporter:
    """Reports batches to one L4 (`uplink` names it in the recorded positions)."""

    def __init__(
        self,
        session: L4Session,
        engine: Engine,
        *,
        uplink: str,
        sn_format: str = "SERIALONLY",
        audit: AuditTrail | None = None,
        actor: Actor = GATEWAY,
    ) -> None:
        self._session = session
        self._engine = engine
        self._uplink = uplink
        self._format = SnFormat.parse(sn_format)
        self._audit = audit or AuditTrail(engine)
        self._actor = actor

    def reported_through(self, batch_id: int) -> int:
        """The last journal seq of the batch this uplink's L4 has acknowledged (0: none)."""
        entries = self._audit.entries(object_type="batch", object_id=str(batch_id), event=REPORTED)
        return max(
            (int(e.new["through_seq"]) for e in entries if e.new.get("uplink") == self._uplink),
            default=0,
        )

    async def report_batch(self, batch_id: int) -> Reported:
        """Send the batch's journal from where this uplink left it; stops at a refusal
        (`L4RefusedError`), everything before it recorded as reported."""
        info = await asyncio.to_thread(batch_info, self._engine, batch_id)
        if info is None:
            raise ValueError(f"unknown batch {batch_id}")
        limits = {
            kind: await self._session.limit(kind) or DEFAULT_PER_CALL
            for kind in ("event", "aggregation")
        }
        context: KeyValues = (
            ("ProductID", info.product_id),
            ("Lot", info.lot),
            ("BatchID", str(batch_id)),
            ("LineID", info.line_id),
        )
        classes = await asyncio.to_thread(load_sid_classes, self._engine)
        through = scanned = await asyncio.to_thread(self.reported_through, batch_id)
        calls = events = 0
        while True:
            entries, identities = await asyncio.to_thread(self._window, batch_id, scanned)
            if not entries:
                return Reported(calls, events, through)
            scanned = entries[-1].seq
            codes = _Codes(identities, classes, self._format)
            for call in plan_calls(entries, codes.sid_of, limits.__getitem__, codes.state_of):
                await self._send(call, codes.write, batch_id, context)
                await asyncio.to_thread(self._record, batch_id, call)
                through, calls, events = call.last_seq, calls + 1, events + call.size

    def _window(
        self, batch_id: int, after: int
    ) -> tuple[list[JournalEntry], dict[str, CodeIdentity]]:
        journal = Journal(self._engine, audit=self._audit)
        entries = list(itertools.islice(journal.entries(batch_id, after_seq=after), WINDOW))
        keys: list[str] = []
        for entry in entries:
            data = entry.event.data
            keys += [entry.event.code_key] if entry.event.code_key else []
            keys += [str(key) for key in (*data.get("keys", ()), *data.get("children", ()))]
            keys += [str(data["child"])] if "child" in data else []
        return entries, code_identities(self._engine, keys)

    async def _send(
        self, call: PlannedCall, write: Callable[[str], str], batch_id: int, context: KeyValues
    ) -> None:
        types, fmt = self._session.types, self._format.value
        seqs = f"{call.first_seq}-{call.last_seq}"
        event_context = types.key_values(
            (("SIDClassID", call.sid.id), *context, ("JournalSeq", seqs))
        )
        collection_id = f"batch {batch_id} journal {seqs}"
        if call.kind == "aggregation":
            elements = [
                types.aggregation(
                    Aggregation(
                        Label(write(parent)),
                        LabelCollection(
                            id=collection_id,
                            description=call.method,
                            state=int(CodeState.COMMISSIONED),
                            serial_numbers=tuple(write(child) for child in children),
                        ),
                    )
                )
                for parent, children in call.aggregations
            ]
            arguments = [
                types.variant(elements),
                ua.Variant(fmt, ua.VariantType.String),
                ua.Variant(fmt, ua.VariantType.String),
                types.variant(event_context),
            ]
        else:
            collection = SnCollection(
                id=collection_id,
                description=call.method,
                state=int(SID_STATES[call.method]),
                pool_id=call.sid.id,
                serial_numbers=tuple(write(key) for key in call.keys),
            )
            argument = (
                types.sn_collection(collection)
                if call.method == "SNInvalidatingEvent"
                else types.label_collection(_labels(collection))
            )
            arguments = [
                types.variant(argument),
                ua.Variant(fmt, ua.VariantType.String),
                types.variant(event_context),
            ]
        status = await self._session.report(call.kind, call.method, *arguments)
        if status is not ReturnStatus.NO_ERROR:
            raise L4RefusedError(
                call.method,
                f"ReturnStatus {status.name} for journal entries {seqs}; everything before is "
                "recorded as reported and the next run sends these again",
                status=status,
            )

    def _record(self, batch_id: int, call: PlannedCall) -> None:
        self._audit.append(
            [
                self._actor.event(
                    REPORTED,
                    "batch",
                    batch_id,
                    new={
                        "uplink": self._uplink,
                        "method": call.method,
                        "sid_class": call.sid.id,
                        "from_seq": call.first_seq,
                        "through_seq": call.last_seq,
                        "count": call.size,
                    },
                )
            ]
        )


SID_STATES = dict(SID_EVENTS.values())


def _labels(collection: SnCollection) -> LabelCollection:
    return LabelCollection(
        id=collection.id,
        description=collection.description,
        state=collection.state,
        pool_id=collection.pool_id,
        serial_numbers=collection.serial_numbers,
    )


class _Codes:
    """The codes of a window: their SID class, and their serial in the uplink's format."""

    def __init__(
        self, identities: dict[str, CodeIdentity], classes: SidClassIndex, fmt: SnFormat
    ) -> None:
        self._identities = identities
        self._classes = classes
        self._format = fmt
        self._checked: set[str] = set()

    def sid_of(self, key: str) -> SidClass:
        code = self._identities[key]
        sid = self._classes.get(f"{TRACEGATE_URN}{code.product_id}:{code.level.value}")
        if sid is None:
            raise ValueError(f"code {key}: product {code.product_id} has no {code.level} level")
        return sid

    def state_of(self, key: str) -> CodeState:
        return self._identities[key].state

    def write(self, key: str) -> str:
        code, sid = self._identities[key], self.sid_of(key)
        if sid.id not in self._checked:
            sid.check_format(self._format, reading=False)
            self._checked.add(sid.id)
        return sid.write(self._format, key=code.key, serial=code.serial, data=code.data)
