"""Packaging orders on SQLite and PostgreSQL: the control recipe is a copy no later recipe
change reaches, downloads are idempotent and conflicts refused, orders by hand are signed by a
supervisor, bad orders are refused by field, and the database keeps what an order fixed."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import DBAPIError

from ebr.audit.actor import Actor
from ebr.audit.bundle import verify_database
from ebr.catalog import ProductLevelSetup, SiteIdentity, batch_info, sync_master_data
from ebr.errors import NotFoundError, StoreError
from ebr.models import Batch
from ebr.orders import OrderBook, UnknownReferenceError
from ebr.recipes.errors import OrderConflictError, OrderError, RecipeNotApprovedError
from ebr.recipes.models import PackagingOrderRow
from ebr.signatures import ESignatures, Requirement
from ebr.users import AuthenticationError, PermissionDeniedError
from serialization.gs1.checkdigit import check_digit
from serialization.rules import PackagingLevel, ProductMaster
from tests.ebr.audit.audit_users import OWN
from tests.ebr.fixtures_master import GS1_CSPRNG, SSCC, USCC
from tests.ebr.recipe_fixtures import AMOX_CONTENT, RecipeSite, content, order

MES = Actor(username="mes")


@pytest.fixture
def site(engine: Engine) -> RecipeSite:
    return RecipeSite(engine)


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_download_copies_the_approved_version_and_makes_one_batch_once(
    site: RecipeSite,
) -> None:
    approved = site.approved_recipe()

    taken = site.book.download(order(), MES)

    assert (taken.status, taken.source, taken.created_by) == ("ready", "download", "mes")
    assert (taken.recipe_id, taken.recipe_version) == ("amox-pack", 1)
    assert taken.control_recipe == approved.content
    assert taken.control_recipe_sha256 == approved.content_sha256
    assert taken.control_recipe_intact
    assert [(lv.level, lv.quantity) for lv in taken.levels] == [
        (PackagingLevel.UNIT, None),
        (PackagingLevel.CASE, 20),
    ]
    assert taken.batch_id is not None
    batch = batch_info(site.trail.engine, taken.batch_id)
    assert batch is not None
    assert (batch.product_id, batch.lot, batch.line_id, batch.status) == (
        "amox",
        "L1",
        "line-1",
        "downloaded",
    )
    assert site.book.for_batch(taken.batch_id) == taken

    assert site.book.download(order(), MES) == taken, "the same order again"
    with pytest.raises(OrderConflictError) as conflict:
        site.book.download(order(quantity=999), MES)
    assert "quantity 1000 (this order: 999)" in conflict.value.message
    assert f"batch {taken.batch_id}" in conflict.value.message
    assert conflict.value.differences == (("quantity", 1000, 999),)
    assert conflict.value.batch_id == taken.batch_id
    with pytest.raises(OrderConflictError, match="is order 'PO-1' already"):
        site.book.download(order("PO-2"), MES)

    engine = site.trail.engine
    assert (_count(engine, PackagingOrderRow), _count(engine, Batch)) == (1, 1)
    assert [e.object_id for e in site.trail.entries(event="batch.created")] == [str(taken.batch_id)]
    created = site.trail.entries(event="packaging_order.created")
    assert [(e.username, e.new["control_recipe_sha256"]) for e in created] == [
        ("mes", approved.content_sha256)
    ]
    assert [
        (e.old["status"], e.new["status"])
        for e in site.trail.entries(event="packaging_order.ready")
    ] == [("accepted", "ready")]
    assert [o.number for o in site.book.orders()] == ["PO-1"]
    table = PackagingOrderRow
    for statement in (
        update(table).values(control_recipe=content(reconciliation_tolerance=9)),
        update(table).values(control_recipe_sha256="0" * 64),
        update(table).values(quantity=5),
        delete(table),
    ):
        with pytest.raises(DBAPIError, match="tracegate"), engine.begin() as conn:
            conn.execute(statement)
    with engine.begin() as conn:
        conn.execute(update(table).values(status="ready"))
    assert site.book.order("PO-1") == taken, "kept as taken"


def test_a_recipe_change_during_a_running_order_does_not_affect_it(site: RecipeSite) -> None:
    first = site.approved_recipe()
    running = site.book.download(order(), MES)
    rita = site.login("rita")

    site.recipes.edit(rita, "amox-pack", content(reconciliation_tolerance=5), reason="wider")
    assert site.book.order("PO-1") == running, "a new draft"
    second = site.approve("amox-pack", 2)
    assert site.book.order("PO-1") == running, "a newer version approved"
    later = site.book.download(order("PO-2", lot="L2"), MES)
    site.recipes.retire(site.login("quinn"), "amox-pack", reason="format withdrawn")

    after = site.book.order("PO-1")
    assert after == running, "the recipe retired"
    assert (after.recipe_version, after.control_recipe_sha256) == (1, first.content_sha256)
    assert after.control_recipe is not None
    assert after.control_recipe.reconciliation_tolerance == 0
    assert after.control_recipe_intact
    assert (later.recipe_version, later.control_recipe_sha256) == (2, second.content_sha256)
    with pytest.raises(RecipeNotApprovedError, match="is retired"):
        site.book.download(order("PO-3", lot="L3"), MES)
    assert verify_database(site.trail.engine).ok


def test_an_order_by_hand_needs_a_supervisors_signature(site: RecipeSite) -> None:
    site.approved_recipe()
    request = order("HAND-1")
    for name in ("olga", "quinn"):
        with pytest.raises(PermissionDeniedError, match="cannot make a packaging order by hand"):
            site.book.create_by_hand(request, site.login(name), password=OWN, username=name)
    assert _count(site.trail.engine, PackagingOrderRow) == 0

    sam = site.login("sam")
    with pytest.raises(AuthenticationError):
        site.book.create_by_hand(request, sam, password="wrong-password-1", username="sam")
    waiting = site.book.order("HAND-1")
    assert (waiting.status, waiting.batch_id, waiting.source) == (
        "awaiting_signature",
        None,
        "manual",
    )

    sam, signed = site.book.create_by_hand(request, sam, password=OWN, username="sam")

    assert (signed.status, signed.id) == ("ready", waiting.id)
    assert signed.batch_id is not None
    signatures = ESignatures(
        site.users, site.trail, {"packaging_order_by_hand": Requirement.SINGLE}
    )
    (signature,) = signatures.signatures("packaging_order", "HAND-1")
    assert (signature.username, signature.meaning) == ("sam", "authored")
    assert signatures.verify("packaging_order", "HAND-1").ok, "status and batch are not signed"
    assert [e.reason for e in site.trail.entries(event="packaging_order.accepted")] == [
        "signed by sam"
    ]
    assert site.book.create_by_hand(request, sam, password=OWN)[1] == signed
    with pytest.raises(StoreError, match="opened without the site's users"):
        OrderBook(site.trail.engine).create_by_hand(request, sam, password=OWN)


def test_bad_orders_are_refused_by_field_and_a_product_without_a_recipe_only_when_required(
    site: RecipeSite,
) -> None:
    site.draft()
    with pytest.raises(RecipeNotApprovedError, match="no approved version") as unapproved:
        site.book.download(order(), MES)
    assert unapproved.value.hint is not None
    assert "tracegate recipe approve" in unapproved.value.hint
    site.approve("amox-pack", 1)
    cases: list[tuple[dict[str, Any], type[OrderError], str, str]] = [
        ({"product_id": "aspirin"}, UnknownReferenceError, "product_id", "unknown product"),
        ({"line_id": "line-9"}, UnknownReferenceError, "line_id", "unknown line"),
        ({"line_id": "line-2"}, OrderError, "line_id", "runs on line-1, not on line 'line-2'"),
        ({"expiry": date(2026, 11, 1)}, OrderError, "expiry", "not after the production date"),
        ({"expiry": date(2026, 11, 20)}, OrderError, "expiry", "not after the production date"),
        ({"quantity": 0}, OrderError, "quantity", "between 1 and"),
        ({"quantity": -5}, OrderError, "quantity", "between 1 and"),
        ({"lot": "L" * 21}, OrderError, "lot", "1-20 printable characters"),
        ({"lot": "L 1"}, OrderError, "lot", "without spaces"),
        ({"lot": "L#1"}, OrderError, "lot", "cannot be coded"),
        ({"number": ""}, OrderError, "number", "order number"),
        ({"expiry": None}, OrderError, "expiry", "cannot be coded"),
    ]
    for changes, error, field, words in cases:
        with pytest.raises(error, match=words) as refused:
            site.book.download(order(**changes), MES)
        assert refused.value.field == field, changes
        assert refused.value.hint, changes
    assert issubclass(UnknownReferenceError, NotFoundError)
    engine = site.trail.engine
    assert (_count(engine, PackagingOrderRow), _count(engine, Batch)) == (0, 0)
    with pytest.raises(NotFoundError, match="unknown packaging order 'PO-9'"):
        site.book.order("PO-9")

    strict = OrderBook(site.trail.engine, audit=site.trail, require_recipe=True)
    with pytest.raises(RecipeNotApprovedError, match="'ibu' has no recipe"):
        strict.download(order(product_id="ibu"), MES)

    taken = site.book.download(order(product_id="ibu"), MES)

    assert (taken.recipe_id, taken.control_recipe, taken.control_recipe_sha256) == (
        None,
        None,
        None,
    )
    assert [(lv.level, lv.coding_rule) for lv in taken.levels] == [(PackagingLevel.UNIT, "gs1-ff1")]
    assert taken.status == "ready"


def _gtin(n: int) -> str:
    body = f"0950110170{n:03d}"
    return body + check_digit(body)


def _add_product(engine: Engine, n: int) -> str:
    product_id = f"p{n}"
    sync_master_data(
        engine,
        SiteIdentity("plant-1", "Demo Pharma", USCC, "9501101", "9501101000001"),
        [GS1_CSPRNG, SSCC],
        [ProductMaster(product_id, f"Product {n}", gtin=_gtin(n), company_prefix="9501101")],
        [
            ProductLevelSetup(product_id, PackagingLevel.UNIT, GS1_CSPRNG),
            ProductLevelSetup(product_id, PackagingLevel.CASE, SSCC, quantity=20),
        ],
        [],
    )
    return product_id


def test_any_sequence_of_recipe_changes_keeps_one_approved_version_and_every_order_intact(
    site: RecipeSite,
) -> None:
    """A model of the version states, checked against the store after every step: only the
    latest draft signed by its author can be approved, at most one version is approved, a
    version's hash never changes, and each order keeps the version it copied."""
    products = itertools.count(1)
    recipes, book = site.recipes, site.book

    class Lifecycle(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.n = next(products)
            self.recipe = f"r{self.n}"
            self.product = _add_product(site.trail.engine, self.n)
            first = recipes.create(
                site.login("rita"),
                recipe_id=self.recipe,
                product_id=self.product,
                name="r",
                content=AMOX_CONTENT,
            )
            self.status = {1: "draft"}
            self.hashes = {1: first.content_sha256}
            self.author_signed: set[int] = set()
            self.orders: dict[str, tuple[int, str]] = {}

        @property
        def latest(self) -> int:
            return max(self.status)

        def approved(self) -> int | None:
            return next((v for v, s in self.status.items() if s == "approved"), None)

        @rule()
        def edit(self) -> None:
            made = recipes.edit(
                site.login("rita"),
                self.recipe,
                content(reconciliation_tolerance=self.latest),
                reason="next",
            )
            for version, status in self.status.items():
                if status == "draft":
                    self.status[version] = "superseded"
            self.status[made.version] = "draft"
            self.hashes[made.version] = made.content_sha256

        @rule()
        def sign_as_author(self) -> None:
            allowed = self.status[self.latest] == "draft" and self.latest not in self.author_signed
            try:
                recipes.sign_as_author(
                    site.login("rita"), self.recipe, self.latest, password=OWN, username="rita"
                )
            except StoreError:
                assert not allowed
                return
            assert allowed
            self.author_signed.add(self.latest)

        @rule()
        def approve(self) -> None:
            allowed = self.status[self.latest] == "draft" and self.latest in self.author_signed
            try:
                recipes.approve(
                    site.login("quinn"), self.recipe, self.latest, password=OWN, username="quinn"
                )
            except StoreError:
                assert not allowed
                return
            assert allowed
            before = self.approved()
            if before is not None:
                self.status[before] = "superseded"
            self.status[self.latest] = "approved"

        @rule()
        def retire(self) -> None:
            current = self.approved()
            try:
                recipes.retire(site.login("quinn"), self.recipe, reason="withdrawn")
            except StoreError:
                assert current is None
                return
            assert current is not None
            self.status[current] = "retired"

        @rule()
        def take_order(self) -> None:
            number = f"O{self.n}-{len(self.orders)}"
            current = self.approved()
            try:
                taken = book.download(
                    order(number, product_id=self.product, lot=number, line_id="line-1"), MES
                )
            except RecipeNotApprovedError:
                assert current is None
                return
            assert current is not None
            assert (taken.recipe_version, taken.control_recipe_sha256) == (
                current,
                self.hashes[current],
            )
            self.orders[number] = (current, self.hashes[current])

        @invariant()
        def store_agrees_with_the_model(self) -> None:
            versions = recipes.versions(self.recipe)
            assert {v.version: v.status for v in versions} == self.status
            assert {v.version: v.content_sha256 for v in versions} == self.hashes
            for number, (version, digest) in self.orders.items():
                kept = book.order(number)
                assert (kept.recipe_version, kept.control_recipe_sha256) == (version, digest)
                assert kept.control_recipe_intact

    run_state_machine_as_test(
        Lifecycle,
        settings=settings(
            max_examples=5,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
