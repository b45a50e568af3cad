"""Rules over a sequence of EPCIS events for the same EPCs, checked event by event.

| rule | refuses |
|---|---|
| commissioned once | a second commissioning (ObjectEvent ADD) of an EPC |
| no event after destroying | any event naming an EPC after it was destroyed |
| no event after decommissioning | any event naming an EPC after it was decommissioned |
| no event after DELETE | any event naming an EPC after another ObjectEvent DELETE |
| sampling ends in DELETE | after a sampling OBSERVE, anything but the ObjectEvent DELETE |
| commissioned before packing | packing (AggregationEvent ADD) an uncommissioned EPC |
| one parent at a time | packing a child that is in another parent |
| unpack only what is packed | unpacking (AggregationEvent DELETE) a child not in that parent |

`finish` refuses a sequence that ends with a sample not yet deleted.

A refused event changes nothing: the checker's state is that of the events accepted so far.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from serialization.epcis.errors import SequenceError
from serialization.epcis.events import Action, AggregationEvent, EpcisEvent, ObjectEvent


class Rule(StrEnum):
    COMMISSIONED_ONCE = "commissioned once"
    NO_EVENT_AFTER_DESTROYING = "no event after destroying"
    NO_EVENT_AFTER_DECOMMISSIONING = "no event after decommissioning"
    NO_EVENT_AFTER_DELETE = "no event after DELETE"
    SAMPLING_ENDS_IN_DELETE = "sampling ends in DELETE"
    COMMISSIONED_BEFORE_PACKING = "commissioned before packing"
    ONE_PARENT_AT_A_TIME = "one parent at a time"
    UNPACK_ONLY_WHAT_IS_PACKED = "unpack only what is packed"


_ENDED_BY = {
    "destroying": Rule.NO_EVENT_AFTER_DESTROYING,
    "decommissioning": Rule.NO_EVENT_AFTER_DECOMMISSIONING,
}


class SequenceChecker:
    """Feed events in order with `check`; call `finish` after the last one."""

    def __init__(self) -> None:
        self._commissioned: dict[str, str] = {}
        """Each commissioned EPC → the parent it is packed in, or itself when in none. One
        entry a code for both (a long batch holds every unit here), and an unpacked code's
        value is its one string, which its parent's list of children then shares."""
        self._ended: dict[str, tuple[Rule, str]] = {}
        self._sampled: dict[str, str] = {}
        self._children: dict[str, list[str]] = {}
        """A parent's children in a list: a case's dozen in a set took 700-odd bytes."""

    def check(self, event: EpcisEvent) -> None:
        """Accept `event` or raise `SequenceError` naming the rule, the event and the EPC."""
        for epc in event.epcs():
            self._not_ended(event, epc)
            self._not_awaiting_delete(event, epc)
        if isinstance(event, ObjectEvent):
            self._object_event(event)
        elif isinstance(event, AggregationEvent):
            self._aggregation_event(event)

    def finish(self) -> None:
        """Refuse a sequence that leaves a sample without its DELETE."""
        for epc, sampled_by in self._sampled.items():
            raise SequenceError(
                Rule.SAMPLING_ENDS_IN_DELETE,
                sampled_by,
                epc,
                "the sample's life never ends",
                hint="follow a sampling OBSERVE with an ObjectEvent DELETE of the same EPCs",
            )

    def _not_ended(self, event: EpcisEvent, epc: str) -> None:
        if epc in self._ended:
            rule, ended_by = self._ended[epc]
            raise SequenceError(
                rule,
                event.describe(),
                epc,
                f"its life ended with {ended_by}",
                hint="an EPC whose life ended is never named again; use a new identifier",
            )

    def _not_awaiting_delete(self, event: EpcisEvent, epc: str) -> None:
        if epc not in self._sampled:
            return
        ends_it = isinstance(event, ObjectEvent) and event.action is Action.DELETE
        if not ends_it:
            raise SequenceError(
                Rule.SAMPLING_ENDS_IN_DELETE,
                event.describe(),
                epc,
                f"it was sampled ({self._sampled[epc]}) and must be deleted next",
                hint="a sampled object never returns to the supply chain: record its DELETE",
            )

    def _object_event(self, event: ObjectEvent) -> None:
        epcs = event.epc_list
        if event.action is Action.ADD:
            for epc in epcs:
                if epc in self._commissioned:
                    raise SequenceError(
                        Rule.COMMISSIONED_ONCE,
                        event.describe(),
                        epc,
                        "it was commissioned before",
                        hint="a code is commissioned once (R-CODE-1)",
                    )
            self._commissioned.update((epc, epc) for epc in epcs)
        elif event.action is Action.DELETE:
            rule = _ENDED_BY.get(event.biz_step or "", Rule.NO_EVENT_AFTER_DELETE)
            for epc in epcs:
                self._sampled.pop(epc, None)
                self._leave(epc)
                self._ended[epc] = (rule, event.describe())
        elif event.biz_step == "sampling":
            for epc in epcs:
                self._sampled[epc] = event.describe()

    def _aggregation_event(self, event: AggregationEvent) -> None:
        parent = event.parent_id
        if parent is None or event.action is Action.OBSERVE:
            return
        if event.action is Action.ADD:
            for epc in (parent, *event.child_epcs):
                if epc not in self._commissioned:
                    raise SequenceError(
                        Rule.COMMISSIONED_BEFORE_PACKING,
                        event.describe(),
                        epc,
                        "it was never commissioned",
                        hint="commission the parent and every child before packing them",
                    )
            for child in event.child_epcs:
                current = self.parent_of(child)
                if current is not None and current != parent:
                    raise SequenceError(
                        Rule.ONE_PARENT_AT_A_TIME,
                        event.describe(),
                        child,
                        f"it is packed in {current}",
                        hint="unpack it from that parent first",
                    )
            parent = self._own_string(parent)
            for child in event.child_epcs:
                held = self._commissioned[child]
                if held == child:
                    self._commissioned[held] = parent
                    self._children.setdefault(parent, []).append(held)
            return
        children = self._children.get(parent, [])
        for child in event.child_epcs:
            if child not in children:
                where = self.parent_of(child)
                raise SequenceError(
                    Rule.UNPACK_ONLY_WHAT_IS_PACKED,
                    event.describe(),
                    child,
                    f"it is not in {parent}" + (f" but in {where}" if where else ""),
                    hint="unpack a child from the parent it is packed in",
                )
        for child in event.child_epcs or tuple(children):
            self._detach(child)

    def parent_of(self, epc: str) -> str | None:
        """The parent `epc` is packed in, as the events so far have it."""
        held = self._commissioned.get(epc)
        return None if held is None or held == epc else held

    def _own_string(self, epc: str) -> str:
        """The string the checker keeps for commissioned `epc` (one a code, however often
        events name it)."""
        held = self._commissioned[epc]
        if held == epc:
            return held
        return next(child for child in self._children[held] if child == epc)

    def children_of(self, epc: str) -> tuple[str, ...]:
        """What is packed in `epc`, in the order it was packed."""
        return tuple(self._children.get(epc, ()))

    def _detach(self, epc: str) -> None:
        """`epc` leaves its parent; what is packed in it stays there."""
        parent = self.parent_of(epc)
        if parent is not None:
            children = self._children[parent]
            own = children.pop(children.index(epc))
            if not children:
                del self._children[parent]
            self._commissioned[own] = own

    def _leave(self, epc: str) -> None:
        """`epc`'s life ended: it leaves its parent and frees its children."""
        self._detach(epc)
        for child in self._children.pop(epc, []):
            self._commissioned[child] = child


def check_sequence(events: Iterable[EpcisEvent]) -> None:
    """Check a whole sequence; the first broken rule raises `SequenceError`."""
    checker = SequenceChecker()
    for event in events:
        checker.check(event)
    checker.finish()
