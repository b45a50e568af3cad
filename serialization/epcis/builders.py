"""The events a packaging site reports, each with the CBV business step and disposition that
say what happened (CBV 2.0 §7.2, §7.3):

| builder | event | action | bizStep | disposition |
|---|---|---|---|---|
| commissioning | ObjectEvent | ADD | commissioning | active (ILMD: lot, expiry) |
| packing | AggregationEvent | ADD | packing | — |
| unpacking | AggregationEvent | DELETE | unpacking | — |
| decommissioning | ObjectEvent | DELETE | decommissioning | inactive |
| sampling | ObjectEvent, ObjectEvent | OBSERVE, DELETE | sampling, destroying | —, destroyed |
| destroying | ObjectEvent | DELETE | destroying | destroyed |
| shipping | ObjectEvent | OBSERVE | shipping | in_transit |
| inspecting | ObjectEvent | OBSERVE | inspecting | as found, or none |
| recalling | ObjectEvent | OBSERVE | holding | recalled |

Sampling is destructive in the CBV (a sampled object is no longer viable), so it ends with
an end-of-life DELETE; a non-destructive check is inspecting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from serialization.epcis.events import (
    Action,
    AggregationEvent,
    BizTransaction,
    Ilmd,
    ObjectEvent,
    Party,
)
from serialization.epcis.identifiers import sgln_uri


@dataclass(frozen=True, slots=True)
class Place:
    """Where events happen: the read point and the business location (SGLN URIs)."""

    read_point: str
    biz_location: str

    @classmethod
    def site(cls, gln: str, company_prefix_length: int) -> Place:
        """The site's GLN as both read point and business location."""
        location = sgln_uri(gln, company_prefix_length)
        return cls(read_point=location, biz_location=location)


def commissioning(
    epcs: Iterable[str], at: datetime, place: Place, *, ilmd: Ilmd | None = None
) -> ObjectEvent:
    return ObjectEvent(
        event_time=at,
        epc_list=tuple(epcs),
        action=Action.ADD,
        biz_step="commissioning",
        disposition="active",
        read_point=place.read_point,
        biz_location=place.biz_location,
        ilmd=ilmd,
    )


def packing(parent: str, children: Iterable[str], at: datetime, place: Place) -> AggregationEvent:
    return AggregationEvent(
        event_time=at,
        parent_id=parent,
        child_epcs=tuple(children),
        action=Action.ADD,
        biz_step="packing",
        read_point=place.read_point,
        biz_location=place.biz_location,
    )


def unpacking(parent: str, children: Iterable[str], at: datetime, place: Place) -> AggregationEvent:
    """The children leave `parent`; no children listed means all of them."""
    return AggregationEvent(
        event_time=at,
        parent_id=parent,
        child_epcs=tuple(children),
        action=Action.DELETE,
        biz_step="unpacking",
        read_point=place.read_point,
        biz_location=place.biz_location,
    )


def decommissioning(epcs: Iterable[str], at: datetime, place: Place) -> ObjectEvent:
    """The identifiers are taken out of use (a scrapped label, a rejected print)."""
    return _end_of_life(epcs, at, place, "decommissioning", "inactive")


def destroying(epcs: Iterable[str], at: datetime, place: Place) -> ObjectEvent:
    return _end_of_life(epcs, at, place, "destroying", "destroyed")


def sampling(epcs: Iterable[str], at: datetime, place: Place) -> tuple[ObjectEvent, ObjectEvent]:
    """The sample taken (OBSERVE) and its end of life (DELETE): a sample never returns."""
    listed = tuple(epcs)
    taken = ObjectEvent(
        event_time=at,
        epc_list=listed,
        action=Action.OBSERVE,
        biz_step="sampling",
        read_point=place.read_point,
        biz_location=place.biz_location,
    )
    return taken, destroying(listed, at, place)


def shipping(
    epcs: Iterable[str],
    at: datetime,
    place: Place,
    *,
    transactions: Iterable[BizTransaction] = (),
    sources: Iterable[Party] = (),
    destinations: Iterable[Party] = (),
) -> ObjectEvent:
    return ObjectEvent(
        event_time=at,
        epc_list=tuple(epcs),
        action=Action.OBSERVE,
        biz_step="shipping",
        disposition="in_transit",
        read_point=place.read_point,
        biz_location=place.biz_location,
        biz_transactions=tuple(transactions),
        sources=tuple(sources),
        destinations=tuple(destinations),
    )


def inspecting(
    epcs: Iterable[str], at: datetime, place: Place, *, disposition: str | None = None
) -> ObjectEvent:
    """A non-destructive check; `disposition` what it found (e.g. conformant)."""
    return ObjectEvent(
        event_time=at,
        epc_list=tuple(epcs),
        action=Action.OBSERVE,
        biz_step="inspecting",
        disposition=disposition,
        read_point=place.read_point,
        biz_location=place.biz_location,
    )


def recalling(epcs: Iterable[str], at: datetime, place: Place) -> ObjectEvent:
    """Objects recalled: held where they are (CBV bizStep holding), disposition recalled.

    An OBSERVE, not a DELETE: a recalled object still exists and is found, returned and
    destroyed later, each its own event."""
    return ObjectEvent(
        event_time=at,
        epc_list=tuple(epcs),
        action=Action.OBSERVE,
        biz_step="holding",
        disposition="recalled",
        read_point=place.read_point,
        biz_location=place.biz_location,
    )


def _end_of_life(
    epcs: Iterable[str], at: datetime, place: Place, biz_step: str, disposition: str
) -> ObjectEvent:
    return ObjectEvent(
        event_time=at,
        epc_list=tuple(epcs),
        action=Action.DELETE,
        biz_step=biz_step,
        disposition=disposition,
        read_point=place.read_point,
        biz_location=place.biz_location,
    )
