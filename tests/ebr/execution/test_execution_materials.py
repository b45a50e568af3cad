"""Packaging materials in the executed record: issues checked against the order's control
recipe and added up, corrections counted instead of what they correct, reconciliation by the
accountability percentage within its limits (a `reconciliation_breach` outside them), bad
numbers refused with nothing written, and the steps that allow each."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from ebr.audit.actor import GATEWAY
from ebr.execution import ExceptionKind, ExecutionError, MaterialAccount, SequenceError, Step
from ebr.execution.materials import accountability_pct, within_pct
from ebr.orders import OrderBook
from ebr.recipes.master import Recipes
from ebr.users import Role
from tests.ebr.audit.audit_users import OWN
from tests.ebr.execution.execution_fixtures import ExecutionSite
from tests.ebr.recipe_fixtures import AMOX_CONTENT, order


@pytest.fixture
def site(engine: Engine) -> ExecutionSite:
    return ExecutionSite(engine)


def ordered_batch(site: ExecutionSite) -> int:
    """The batch of an order taken from the approved `amox` recipe (1000 units; LBL-U: one
    label per unit and 50 more, accountable within [99, 100.5] %)."""
    site.add("erin", Role.ENGINEER)
    erin = site.users.login("erin", OWN)
    recipes = Recipes(site.users, site.trail)
    recipes.create(
        erin, recipe_id="amox-pack", product_id="amox", name="Amox pack", content=AMOX_CONTENT
    )
    recipes.sign_as_author(erin, "amox-pack", 1, password=OWN, username="erin")
    recipes.approve(site.session("quinn"), "amox-pack", 1, password=OWN, username="quinn")
    taken = OrderBook(site.engine, audit=site.trail, users=site.users).download(order(), GATEWAY)
    assert taken.batch_id is not None
    return taken.batch_id


def account(site: ExecutionSite, batch: int, material_id: str) -> MaterialAccount:
    return {a.material_id: a for a in site.record.materials(batch)}[material_id]


def unchanged(site: ExecutionSite, batch: int) -> tuple[int, int]:
    return site.entry_count(), len(site.record.exceptions(batch, include_acknowledged=True))


def test_issues_follow_the_control_recipe_add_up_and_are_reconciled_within_its_limits(
    site: ExecutionSite,
) -> None:
    batch = ordered_batch(site)
    olga = site.session("olga")
    record = site.record

    with pytest.raises(SequenceError, match="before step header is done"):
        record.issue_material(batch, "LBL-U", 1000, by=olga)
    site.complete_through(Step.CLEARANCE, batch)
    with pytest.raises(ExecutionError, match="not in the control recipe of order PO-1") as foreign:
        record.issue_material(batch, "FOIL", 10, by=olga)
    assert foreign.value.hint == "the recipe's materials are: LBL-U (unit label)"
    with pytest.raises(ExecutionError, match="not the control recipe's unit 'pcs'"):
        record.issue_material(batch, "LBL-U", 10, by=olga, unit="rolls")
    for bad in (-5, 0, "ten", True, Decimal("NaN")):
        with pytest.raises(ExecutionError, match="must be a number above 0"):
            record.issue_material(batch, "LBL-U", bad, by=olga)
    assert site.entry_count() == 0

    first = record.issue_material(batch, "LBL-U", 1000, by=olga, lot="LBL-2611-7")
    issued = record.entry(first)
    assert (issued.section, issued.name, issued.value, issued.unit) == (
        "materials_issued",
        "LBL-U",
        1000,
        "pcs",
    )
    assert issued.evidence == {
        "material_lot": "LBL-2611-7",
        "expected": "1050",
        "issued_total": "1000",
        "as_expected": False,
    }
    site.complete_through(Step.CHALLENGE, batch)
    second = record.issue_material(batch, "LBL-U", "50", by=olga, lot="LBL-2611-8")
    assert record.entry(second).evidence["as_expected"] is True
    labels = account(site, batch, "LBL-U")
    assert (labels.issued, labels.expected, labels.issue_entries) == (
        Decimal(1050),
        Decimal(1050),
        (first, second),
    )
    assert not labels.reconciled

    with pytest.raises(ExecutionError, match="needs a reason"):
        record.issue_material(batch, "LBL-U", 990, by=olga, supersedes=first)
    corrected = record.issue_material(
        batch, "LBL-U", 990, by=olga, supersedes=first, reason="ten labels were counted twice"
    )
    assert record.entry(corrected).evidence["material_lot"] == "LBL-2611-7"
    labels = account(site, batch, "LBL-U")
    assert (labels.issued, labels.issue_entries) == (Decimal(1040), (second, corrected))
    (change,) = site.trail.entries(event="ebr.entry_corrected")
    assert (change.object_id, change.new) == (str(first), {"entry": corrected, "value": 990})

    site.complete_through(Step.PRODUCTION, batch)
    with pytest.raises(ExecutionError, match="production is done; a new issue is refused"):
        record.issue_material(batch, "LBL-U", 5, by=olga)
    with pytest.raises(SequenceError, match="before step counts is done"):
        record.reconcile_material(batch, "LBL-U", used=1, destroyed=0, returned=0, by=olga)
    site.complete_through(Step.RECONCILIATION, batch)
    with pytest.raises(ExecutionError, match="not reconciled: LBL-U \\(issued 1040\\)"):
        record.complete_step(batch, Step.MATERIALS_RECONCILED, olga)
    refusals = [e.new for e in site.trail.entries(event="ebr.step_refused")]
    assert [r.get("missing") for r in refusals] == ["header", None, "counts", None]
    assert "production is done" in refusals[1]["why"]
    assert "not reconciled: LBL-U" in refusals[3]["why"]

    before = unchanged(site, batch)
    bad_reconciliations: list[tuple[str, dict[str, Any]]] = [
        ("destroyed -1 must be a number 0 or more", {"destroyed": -1}),
        ("used 1041 is more than the 1040 issued", {"used": 1041}),
        ("returned 'x' must be a number", {"returned": "x"}),
        ("the control recipe sets the limits \\[99, 100.5\\]", {"low_pct": 90}),
    ]
    for message, bad_numbers in bad_reconciliations:
        numbers: dict[str, Any] = {"used": 1000, "destroyed": 10, "returned": 30} | bad_numbers
        with pytest.raises(ExecutionError, match=message):
            record.reconcile_material(batch, "LBL-U", by=olga, **numbers)
    with pytest.raises(ExecutionError, match="nothing of it is issued"):
        record.reconcile_material(batch, "FOIL", used=0, destroyed=0, returned=0, by=olga)
    assert unchanged(site, batch) == before

    reconciled = record.reconcile_material(
        batch, "LBL-U", used=1000, destroyed=10, returned=30, by=olga
    )
    assert record.entry(reconciled).value == {
        "issued": "1040",
        "used": "1000",
        "destroyed": "10",
        "returned": "30",
        "percentage": "100.00",
        "low_pct": "99",
        "high_pct": "100.5",
        "in_limits": True,
    }
    assert record.exceptions(batch) == []
    with pytest.raises(ExecutionError, match=f"already reconciled in entry {reconciled}"):
        record.reconcile_material(batch, "LBL-U", used=1000, destroyed=10, returned=30, by=olga)
    recount = record.reconcile_material(
        batch,
        "LBL-U",
        used=1000,
        destroyed=0,
        returned=35,
        by=olga,
        supersedes=reconciled,
        reason="ten destroyed labels were found among the returned ones",
    )
    labels = account(site, batch, "LBL-U")
    assert (labels.used, labels.destroyed, labels.returned) == (
        Decimal(1000),
        Decimal(0),
        Decimal(35),
    )
    assert (labels.percentage, labels.in_limits, labels.reconciliation_entry) == (
        Decimal("99.52"),
        True,
        recount,
    )
    assert labels.reconciled
    assert record.exceptions(batch) == []

    record.complete_step(batch, Step.MATERIALS_RECONCILED, olga)
    with pytest.raises(ExecutionError, match="issues can no longer be recorded or corrected"):
        record.issue_material(batch, "LBL-U", 1000, by=olga, supersedes=second, reason="recount")
    with pytest.raises(ExecutionError, match="reconciliations are closed"):
        record.reconcile_material(
            batch, "LBL-U", used=1, destroyed=0, returned=0, by=olga, supersedes=recount, reason="x"
        )


def test_without_an_order_any_material_is_issued_and_reconciled_against_given_limits(
    site: ExecutionSite,
) -> None:
    olga, batch, record = site.session("olga"), site.batch, site.record
    site.complete_through(Step.CLEARANCE)
    issued = record.issue_material(batch, "CARTON-U", 500, by=olga, unit="pcs")
    assert record.entry(issued).evidence == {
        "material_lot": None,
        "expected": None,
        "issued_total": "500",
        "as_expected": None,
    }
    site.complete_through(Step.RECONCILIATION)
    with pytest.raises(ExecutionError, match="its reconciliation needs limits"):
        record.reconcile_material(batch, "CARTON-U", used=400, destroyed=5, returned=50, by=olga)
    with pytest.raises(ExecutionError, match="low_pct 101 is above high_pct 98"):
        record.reconcile_material(
            batch, "CARTON-U", used=400, destroyed=5, returned=50, by=olga, low_pct=101, high_pct=98
        )
    assert record.exceptions(batch) == []

    short = record.reconcile_material(
        batch, "CARTON-U", used=400, destroyed=5, returned=50, by=olga, low_pct=98, high_pct=101
    )
    (breach,) = record.exceptions(batch)
    assert (breach.kind, breach.ref) == (ExceptionKind.RECONCILIATION_BREACH, str(short))
    assert breach.subject == (
        "material CARTON-U: issued 500 pcs, used 400, destroyed 5, returned 50: "
        "accountability 91.00 % outside [98, 101] %"
    )
    cartons = account(site, batch, "CARTON-U")
    assert (cartons.percentage, cartons.in_limits, cartons.reconciled) == (
        Decimal("91.00"),
        False,
        True,
    )

    record.issue_material(
        batch, "CARTON-U", 455, by=olga, supersedes=issued, reason="45 cartons never left stock"
    )
    with pytest.raises(ExecutionError, match="CARTON-U \\(issued 455, reconciled against 500\\)"):
        record.complete_step(batch, Step.MATERIALS_RECONCILED, olga)
    record.reconcile_material(
        batch,
        "CARTON-U",
        used=400,
        destroyed=5,
        returned=50,
        by=olga,
        low_pct=98,
        high_pct=101,
        supersedes=short,
        reason="reconciled again against the corrected issue",
    )
    assert account(site, batch, "CARTON-U").in_limits is True
    assert [e.kind for e in record.exceptions(batch)] == [ExceptionKind.RECONCILIATION_BREACH]
    record.complete_step(batch, Step.MATERIALS_RECONCILED, olga)


def reference(
    issued: Decimal,
    used: Decimal,
    destroyed: Decimal,
    returned: Decimal,
    low: Decimal,
    high: Decimal,
) -> tuple[Decimal, bool]:
    with localcontext() as exact:
        exact.prec = 80
        percentage = ((used + destroyed + returned) * 100 / issued).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
    return percentage, low <= percentage <= high


amounts = st.decimals(min_value=0, max_value=10**7, places=3)
percentages = st.decimals(min_value=0, max_value=200, places=2)


@st.composite
def reconciliations(draw: st.DrawFn) -> tuple[Decimal, ...]:
    issued = draw(st.decimals(min_value=Decimal("0.001"), max_value=10**7, places=3))
    used = draw(st.decimals(min_value=0, max_value=issued, places=3))
    low, high = sorted((draw(percentages), draw(percentages)))
    return issued, used, draw(amounts), draw(amounts), low, high


@given(reconciliations())
@settings(max_examples=300, deadline=None)
def test_the_percentage_and_verdict_match_an_exact_decimal_reference(
    numbers: tuple[Decimal, ...],
) -> None:
    issued, used, destroyed, returned, low, high = numbers
    percentage = accountability_pct(issued, used, destroyed, returned)
    assert (percentage, within_pct(percentage, low, high)) == reference(*numbers)
    assert percentage.as_tuple().exponent == -2


def test_the_recorded_reconciliation_matches_the_reference_for_any_numbers(
    site: ExecutionSite,
) -> None:
    olga = site.session("olga")

    @given(reconciliations())
    @settings(
        max_examples=10,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def recorded(numbers: tuple[Decimal, ...]) -> None:
        issued, used, destroyed, returned, low, high = numbers
        batch = site.new_batch()
        site.complete_through(Step.CHALLENGE, batch)
        site.record.issue_material(batch, "FOIL", issued, by=olga, unit="m")
        site.complete_through(Step.RECONCILIATION, batch)
        entry = site.record.reconcile_material(
            batch,
            "FOIL",
            used=used,
            destroyed=destroyed,
            returned=returned,
            by=olga,
            low_pct=low,
            high_pct=high,
        )
        percentage, in_limits = reference(*numbers)
        foil = account(site, batch, "FOIL")
        assert (foil.issued, foil.percentage, foil.in_limits) == (issued, percentage, in_limits)
        assert site.record.entry(entry).value["percentage"] == format(percentage, "f")
        breaches = [e.ref for e in site.record.exceptions(batch)]
        assert breaches == ([] if in_limits else [str(entry)])
        site.record.complete_step(batch, Step.MATERIALS_RECONCILED, olga)

    recorded()
