"""A batch's production journal as EPCIS 2.0 events.

| journal event | EPCIS events |
|---|---|
| unit.accepted | commissioning of the unit (ILMD: lot, expiry) |
| unit.rejected, the code printed | decommissioning (a verified-bad print or case label) |
| unit.rejected, the unit accepted | unpacking if packed, destroying (accept revoked) |
| codes.voided | decommissioning of the voided codes that had been printed |
| unit.sampled, destructive | unpacking if packed, sampling OBSERVE, then DELETE (destroying) |
| unit.sampled, not destructive | inspecting |
| unit.destroyed | unpacking if packed or holding children, destroying |
| aggregation.packed | commissioning of the case or pallet code, packing |
| aggregation.child_added | packing of the one child |
| aggregation.child_removed | unpacking of the one child |
| aggregation.unpacked | unpacking of the children (and from its pallet), decommissioning |
| aggregation.label_replaced | old label: unpacking, decommissioning; new: commissioning, packing |
| codes.recalled | holding, disposition recalled (OBSERVE; at most 1,000 codes an event) |

A replaced label's children, and its place on a pallet, pass to the new label.
`JournalMapper` maps entry by entry (the outbox maps each commit as it is written); a batch's
export maps the whole journal. Codes that were never printed (voided from the buffer, rejected
with nothing printed) are not reported: they never named an object. Issues, bin confirmations,
phases and notes are the line's own business and have no EPCIS event. Every event goes through
the sequence rules (`serialization.epcis.sequence`), so an export never contradicts itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from ebr.batch_record import BatchRecord
from ebr.journal import EventKind, JournalEntry
from gateway.epcis.code_states import CodeStates, Seen
from serialization.codes import SchemeName
from serialization.epcis import (
    EpcisError,
    EpcisEvent,
    Ilmd,
    Place,
    SequenceChecker,
    commissioning,
    decommissioning,
    destroying,
    inspecting,
    packing,
    recalling,
    sampling,
    unpacking,
)
from serialization.epcis.identifiers import DEFAULT_PRIVATE_BASE, code_uri, private_uri

RECALL_EPCS_PER_EVENT = 1000
"""A recall of a whole batch names every code: split so that no event grows without bound."""


@dataclass(frozen=True, slots=True)
class ExportSettings:
    zone: tzinfo
    """The site's time zone: event times are written with its UTC offset."""
    private_base: str = DEFAULT_PRIVATE_BASE
    """Base of the URIs of codes that are not GS1 keys."""

    def __post_init__(self) -> None:
        private_uri(SchemeName.NMPA20, "0", self.private_base)


def journal_to_epcis(
    record: BatchRecord, entries: Iterable[JournalEntry], settings: ExportSettings
) -> list[EpcisEvent]:
    """The batch's EPCIS events in journal order; `SequenceError` if they contradict."""
    mapper = JournalMapper(record, settings)
    events = [event for entry in entries for event in mapper.map(entry)]
    mapper.checker.finish()
    return events


def site_place(record: BatchRecord) -> Place:
    if record.site_gln is None or record.site_company_prefix is None:
        missing = "GLN" if record.site_gln is None else "GS1 company prefix"
        raise EpcisError(
            f"site {record.site_id} has no {missing}: EPCIS names the read point and "
            "business location by the site's GLN",
            field="site.gln" if record.site_gln is None else "site.gs1_company_prefix",
            hint="add it to the site section of the site file and run any tracegate "
            "command with --config to store it",
        )
    return Place.site(record.site_gln, len(record.site_company_prefix))


class JournalMapper:
    """One batch's journal entries, in order, as EPCIS events; remembers what it needs of the
    entries before (what was printed, commissioned, ended, packed where)."""

    def __init__(self, record: BatchRecord, settings: ExportSettings) -> None:
        codes = record.levels
        if not isinstance(codes, CodeStates):
            codes = CodeStates(record.levels)
            record = dataclasses.replace(record, levels=codes)
        self.record = record
        self.codes = codes
        self.settings = settings
        self.place = site_place(record)
        self.checker = SequenceChecker()
        self.events: list[EpcisEvent] = []
        prefix = record.product.company_prefix or record.site_company_prefix
        self.prefix_length = len(prefix) if prefix else None

    def map(self, entry: JournalEntry) -> list[EpcisEvent]:
        """The EPCIS events of `entry` (none for the line's own business), sequence-checked."""
        self.events = []
        self._map(entry)
        return self.events

    def _map(self, entry: JournalEntry) -> None:
        event = entry.event
        at = entry.at.astimezone(self.settings.zone)
        key = event.code_key
        kind = event.kind
        if kind is EventKind.UNIT_ISSUED and key is not None:
            self.codes.mark(key, Seen.PRINTED)
        elif kind is EventKind.UNIT_ACCEPTED and key is not None:
            self.commission(key, at)
        elif kind is EventKind.UNIT_REJECTED and key is not None:
            self.rejected(key, at)
        elif kind is EventKind.CODES_VOIDED:
            keys = [k for k in _strings(event.data.get("keys")) if self.codes.printed(k)]
            self.retire(keys, at)
        elif kind is EventKind.UNIT_SAMPLED and key is not None:
            self.sampled(key, at, destructive=event.data.get("destructive") is True)
        elif kind is EventKind.UNIT_DESTROYED and key is not None and not self.codes.ended(key):
            self.leave(key, at)
            self.emit(destroying([self.uri(key)], at, self.place))
            self.codes.mark(key, Seen.ENDED)
        elif kind is EventKind.AGGREGATED and key is not None:
            self.commission(key, at)
            self.pack(key, _strings(event.data.get("children")), at)
        elif kind is EventKind.CHILD_ADDED and key is not None:
            self.pack(key, _strings([event.data.get("child")]), at)
        elif kind is EventKind.CHILD_REMOVED and key is not None:
            self.unpack(key, _strings([event.data.get("child")]), at)
        elif kind is EventKind.UNPACKED and key is not None:
            self.leave(key, at)
            self.retire([key], at)
        elif kind is EventKind.LABEL_REPLACED and key is not None:
            self.relabel(str(event.data.get("old")), key, at)
        elif kind is EventKind.CODES_RECALLED:
            keys = [k for k in _strings(event.data.get("keys")) if not self.codes.ended(k)]
            for start in range(0, len(keys), RECALL_EPCS_PER_EVENT):
                chunk = keys[start : start + RECALL_EPCS_PER_EVENT]
                self.emit(recalling([self.uri(k) for k in chunk], at, self.place))

    def uri(self, key: str) -> str:
        scheme = self.record.scheme_of(key)
        if scheme is None:
            raise EpcisError(
                f"the journal of batch {self.record.batch_id} names code {key}, which was "
                "not allocated to the batch",
                field="code_key",
                hint="verify the journal (tracegate's journal verification) before exporting",
            )
        return code_uri(
            key,
            scheme,
            company_prefix_length=self.prefix_length,
            private_base=self.settings.private_base,
        )

    def emit(self, event: EpcisEvent) -> None:
        self.checker.check(event)
        self.events.append(event)

    def commission(self, key: str, at: datetime) -> None:
        if self.codes.commissioned(key):
            return
        trade_item = self.record.scheme_of(key) is not SchemeName.SSCC
        ilmd = None
        if trade_item:
            ilmd = Ilmd(lot_number=self.record.lot, item_expiration_date=self.record.expiry)
        self.emit(commissioning([self.uri(key)], at, self.place, ilmd=ilmd))
        self.codes.mark(key, Seen.COMMISSIONED)

    def rejected(self, key: str, at: datetime) -> None:
        if self.codes.commissioned(key) and not self.codes.ended(key):
            self.leave(key, at)
            self.emit(destroying([self.uri(key)], at, self.place))
            self.codes.mark(key, Seen.ENDED)
        elif self.codes.printed(key):
            self.retire([key], at)

    def retire(self, keys: list[str], at: datetime) -> None:
        """Decommission identifiers whose object was scrapped, unless already ended."""
        live = [key for key in keys if not self.codes.ended(key)]
        if live:
            self.emit(decommissioning([self.uri(k) for k in live], at, self.place))
            for key in live:
                self.codes.mark(key, Seen.ENDED)

    def sampled(self, key: str, at: datetime, *, destructive: bool) -> None:
        if not destructive:
            self.emit(inspecting([self.uri(key)], at, self.place))
            return
        self.leave(key, at)
        for event in sampling([self.uri(key)], at, self.place):
            self.emit(event)
        self.codes.mark(key, Seen.ENDED)

    def pack(self, parent: str, children: list[str], at: datetime) -> None:
        self.pack_epcs(self.uri(parent), [self.uri(c) for c in children], at)

    def unpack(self, parent: str, children: list[str], at: datetime) -> None:
        self.unpack_epcs(self.uri(parent), [self.uri(c) for c in children], at)

    def pack_epcs(self, parent: str, children: list[str], at: datetime) -> None:
        if children:
            self.emit(packing(parent, children, at, self.place))

    def unpack_epcs(self, parent: str, children: list[str], at: datetime) -> None:
        if children:
            self.emit(unpacking(parent, children, at, self.place))

    def leave(self, key: str, at: datetime) -> tuple[list[str], str | None]:
        """`key` leaves circulation: its children are unpacked, it leaves its parent.

        Returns the children's and the parent's EPCs it left. Where each code is packed is the
        sequence checker's to remember (by EPC): the mapper kept a second map of it by key for
        the whole batch."""
        epc = self.uri(key)
        children = list(self.checker.children_of(epc))
        parent = self.checker.parent_of(epc)
        self.unpack_epcs(epc, children, at)
        if parent is not None:
            self.unpack_epcs(parent, [epc], at)
        return children, parent

    def relabel(self, old: str, new: str, at: datetime) -> None:
        children, grandparent = self.leave(old, at)
        self.retire([old], at)
        self.commission(new, at)
        new_epc = self.uri(new)
        self.pack_epcs(new_epc, children, at)
        if grandparent is not None:
            self.pack_epcs(grandparent, [new_epc], at)


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list | tuple):
        return []
    return [item for item in value if isinstance(item, str)]
