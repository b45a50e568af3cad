"""Packaging materials in the executed record: what was issued to the line, and the
reconciliation that accounts for every piece of it (issue 9: labels, cartons — issued, used,
destroyed, returned, within limits).

Both are ordinary entries, so they are never updated and a correction supersedes the entry it
corrects, with a reason, audited as a `modify` (review sees it as `data_changed`):

- an **issue** is an entry of section `materials_issued` named by the material's id whose
  value is the quantity (an entry there whose value is not a quantity is a note, not an issue).
  With an order, the material must be in the order's control recipe, whose unit it takes;
  the quantity the recipe expects for the order (`RecipeMaterial.issue_quantity`) is kept in
  the evidence next to the total issued so far, so an issue off the recipe stays visible.
  Issues of one material add up; a superseded issue no longer counts.
- a **reconciliation** is one entry per material in section `materials_reconciled` holding
  issued, used, destroyed and returned, the accountability percentage
  `(used + destroyed + returned) / issued × 100` rounded half up to two decimals (the verdict
  is made on the recorded percentage, so what is shown is what was judged), and its limits:
  the control recipe's, or limits given for a material no control recipe holds. Out of its
  limits raises a `reconciliation_breach` exception in the entry's transaction.

Step rules: new issues from when `materials_issued` may start until `production` is done,
corrections of issues until `materials_reconciled` is done; reconciliations once
`reconciliation` is done. `materials_reconciled` is completed only when every material with
something issued is reconciled against the quantity issued now. Each rule is checked again
inside the writing transaction (which holds the audit lock, as step completion does), so a
step completed meanwhile cannot slip between check and write.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

from sqlalchemy import Connection

from ebr.audit.actor import Actor
from ebr.execution.context import Context, Who, actor_of
from ebr.execution.entries import Entries, Entry, NewEntry, read_entries
from ebr.execution.errors import ExecutionError
from ebr.execution.exceptions import raise_in
from ebr.execution.kinds import ExceptionKind, Severity, Source, Step
from ebr.execution.steps import (
    StepDone,
    Steps,
    batch_status,
    done_steps,
)
from ebr.execution.values import Number, as_decimal
from ebr.orders import OrderBook, PackagingOrder
from ebr.recipes.content import RecipeMaterial

ISSUED: Final = Step.MATERIALS_ISSUED.value
RECONCILED: Final = Step.MATERIALS_RECONCILED.value
PERCENT_PLACES: Final = Decimal("0.01")
MAX_LOT: Final = 100
RECONCILED_FIELDS: Final = ("issued", "used", "destroyed", "returned", "percentage")


@dataclass(frozen=True, slots=True)
class MaterialAccount:
    """One material of a batch: what was issued and how it was accounted for."""

    material_id: str
    unit: str | None
    issued: Decimal
    """The sum of the current issues."""
    expected: Decimal | None
    """What the control recipe issues for the order's quantity; None without one."""
    used: Decimal | None
    destroyed: Decimal | None
    returned: Decimal | None
    percentage: Decimal | None
    low_pct: Decimal | None
    high_pct: Decimal | None
    in_limits: bool | None
    issue_entries: tuple[int, ...]
    reconciliation_entry: int | None
    reconciled_issued: Decimal | None
    """The issued quantity the reconciliation accounted for."""

    @property
    def reconciled(self) -> bool:
        """Reconciled against the quantity issued now (not before a later issue)."""
        return self.reconciliation_entry is not None and self.reconciled_issued == self.issued


@dataclass(frozen=True, slots=True)
class _Plan:
    """What the batch's order says about its materials."""

    order: PackagingOrder | None
    materials: Mapping[str, RecipeMaterial]

    def expected(self, material_id: str) -> Decimal | None:
        material = self.materials.get(material_id)
        if material is None or self.order is None:
            return None
        return material.issue_quantity(self.order.quantity)


def accountability_pct(
    issued: Decimal, used: Decimal, destroyed: Decimal, returned: Decimal
) -> Decimal:
    """`(used + destroyed + returned) / issued × 100`, rounded half up to two decimals,
    computed exactly (as a fraction) before the one rounding."""
    if issued <= 0:
        raise ExecutionError(
            f"an accountability percentage needs a quantity issued above 0, not {issued}",
            hint="reconcile a material once something of it is issued",
        )
    exact = Fraction(used + destroyed + returned) * 100 / Fraction(issued)
    hundredths = math.floor(exact * 100 + Fraction(1, 2))
    return Decimal(hundredths).scaleb(-2).quantize(PERCENT_PLACES)


def within_pct(percentage: Decimal, low_pct: Decimal, high_pct: Decimal) -> bool:
    return low_pct <= percentage <= high_pct


class Materials:
    def __init__(self, ctx: Context, entries: Entries, steps: Steps) -> None:
        self._ctx = ctx
        self._entries = entries
        self._steps = steps

    # --- issue ----------------------------------------------------------------------------

    def issue(
        self,
        batch_id: int,
        material_id: str,
        quantity: Number,
        *,
        by: Who,
        lot: str | None = None,
        unit: str | None = None,
        supersedes: int | None = None,
        reason: str | None = None,
    ) -> int:
        """Record an issue (or, with `supersedes` and a reason, correct one); returns the
        entry's id."""
        where = f"batch {batch_id}, material {material_id!r}"
        plan = self._plan(batch_id)
        recipe_unit = _recipe_unit(plan, material_id, unit, where)
        amount = _quantity(quantity, "issued quantity", where, positive=supersedes is None)
        if lot is not None and (not lot.strip() or len(lot) > MAX_LOT):
            raise ExecutionError(
                f"{where}: material lot {lot!r} must be 1-{MAX_LOT} characters",
                hint="give the lot printed on the material's packaging, or leave it out",
            )
        if supersedes is not None and lot is None:
            lot = _evidence_lot(self._entries.entry(supersedes))
        expected = plan.expected(material_id)

        def allowed(conn: Connection, entry_id: int) -> None:
            self._issue_allowed(conn, batch_id, correction=supersedes is not None, where=where)

        with self._ctx.engine.connect() as conn:
            batch_status(conn, batch_id)
            before = _account_issued(conn, batch_id, material_id, replacing=supersedes)
        total = before + amount
        new = NewEntry(
            batch_id,
            ISSUED,
            material_id,
            quantity if isinstance(quantity, int) else _text(amount),
            Source.MANUAL,
            by,
            unit=recipe_unit,
            reason=reason,
            evidence={
                "material_lot": lot,
                "expected": _text(expected),
                "issued_total": _text(total),
                "as_expected": None if expected is None else total == expected,
            },
            supersedes=supersedes,
        )
        return self._refusing(batch_id, by, where, lambda: self._entries.record(new, then=allowed))

    # --- reconciliation -------------------------------------------------------------------

    def reconcile(
        self,
        batch_id: int,
        material_id: str,
        *,
        used: Number,
        destroyed: Number,
        returned: Number,
        by: Who,
        low_pct: Number | None = None,
        high_pct: Number | None = None,
        supersedes: int | None = None,
        reason: str | None = None,
    ) -> int:
        """Record the material's reconciliation (or, with `supersedes` and a reason, correct
        it); returns the entry's id."""
        where = f"batch {batch_id}, material {material_id!r}"
        counts = {
            name: _quantity(value, name, where)
            for name, value in (("used", used), ("destroyed", destroyed), ("returned", returned))
        }
        plan = self._plan(batch_id)
        with self._ctx.engine.connect() as conn:
            batch_status(conn, batch_id)
            account = _accounts(conn, batch_id, plan).get(material_id)
        if account is None or account.issued <= 0:
            raise ExecutionError(
                f"{where}: nothing of it is issued, so there is nothing to reconcile",
                hint="record its issue first (issue_material), or check the material's id",
            )
        low, high = _reconciliation_limits(plan, material_id, low_pct, high_pct, where)
        _check_supersedes(account, supersedes, where)
        if counts["used"] > account.issued:
            raise ExecutionError(
                f"{where}: used {counts['used']} is more than the {account.issued} issued",
                hint="check the count of used pieces, or record the missing issue first",
            )
        percentage = accountability_pct(account.issued, *counts.values())
        in_limits = within_pct(percentage, low, high)
        value = {
            "issued": _text(account.issued),
            **{name: _text(count) for name, count in counts.items()},
            "percentage": _text(percentage),
            "low_pct": _text(low),
            "high_pct": _text(high),
            "in_limits": in_limits,
        }
        unit = f" {account.unit}" if account.unit else ""
        subject = (
            f"material {material_id}: issued {account.issued}{unit}, used {counts['used']}, "
            f"destroyed {counts['destroyed']}, returned {counts['returned']}: accountability "
            f"{percentage} % outside [{low}, {high}] %"
        )

        def breach_after(conn: Connection, entry_id: int) -> None:
            self._reconciliation_allowed(conn, batch_id, material_id, account, entry_id, where)
            if not in_limits:
                raise_in(
                    conn,
                    self._ctx,
                    batch_id,
                    ExceptionKind.RECONCILIATION_BREACH,
                    Severity.MAJOR,
                    subject,
                    entry_id,
                    actor_of(by),
                )

        new = NewEntry(
            batch_id,
            RECONCILED,
            material_id,
            value,
            Source.MANUAL,
            by,
            unit=account.unit,
            reason=reason,
            supersedes=supersedes,
        )
        return self._refusing(
            batch_id, by, where, lambda: self._entries.record(new, then=breach_after)
        )

    # --- reading and the step -------------------------------------------------------------

    def accounts(self, batch_id: int) -> list[MaterialAccount]:
        """Every material of the batch: the control recipe's in its order, then the others
        in the order of their first issue."""
        plan = self._plan(batch_id)
        with self._ctx.engine.connect() as conn:
            batch_status(conn, batch_id)
            return list(_accounts(conn, batch_id, plan).values())

    def complete_reconciled(self, batch_id: int, by: Who) -> StepDone:
        """Complete `materials_reconciled` once every issued material is reconciled."""
        step = Step.MATERIALS_RECONCILED
        actor = actor_of(by)
        plan = self._plan(batch_id)

        def every_material_reconciled(conn: Connection) -> None:
            missing = [a for a in _accounts(conn, batch_id, plan).values() if _unreconciled(a)]
            if missing:
                raise _UnreconciledError(batch_id, missing)

        try:
            return self._steps.complete(batch_id, step, actor, ready=every_material_reconciled)
        except _UnreconciledError as error:
            self._refuse(actor, batch_id, f"step {step.value}", str(error))
            raise

    # --- internals ------------------------------------------------------------------------

    def _plan(self, batch_id: int) -> _Plan:
        order = OrderBook(self._ctx.engine, audit=self._ctx.trail).for_batch(batch_id)
        if order is None or order.control_recipe is None:
            return _Plan(order, {})
        if not order.control_recipe_intact:
            raise ExecutionError(
                f"batch {batch_id}: the control recipe of order {order.number} no longer "
                "matches its hash",
                hint="the stored copy was altered; stop and have QA investigate the order",
            )
        return _Plan(order, {m.id: m for m in order.control_recipe.materials})

    def _issue_allowed(
        self, conn: Connection, batch_id: int, *, correction: bool, where: str
    ) -> None:
        done = {s.step for s in done_steps(conn, batch_id)}
        if Step.MATERIALS_RECONCILED in done:
            raise _StepRuleError(
                f"{where}: the materials are reconciled (step materials_reconciled is done); "
                "issues can no longer be recorded or corrected",
                hint="record what happened as a deviation (open_deviation)",
            )
        if not correction and Step.PRODUCTION in done:
            raise _StepRuleError(
                f"{where}: production is done; a new issue is refused",
                hint="if an issue was miscounted, correct it (supersedes=its entry id, with a "
                "reason)",
            )

    def _reconciliation_allowed(
        self,
        conn: Connection,
        batch_id: int,
        material_id: str,
        account: MaterialAccount,
        entry_id: int,
        where: str,
    ) -> None:
        if Step.MATERIALS_RECONCILED in {s.step for s in done_steps(conn, batch_id)}:
            raise _StepRuleError(
                f"{where}: step materials_reconciled is done; reconciliations are closed",
                hint="record what happened as a deviation (open_deviation)",
            )
        current = [
            e.id
            for e in read_entries(conn, batch_id, RECONCILED)
            if e.name == material_id and e.current and _is_reconciliation(e) and e.id != entry_id
        ]
        if current:
            raise ExecutionError(
                f"{where}: reconciled meanwhile in entry {current[0]}",
                hint=f"correct it: reconcile again with supersedes={current[0]} and a reason",
            )
        if _account_issued(conn, batch_id, material_id) != account.issued:
            raise ExecutionError(
                f"{where}: the quantity issued changed while reconciling",
                hint="read materials() and reconcile again",
            )

    def _refusing(self, batch_id: int, by: Who, where: str, write: Callable[[], int]) -> int:
        try:
            return write()
        except _StepRuleError as error:
            self._refuse(actor_of(by), batch_id, where, str(error))
            raise

    def _refuse(self, actor: Actor, batch_id: int, attempted: str, why: str) -> None:
        self._ctx.refuse(
            actor.event(
                "ebr.step_refused",
                "ebr_step",
                f"{batch_id}:{RECONCILED}",
                action="access",
                new={"attempted": attempted, "why": why},
            )
        )


class _StepRuleError(ExecutionError):
    """A material write the batch's steps no longer allow."""


class _UnreconciledError(ExecutionError):
    def __init__(self, batch_id: int, missing: list[MaterialAccount]) -> None:
        described = ", ".join(
            f"{a.material_id} (issued {a.issued}"
            + (
                ""
                if a.reconciliation_entry is None
                else f", reconciled against {a.reconciled_issued}"
            )
            + ")"
            for a in missing
        )
        super().__init__(
            f"batch {batch_id}: step materials_reconciled needs every issued material "
            f"reconciled; not reconciled: {described}",
            hint="reconcile each (reconcile_material); one reconciled before a later issue is "
            "corrected with supersedes=its entry id and a reason",
        )


def _unreconciled(account: MaterialAccount) -> bool:
    return account.issued > 0 and not account.reconciled


def _accounts(conn: Connection, batch_id: int, plan: _Plan) -> dict[str, MaterialAccount]:
    issues: dict[str, list[Entry]] = {material_id: [] for material_id in plan.materials}
    for entry in read_entries(conn, batch_id, ISSUED):
        if entry.current and as_decimal(entry.value) is not None:
            issues.setdefault(entry.name, []).append(entry)
    reconciliations = {
        e.name: e
        for e in read_entries(conn, batch_id, RECONCILED)
        if e.current and _is_reconciliation(e)
    }
    return {
        material_id: _account(material_id, entries, reconciliations.get(material_id), plan)
        for material_id, entries in issues.items()
    }


def _account(
    material_id: str, issues: list[Entry], reconciliation: Entry | None, plan: _Plan
) -> MaterialAccount:
    recipe = plan.materials.get(material_id)
    unit = recipe.unit if recipe is not None else next((e.unit for e in issues if e.unit), None)
    issued = sum((_decimal(e.value) for e in issues), Decimal(0))
    value: Mapping[str, Any] = reconciliation.value if reconciliation is not None else {}

    def field(name: str) -> Decimal | None:
        return None if reconciliation is None else _decimal(value[name])

    return MaterialAccount(
        material_id=material_id,
        unit=unit,
        issued=issued,
        expected=plan.expected(material_id),
        used=field("used"),
        destroyed=field("destroyed"),
        returned=field("returned"),
        percentage=field("percentage"),
        low_pct=field("low_pct"),
        high_pct=field("high_pct"),
        in_limits=None if reconciliation is None else bool(value["in_limits"]),
        issue_entries=tuple(e.id for e in issues),
        reconciliation_entry=None if reconciliation is None else reconciliation.id,
        reconciled_issued=field("issued"),
    )


def _account_issued(
    conn: Connection, batch_id: int, material_id: str, *, replacing: int | None = None
) -> Decimal:
    """The sum of the material's current issues, leaving out the one being replaced."""
    return sum(
        (
            _decimal(e.value)
            for e in read_entries(conn, batch_id, ISSUED)
            if e.name == material_id
            and e.current
            and e.id != replacing
            and as_decimal(e.value) is not None
        ),
        Decimal(0),
    )


def _is_reconciliation(entry: Entry) -> bool:
    return isinstance(entry.value, Mapping) and all(f in entry.value for f in RECONCILED_FIELDS)


def _check_supersedes(account: MaterialAccount, supersedes: int | None, where: str) -> None:
    existing = account.reconciliation_entry
    if supersedes is None and existing is not None:
        raise ExecutionError(
            f"{where}: already reconciled in entry {existing}",
            hint=f"to correct it, reconcile again with supersedes={existing} and a reason",
        )
    if supersedes is not None and supersedes != existing:
        raise ExecutionError(
            f"{where}: entry {supersedes} is not the material's current reconciliation"
            + ("" if existing is None else f" (entry {existing} is)"),
            hint="a correction supersedes the current reconciliation of the same material",
        )


def _recipe_unit(plan: _Plan, material_id: str, unit: str | None, where: str) -> str | None:
    if plan.order is None or plan.order.control_recipe is None:
        return unit
    recipe = plan.materials.get(material_id)
    if recipe is None:
        listed = ", ".join(f"{m.id} ({m.name})" for m in plan.materials.values()) or "none"
        raise ExecutionError(
            f"{where}: the material is not in the control recipe of order {plan.order.number}",
            hint=f"the recipe's materials are: {listed}",
        )
    if unit is not None and unit != recipe.unit:
        raise ExecutionError(
            f"{where}: unit {unit!r} is not the control recipe's unit {recipe.unit!r}",
            hint=f"issue it in {recipe.unit}, or leave the unit out",
        )
    return recipe.unit


def _reconciliation_limits(
    plan: _Plan,
    material_id: str,
    low_pct: Number | None,
    high_pct: Number | None,
    where: str,
) -> tuple[Decimal, Decimal]:
    given = (
        None if low_pct is None else _quantity(low_pct, "low_pct", where),
        None if high_pct is None else _quantity(high_pct, "high_pct", where),
    )
    recipe = plan.materials.get(material_id)
    if recipe is not None:
        limits = (recipe.reconciliation_low_pct, recipe.reconciliation_high_pct)
        if any(g is not None and g != r for g, r in zip(given, limits, strict=True)):
            raise ExecutionError(
                f"{where}: the control recipe sets the limits [{limits[0]}, {limits[1]}] %; "
                f"[{given[0]}, {given[1]}] were given",
                hint="leave low_pct and high_pct out: the approved recipe's limits apply",
            )
        return limits
    low, high = given
    if low is None or high is None:
        raise ExecutionError(
            f"{where}: no control recipe holds this material, so its reconciliation needs limits",
            hint="give low_pct and high_pct (the accountability percentage's limits)",
        )
    if low > high:
        raise ExecutionError(
            f"{where}: low_pct {low} is above high_pct {high}", hint="swap the limits"
        )
    return low, high


def _quantity(value: Number, what: str, where: str, *, positive: bool = False) -> Decimal:
    number = as_decimal(value)
    if number is None or number < 0 or (positive and number == 0):
        bound = "above 0" if positive else "0 or more"
        raise ExecutionError(
            f"{where}: {what} {value!r} must be a number {bound}",
            hint="give an integer, a Decimal or decimal text such as '12.5'",
        )
    return number


def _evidence_lot(entry: Entry) -> str | None:
    if isinstance(entry.evidence, Mapping):
        lot = entry.evidence.get("material_lot")
        return lot if isinstance(lot, str) else None
    return None


def _decimal(value: Any) -> Decimal:
    number = as_decimal(value)
    assert number is not None
    return number


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")
