"""The state effects of journal events on codes and batches, worked out in memory.

`plan` checks one event against a `CodeView` and returns what it changes, or raises
`JournalRejectedError` with the rule broken; it changes nothing. `CodeView.apply` then makes
the changes and remembers them for writing. The journal (on rows read from the database) and
the verifier (replaying the journal) share this module, so both apply exactly the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ebr.journal.events import EventKind, JournalEvent, JournalRejectedError
from serialization.states import CodeState, transition

S = CodeState
BATCH_STATUS_LENGTH = 16
"""`batches.status` is a String(16)."""


@dataclass(slots=True)
class CodeRow:
    id: int
    key: str
    state: CodeState
    batch_id: int | None
    parent_id: int | None = None
    parent_key: str | None = None


@dataclass(frozen=True, slots=True)
class Move:
    key: str
    to: CodeState


@dataclass(frozen=True, slots=True)
class Link:
    """Put `key` into the aggregate `parent` (None: out of any aggregate)."""

    key: str
    parent: str | None
    parent_id: int | None = None
    """The parent's id, needed only when the view does not hold the parent's row."""


@dataclass(frozen=True, slots=True)
class Phase:
    batch_id: int
    status: str


Effect = Move | Link | Phase


@dataclass(frozen=True, slots=True)
class StateChange:
    code_id: int
    from_state: CodeState
    to_state: CodeState
    reason: str


@dataclass(slots=True)
class CodeView:
    """Codes and batch statuses as the events so far leave them.

    `rows` must hold every code an event names, and every child of each aggregate an event
    unpacks, relabels or destroys.
    """

    rows: dict[str, CodeRow]
    batches: dict[int, str]
    children: dict[str, set[str]] = field(default_factory=dict)
    changes: list[StateChange] = field(default_factory=list)
    changed_codes: dict[str, CodeRow] = field(default_factory=dict)
    changed_batches: dict[int, str] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Iterable[CodeRow], batches: Mapping[int, str]) -> CodeView:
        view = cls({row.key: row for row in rows}, dict(batches))
        for row in view.rows.values():
            if row.parent_key is not None:
                view.children.setdefault(row.parent_key, set()).add(row.key)
        return view

    def children_of(self, parent: str) -> list[str]:
        return sorted(self.children.get(parent, ()))

    def apply(self, effects: Sequence[Effect], reason: str) -> None:
        for effect in effects:
            if isinstance(effect, Phase):
                self.batches[effect.batch_id] = effect.status
                self.changed_batches[effect.batch_id] = effect.status
                continue
            row = self.rows[effect.key]
            if isinstance(effect, Move):
                transition(row.state, effect.to, code=row.key)
                self.changes.append(StateChange(row.id, row.state, effect.to, reason))
                row.state = effect.to
            else:
                self._link(row, effect)
            self.changed_codes[row.key] = row

    def _link(self, row: CodeRow, link: Link) -> None:
        if row.parent_key is not None:
            self.children.get(row.parent_key, set()).discard(row.key)
        if link.parent is None:
            row.parent_key, row.parent_id = None, None
            return
        parent_row = self.rows.get(link.parent)
        row.parent_key = link.parent
        row.parent_id = parent_row.id if parent_row is not None else link.parent_id
        self.children.setdefault(link.parent, set()).add(row.key)


def plan(event: JournalEvent, view: CodeView) -> list[Effect]:
    """The changes `event` makes, or `JournalRejectedError` naming the rule it breaks."""
    return _Planner(event, view).plan()


class _Planner:
    def __init__(self, event: JournalEvent, view: CodeView) -> None:
        self.event = event
        self.view = view

    def reject(self, message: str, hint: str | None = None) -> JournalRejectedError:
        return JournalRejectedError(self.event, message, hint=hint)

    def plan(self) -> list[Effect]:
        event = self.event
        if event.batch_id not in self.view.batches:
            raise self.reject(f"unknown batch {event.batch_id}", "create the batch first")
        if event.unit_ref is not None and len(event.unit_ref) > 40:
            raise self.reject("unit_ref is longer than 40 characters", "shorten the unit ref")
        kind = event.kind
        if kind is EventKind.CODES_VOIDED:
            return self.voided()
        if kind is EventKind.CODES_RECALLED:
            return self.recalled()
        if kind is EventKind.BATCH_PHASE:
            return self.phase()
        if kind in (EventKind.REJECT_CONFIRMED, EventKind.REJECT_MISSED, EventKind.NOTE):
            if kind is EventKind.NOTE:
                self.text("topic")
            if event.code_key is not None:
                self.code(event.code_key)
            return []
        if kind is EventKind.UNIT_REJECTED:
            return self.rejected()
        key = self.required_key()
        if kind is EventKind.UNIT_ISSUED:
            return [self.move(self.code(key), {S.ALLOCATED}, S.ENCODED, "issued")]
        if kind is EventKind.UNIT_ACCEPTED:
            return [self.move(self.code(key), {S.ENCODED}, S.COMMISSIONED, "accepted")]
        if kind is EventKind.UNIT_SAMPLED:
            return self.sampled(self.code(key))
        if kind is EventKind.UNIT_DESTROYED:
            row = self.code(key)
            sources = {S.COMMISSIONED, S.SAMPLED, S.INACTIVE}
            return [self.move(row, sources, S.DESTROYED, "destroyed"), *self.leave(row)]
        if kind is EventKind.AGGREGATED:
            return self.packed(self.code(key))
        if kind is EventKind.CHILD_ADDED:
            parent = self.open_case(key)
            return [Link(self.packable(parent, self.text("child"), set()).key, parent.key)]
        if kind is EventKind.CHILD_REMOVED:
            return self.child_removed(self.open_case(key))
        if kind is EventKind.UNPACKED:
            parent = self.open_case(key)
            return [Move(key, S.DESTROYED), *self.leave(parent)]
        if kind is EventKind.LABEL_REPLACED:
            return self.label_replaced(self.code(key))
        raise self.reject(f"unknown event kind {kind!r}")

    def required_key(self) -> str:
        if self.event.code_key is None:
            raise self.reject("the event names no code", "set code_key to the code's key")
        return self.event.code_key

    def code(self, key: str) -> CodeRow:
        row = self.view.rows.get(key)
        if row is None:
            raise self.reject(
                f"code {key} is unknown to this gateway (batch {self.event.batch_id})",
                "only codes allocated to the batch can be journaled",
            )
        if row.batch_id != self.event.batch_id:
            where = "no batch" if row.batch_id is None else f"batch {row.batch_id}"
            raise self.reject(
                f"code {key} belongs to {where}, not to batch {self.event.batch_id}",
                "journal a code under its own batch",
            )
        return row

    def text(self, name: str) -> str:
        value = self.event.data.get(name)
        if not isinstance(value, str) or not value:
            raise self.reject(
                f"data[{name!r}] must be a non-empty string, not {value!r}",
                f"give the {name} of a {self.event.kind.value} event",
            )
        return value

    def require(self, row: CodeRow, sources: set[CodeState], verb: str) -> None:
        if row.state not in sources:
            allowed = " or ".join(sorted(state.label for state in sources))
            raise self.reject(
                f"code {row.key} is {row.state.label}; only a code that is {allowed} can be {verb}",
                f"read the code's state before journaling a {self.event.kind.value}",
            )

    def move(self, row: CodeRow, sources: set[CodeState], to: CodeState, verb: str) -> Move:
        self.require(row, sources, verb)
        return Move(row.key, to)

    def leave(self, row: CodeRow) -> list[Effect]:
        """The code leaves circulation: out of its aggregate, and its children out of it."""
        effects: list[Effect] = [Link(child, None) for child in self.view.children_of(row.key)]
        if row.parent_key is not None:
            effects.append(Link(row.key, None))
        return effects

    def rejected(self) -> list[Effect]:
        self.text("reason")
        key = self.event.code_key
        if key is None:
            return []
        row = self.code(key)
        target = {S.ENCODED: S.LABEL_SCRAPPED, S.COMMISSIONED: S.DESTROYED}.get(
            row.state, S.SN_INVALID
        )
        sources = {S.ALLOCATED, S.ENCODED, S.COMMISSIONED}
        move = self.move(row, sources, target, "rejected")
        return [move, *self.leave(row)] if target is S.DESTROYED else [move]

    def listed_codes(self) -> list[CodeRow]:
        """The codes of an event that names them in data['keys'], each once."""
        if self.event.code_key is not None:
            raise self.reject(
                f"{self.event.kind.value} names its codes in data['keys'], not in code_key",
                "set code_key to None",
            )
        self.text("reason")
        keys = self.event.data.get("keys")
        if not isinstance(keys, list | tuple) or not keys:
            raise self.reject("data['keys'] must be a non-empty list of code keys")
        rows: list[CodeRow] = []
        seen: set[str] = set()
        for key in keys:
            if not isinstance(key, str) or key in seen:
                raise self.reject(f"data['keys'] names {key!r} twice or is not a key string")
            seen.add(key)
            rows.append(self.code(key))
        return rows

    def voided(self) -> list[Effect]:
        effects: list[Effect] = []
        for row in self.listed_codes():
            target = S.LABEL_SCRAPPED if row.state is S.ENCODED else S.SN_INVALID
            effects.append(self.move(row, {S.ALLOCATED, S.ENCODED}, target, "voided"))
        return effects

    def recalled(self) -> list[Effect]:
        """Saleable codes become Inactive and keep their place in their aggregates: a recall
        must find them where they are. Nothing moves an Inactive code but destruction."""
        rows = self.listed_codes()
        self.text("user")
        return [
            self.move(row, {S.COMMISSIONED, S.RELEASED}, S.INACTIVE, "recalled") for row in rows
        ]

    def sampled(self, row: CodeRow) -> list[Effect]:
        destructive = self.event.data.get("destructive")
        if not isinstance(destructive, bool):
            raise self.reject(
                f"data['destructive'] must be true or false, not {destructive!r}",
                "say whether the sample is destroyed by testing",
            )
        self.text("reason")
        if not destructive:
            self.require(row, {S.COMMISSIONED}, "sampled")
            return []
        return [self.move(row, {S.COMMISSIONED}, S.SAMPLED, "sampled"), *self.leave(row)]

    def label_moves(self, row: CodeRow) -> list[Effect]:
        """A new aggregate label, printed and verified by the caller, becomes Commissioned."""
        self.require(row, {S.ALLOCATED, S.ENCODED}, "used as a new label")
        moves: list[Effect] = [Move(row.key, S.ENCODED)] if row.state is S.ALLOCATED else []
        return [*moves, Move(row.key, S.COMMISSIONED)]

    def open_case(self, key: str) -> CodeRow:
        row = self.code(key)
        if row.state is not S.COMMISSIONED:
            raise self.reject(
                f"case {key} is {row.state.label}; only a Commissioned case can be changed",
                "pack the case first (aggregation.packed)",
            )
        return row

    def packable(self, parent: CodeRow, child_key: str, seen: set[str]) -> CodeRow:
        if child_key in seen or child_key == parent.key:
            raise self.reject(
                f"child {child_key} is named twice or is the case itself",
                "name each child once",
            )
        seen.add(child_key)
        child = self.view.rows.get(child_key)
        if child is None:
            raise self.reject(
                f"child {child_key} is unknown to this gateway (batch {self.event.batch_id})",
                "pack only units journaled for this batch",
            )
        if child.batch_id != parent.batch_id:
            raise self.reject(
                f"child {child_key} is from batch {child.batch_id}, case is batch "
                f"{parent.batch_id}",
                "a case holds units of one batch",
            )
        if child.parent_key is not None:
            raise self.reject(
                f"child {child_key} already in case {child.parent_key}",
                "remove it from that case first (aggregation.child_removed)",
            )
        if child.state is not S.COMMISSIONED:
            raise self.reject(
                f"child {child_key} is {child.state.label}, only Commissioned units can be packed",
                "pack only accepted units",
            )
        return child

    def packed(self, parent: CodeRow) -> list[Effect]:
        children = self.event.data.get("children")
        if not isinstance(children, list | tuple) or not children:
            raise self.reject("data['children'] must be a non-empty list of child keys")
        seen: set[str] = set()
        links: list[Effect] = []
        for child in children:
            if not isinstance(child, str):
                raise self.reject(f"data['children'] holds {child!r}, not a key string")
            links.append(Link(self.packable(parent, child, seen).key, parent.key))
        return [*self.label_moves(parent), *links]

    def child_removed(self, parent: CodeRow) -> list[Effect]:
        child = self.code(self.text("child"))
        if child.parent_key != parent.key:
            where = "no case" if child.parent_key is None else f"case {child.parent_key}"
            raise self.reject(
                f"child {child.key} is not in case {parent.key} (it is in {where})",
                "remove a child from the case it is in",
            )
        return [Link(child.key, None)]

    def label_replaced(self, new: CodeRow) -> list[Effect]:
        old = self.code(self.text("old"))
        if old.key == new.key:
            raise self.reject("the new label is the old one", "scan the new label")
        if old.state is not S.COMMISSIONED:
            raise self.reject(
                f"old label {old.key} is {old.state.label}; only a Commissioned case is relabelled",
                "relabel a packed case",
            )
        effects: list[Effect] = [*self.label_moves(new)]
        effects += [Link(child, new.key) for child in self.view.children_of(old.key)]
        if old.parent_key is not None:
            effects += [Link(new.key, old.parent_key, old.parent_id), Link(old.key, None)]
        effects.append(Move(old.key, S.DESTROYED))
        return effects

    def phase(self) -> list[Effect]:
        data: Mapping[str, Any] = self.event.data
        to = self.text("to")
        if len(to) > BATCH_STATUS_LENGTH:
            raise self.reject(
                f"batch status {to!r} is longer than {BATCH_STATUS_LENGTH} characters",
                "use a short phase name such as 'running' or 'closed'",
            )
        current = self.view.batches[self.event.batch_id]
        expected = data.get("from")
        if expected is not None and expected != current:
            raise self.reject(
                f"batch {self.event.batch_id} is {current!r}, not {expected!r}",
                "read the batch's phase and try again",
            )
        return [Phase(self.event.batch_id, to)]
