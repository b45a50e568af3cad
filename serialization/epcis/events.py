"""EPCIS 2.0 events as plain values: ObjectEvent and AggregationEvent.

An event checks itself when it is made: a time with its UTC offset, CBV terms for its business
step, disposition and the types of its business transactions, sources and destinations, the
identifiers an action needs. Times are kept to the millisecond, the precision of the EPCIS
event hash, so the JSON-LD and XML documents and the eventID say exactly the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from serialization.epcis.errors import EpcisError
from serialization.epcis.vocabulary import Vocabulary, cbv_term


class Action(StrEnum):
    ADD = "ADD"
    OBSERVE = "OBSERVE"
    DELETE = "DELETE"


@dataclass(frozen=True, slots=True)
class BizTransaction:
    """A business document the event belongs to: `id` a URI, `type` a CBV type or None."""

    id: str
    type: str | None = None

    def __post_init__(self) -> None:
        _check_uri(self.id, "bizTransaction")
        if self.type is not None:
            object.__setattr__(self, "type", cbv_term(Vocabulary.BIZ_TRANSACTION_TYPE, self.type))


@dataclass(frozen=True, slots=True)
class Party:
    """A source or destination: `id` a URI (PGLN for a party, SGLN for a place), `type` one of
    the CBV source/destination types (owning_party, possessing_party, location)."""

    id: str
    type: str

    def __post_init__(self) -> None:
        _check_uri(self.id, "source/destination")
        object.__setattr__(self, "type", cbv_term(Vocabulary.SOURCE_DESTINATION_TYPE, self.type))


@dataclass(frozen=True, slots=True)
class Ilmd:
    """Instance/lot master data given when objects are commissioned (CBV master data
    attributes `lotNumber` and `itemExpirationDate`)."""

    lot_number: str | None = None
    item_expiration_date: date | None = None

    def __post_init__(self) -> None:
        if self.lot_number is not None and not self.lot_number.strip():
            raise EpcisError("the ILMD lot number is empty", field="ilmd", hint="give the lot")
        if self.lot_number is None and self.item_expiration_date is None:
            raise EpcisError(
                "an ILMD needs a lot number or an expiry date",
                field="ilmd",
                hint="leave the ILMD out when there is nothing to say",
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class EpcisEvent:
    """What every event has: when, what happened (action, bizStep, disposition), where."""

    event_time: datetime
    action: Action
    biz_step: str | None = None
    disposition: str | None = None
    read_point: str | None = None
    biz_location: str | None = None
    biz_transactions: tuple[BizTransaction, ...] = ()
    sources: tuple[Party, ...] = ()
    destinations: tuple[Party, ...] = ()

    def __post_init__(self) -> None:
        offset = self.event_time.utcoffset()
        if offset is None:
            raise EpcisError(
                f"event time {self.event_time.isoformat()} has no UTC offset",
                field="eventTime",
                hint="give the time with the site's time zone",
            )
        if abs(offset) > timedelta(hours=14) or offset % timedelta(minutes=1):
            raise EpcisError(
                f"UTC offset {offset} is outside -14:00..+14:00 or not whole minutes",
                field="eventTimeZoneOffset",
                hint="use the site's IANA time zone",
            )
        millisecond = self.event_time.microsecond // 1000 * 1000
        object.__setattr__(self, "event_time", self.event_time.replace(microsecond=millisecond))
        if self.biz_step is not None:
            object.__setattr__(self, "biz_step", cbv_term(Vocabulary.BIZ_STEP, self.biz_step))
        if self.disposition is not None:
            disposition = cbv_term(Vocabulary.DISPOSITION, self.disposition)
            object.__setattr__(self, "disposition", disposition)
        for uri, name in ((self.read_point, "readPoint"), (self.biz_location, "bizLocation")):
            if uri is not None:
                _check_uri(uri, name)
        if self.action not in tuple(Action):
            raise EpcisError(
                f"action {self.action!r} is not ADD, OBSERVE or DELETE",
                field="action",
                hint="EPCIS has three actions: ADD, OBSERVE, DELETE",
            )
        object.__setattr__(self, "action", Action(self.action))

    @property
    def time_zone_offset(self) -> str:
        offset = self.event_time.utcoffset()
        assert offset is not None
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"

    @property
    def type_name(self) -> str:
        return type(self).__name__

    def describe(self) -> str:
        """The event in words, for error messages: type, action, bizStep and time."""
        step = f" {self.biz_step}" if self.biz_step else ""
        return f"{self.type_name} {self.action.value}{step} at {self.event_time.isoformat()}"

    def epcs(self) -> tuple[str, ...]:
        """Every identifier the event names."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectEvent(EpcisEvent):
    epc_list: tuple[str, ...]
    ilmd: Ilmd | None = None

    def __post_init__(self) -> None:
        EpcisEvent.__post_init__(self)
        _check_epcs(self.epc_list, "epcList", self)
        if not self.epc_list:
            raise EpcisError(
                f"{self.describe()} names no EPC", field="epcList", hint="list the codes"
            )
        if self.ilmd is not None and self.action is not Action.ADD:
            raise EpcisError(
                f"{self.describe()} carries ILMD, which only an ADD event may",
                field="ilmd",
                hint="give lot and expiry when the objects are commissioned",
            )

    def epcs(self) -> tuple[str, ...]:
        return self.epc_list


@dataclass(frozen=True, slots=True, kw_only=True)
class AggregationEvent(EpcisEvent):
    parent_id: str | None
    child_epcs: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        EpcisEvent.__post_init__(self)
        if self.parent_id is None and self.action is not Action.OBSERVE:
            raise EpcisError(
                f"{self.describe()} has no parentID",
                field="parentID",
                hint="ADD and DELETE aggregation events name the parent",
            )
        if self.parent_id is not None:
            _check_uri(self.parent_id, "parentID")
        _check_epcs(self.child_epcs, "childEPCs", self)
        if self.action is Action.ADD and not self.child_epcs:
            raise EpcisError(
                f"{self.describe()} adds no child to {self.parent_id}",
                field="childEPCs",
                hint="list the children packed",
            )
        if self.parent_id is not None and self.parent_id in self.child_epcs:
            raise EpcisError(
                f"{self.describe()} names {self.parent_id} as its own child",
                field="childEPCs",
                hint="a parent cannot contain itself",
            )

    def epcs(self) -> tuple[str, ...]:
        return ((self.parent_id,) if self.parent_id else ()) + self.child_epcs


def _check_uri(value: object, name: str) -> None:
    if (
        not isinstance(value, str)
        or ":" not in value
        or not value.partition(":")[0].isascii()
        or not value.partition(":")[0][:1].isalpha()
        or any(char.isspace() for char in value)
    ):
        raise EpcisError(
            f"{value!r} is not a URI",
            field=name,
            hint="EPCIS identifiers are URIs such as urn:epc:id:sgtin:… (no spaces)",
        )


def _check_epcs(epcs: tuple[str, ...], name: str, event: EpcisEvent) -> None:
    if len(set(epcs)) != len(epcs):
        raise EpcisError(
            f"{event.describe()} lists an EPC twice in {name}",
            field=name,
            hint="name each EPC once",
        )
    for epc in epcs:
        _check_uri(epc, name)
