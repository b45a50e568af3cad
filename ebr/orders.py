"""Packaging orders: what to pack, on which line, from which control recipe, as which batch.

An order arrives by download from the enterprise (API, OPC UA `DownloadOrder`), idempotent on
its number: the same order again answers the order already taken, a different one under the
same number (or for the same product lot) is refused with the differences. An order made by
hand needs a supervisor's e-signature (`Meaning.AUTHORED`) before it can be produced.

Taking an order copies the product's approved recipe version into the order row, content and
hash, as its control recipe: a later edit, approval or retirement of the recipe never reaches
it. Each order makes exactly one production batch through `ebr.catalog.create_batch`, so the
line runs it as any batch. Every step is audited in its own transaction; the order row is
written first, so an interrupted order is completed, never duplicated, when it is sent again.

Products that have no recipe at all are still taken, with the site file's levels and no control
recipe, unless the book is opened with `require_recipe=True`; a product whose recipe has no
approved version is always refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from ebr.audit.actor import Actor, trail_for
from ebr.audit.trail import AuditTrail
from ebr.catalog import create_batch, find_batch, load_product
from ebr.errors import NotFoundError, StoreError
from ebr.models import Batch, Line, Product, ProductLevel
from ebr.recipes.content import (
    LEVEL_ORDER,
    RecipeContent,
    RecipeLevel,
    content_sha256,
    levels_as_json,
    parse_content,
)
from ebr.recipes.errors import OrderConflictError, OrderError, RecipeError, RecipeNotApprovedError
from ebr.recipes.models import MAX_ORDER_NUMBER_LENGTH, PackagingOrderRow
from ebr.recipes.signed import ORDER_OBJECT
from ebr.recipes.site_match import check_against_site
from ebr.recipes.stored import RecipeVersion, approved_for_product, aware
from ebr.signatures import ESignatures, Meaning, Requirement
from ebr.users import PermissionDeniedError, Role, Session, Users
from serialization.coding import CodeFactory
from serialization.errors import SerializationError
from serialization.rules import LotData, PackagingLevel, rule_from_dict

ORDER_BY_HAND: Final = "packaging_order_by_hand"
"""The signature action of an order made by hand (single: a supervisor, `AUTHORED`)."""
HAND_ORDER_ROLES: Final = frozenset({Role.SUPERVISOR})
MAX_LOT_LENGTH: Final = 20
MAX_QUANTITY: Final = 100_000_000
FIELD_OF_AI: Final = {"10": "lot", "17": "expiry", "(17)": "expiry", "11": "production_date"}
COMPARED: Final = ("product_id", "line_id", "lot", "expiry", "production_date", "quantity")


class UnknownReferenceError(OrderError, NotFoundError):
    """The order names a product or line the site does not have."""


@dataclass(frozen=True, slots=True)
class OrderRequest:
    number: str
    product_id: str
    line_id: str
    lot: str
    quantity: int
    production_date: date
    expiry: date | None


@dataclass(frozen=True, slots=True)
class PackagingOrder:
    id: int
    number: str
    source: str
    product_id: str
    line_id: str
    lot: str
    expiry: date | None
    production_date: date
    quantity: int
    levels: tuple[RecipeLevel, ...]
    recipe_id: str | None
    recipe_version: int | None
    control_recipe: RecipeContent | None
    """The copy of the approved version taken with the order; None without a recipe."""
    control_recipe_sha256: str | None
    control_recipe_intact: bool
    """The stored copy still hashes to `control_recipe_sha256`."""
    status: str
    batch_id: int | None
    created_at: datetime
    created_by: str | None


@dataclass(frozen=True, slots=True)
class _Plan:
    levels: tuple[RecipeLevel, ...]
    recipe: RecipeVersion | None


class OrderBook:
    def __init__(
        self,
        engine: Engine,
        *,
        audit: AuditTrail | None = None,
        users: Users | None = None,
        signing_blocked: Callable[[], str | None] = lambda: None,
        require_recipe: bool = False,
    ) -> None:
        """`users` (the one the sessions were opened with) is needed for orders by hand."""
        self._engine = engine
        self._trail = trail_for(engine, audit)
        self._users = users
        self._signing_blocked = signing_blocked
        self._require_recipe = require_recipe

    # --- taking orders --------------------------------------------------------------------

    def download(self, request: OrderRequest, actor: Actor) -> PackagingOrder:
        """The enterprise's order, taken and given its batch; the same order again answers
        the order already taken."""
        order = self._take(request, "download", "accepted", actor)
        return self._make_batch(order, actor) if order.status == "accepted" else order

    def create_by_hand(
        self,
        request: OrderRequest,
        session: Session,
        *,
        password: str,
        username: str | None = None,
    ) -> tuple[Session, PackagingOrder]:
        """An order typed in by a supervisor, who signs it (`Meaning.AUTHORED`). Without a
        valid signature the order stays `awaiting_signature`; the same request again resumes
        it. Returns the renewed session and the order."""
        users = self._require_users()
        session = users.touch(session)
        if session.role not in HAND_ORDER_ROLES:
            raise PermissionDeniedError(
                f"{session.username} ({session.role.value}) cannot make a packaging order by hand",
                hint="a supervisor makes and signs orders by hand; others come from the enterprise",
            )
        actor = Actor(session.user_id, session.username)
        order = self._take(request, "manual", "awaiting_signature", actor)
        if order.status == "awaiting_signature":
            signatures = ESignatures(
                users,
                self._trail,
                {ORDER_BY_HAND: Requirement.SINGLE},
                signing_blocked=self._signing_blocked,
            )
            if not signatures.is_complete(ORDER_BY_HAND, ORDER_OBJECT, order.number):
                session, _ = signatures.sign(
                    session,
                    action=ORDER_BY_HAND,
                    object_type=ORDER_OBJECT,
                    object_id=order.number,
                    meaning=Meaning.AUTHORED,
                    password=password,
                    username=username,
                )
            order = self._move(
                order, actor, "accepted", reason=f"signed by {session.username}", batch_id=None
            )
        if order.status == "accepted":
            order = self._make_batch(order, actor)
        return session, order

    # --- reading --------------------------------------------------------------------------

    def order(self, number: str) -> PackagingOrder:
        with self._engine.connect() as conn:
            found = _read(conn, PackagingOrderRow.number == number)
        if found is None:
            raise NotFoundError(
                f"unknown packaging order {number!r}", hint="check the order number"
            )
        return found

    def orders(self, *, limit: int = 500) -> list[PackagingOrder]:
        """The most recent orders first."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(PackagingOrderRow.__table__)
                .order_by(PackagingOrderRow.id.desc())
                .limit(limit)
            )
            return [_order(row) for row in rows]

    def for_batch(self, batch_id: int) -> PackagingOrder | None:
        with self._engine.connect() as conn:
            return _read(conn, PackagingOrderRow.batch_id == batch_id)

    # --- internals ------------------------------------------------------------------------

    def _take(
        self, request: OrderRequest, source: str, status: str, actor: Actor
    ) -> PackagingOrder:
        """The order under this number: the one already taken (if it is the same order) or a
        new row, audited."""
        with self._engine.connect() as conn:
            existing = _read(conn, PackagingOrderRow.number == request.number)
        if existing is not None:
            return _same_or_conflict(existing, request)
        try:
            with self._engine.begin() as conn:
                self._trail.record(conn, [])
                plan = self._plan(conn, request)
                _check_lot_free(conn, request)
                values = _row_values(request, source, status, plan)
                conn.execute(
                    insert(PackagingOrderRow).values(
                        **values,
                        control_recipe=None
                        if plan.recipe is None
                        else plan.recipe.content.to_dict(),
                        created_at=self._trail.now(),
                        created_by_user_id=actor.user_id,
                        created_by=actor.username,
                    )
                )
                self._trail.record(
                    conn,
                    [
                        actor.event(
                            "packaging_order.created",
                            ORDER_OBJECT,
                            request.number,
                            action="create",
                            new=values,
                        )
                    ],
                )
        except IntegrityError:
            with self._engine.connect() as conn:
                existing = _read(conn, PackagingOrderRow.number == request.number)
            if existing is None:
                raise
            return _same_or_conflict(existing, request)
        return self.order(request.number)

    def _plan(self, conn: Connection, request: OrderRequest) -> _Plan:
        _check_request(conn, request)
        recipe = approved_for_product(conn, request.product_id)
        if recipe is None:
            if self._require_recipe:
                raise RecipeNotApprovedError(
                    f"product {request.product_id!r} has no recipe; an order needs an "
                    "approved master batch record",
                    hint="write the product's recipe and have it approved "
                    "(`tracegate recipe create`, `sign`, `approve`)",
                    field="product",
                )
            return _Plan(_site_levels(conn, request.product_id), None)
        try:
            check_against_site(conn, request.product_id, recipe.content)
        except RecipeError as mismatch:
            raise RecipeError(
                f"the approved recipe {recipe.recipe_id!r} version {recipe.version} no longer "
                f"matches the site file: {mismatch.message}",
                hint="draft and approve a recipe version that matches the site file",
                field="product",
            ) from None
        if request.line_id not in recipe.content.lines:
            raise OrderError(
                f"recipe {recipe.recipe_id!r} version {recipe.version} runs on "
                f"{', '.join(recipe.content.lines)}, not on line {request.line_id!r}",
                hint="send the order to one of the recipe's lines, or approve a recipe "
                "version that includes this line",
                field="line_id",
            )
        return _Plan(recipe.content.levels, recipe)

    def _make_batch(self, order: PackagingOrder, actor: Actor) -> PackagingOrder:
        try:
            batch_id = create_batch(
                self._engine,
                product_id=order.product_id,
                line_id=order.line_id,
                lot=order.lot,
                expiry=order.expiry,
                production_date=order.production_date,
                planned_quantity=order.quantity,
                audit=self._trail,
                actor=actor,
            )
        except StoreError:
            made_before = self._batch_made_before(order)
            if made_before is None:
                raise
            batch_id = made_before
        return self._move(
            order, actor, "ready", reason=f"batch {batch_id} created", batch_id=batch_id
        )

    def _batch_made_before(self, order: PackagingOrder) -> int | None:
        """The batch of an order interrupted after its batch was made, if that is what
        happened: same product, lot, line and expiry, and no other order holds it."""
        found = find_batch(self._engine, order.product_id, order.lot)
        if found is None or (found.line_id, found.expiry) != (order.line_id, order.expiry):
            return None
        with self._engine.connect() as conn:
            taken = conn.execute(
                select(PackagingOrderRow.number).where(PackagingOrderRow.batch_id == found.id)
            ).scalar_one_or_none()
        return None if taken is not None else found.id

    def _move(
        self,
        order: PackagingOrder,
        actor: Actor,
        status: str,
        *,
        reason: str,
        batch_id: int | None,
    ) -> PackagingOrder:
        changes: dict[str, Any] = {"status": status}
        if batch_id is not None:
            changes["batch_id"] = batch_id
        with self._engine.begin() as conn:
            self._trail.record(conn, [])
            moved = conn.execute(
                update(PackagingOrderRow)
                .where(PackagingOrderRow.id == order.id, PackagingOrderRow.status == order.status)
                .values(**changes)
            ).rowcount
            if moved:
                self._trail.record(
                    conn,
                    [
                        actor.event(
                            f"packaging_order.{status}",
                            ORDER_OBJECT,
                            order.number,
                            action="modify",
                            old={"status": order.status, "batch_id": order.batch_id},
                            new=changes,
                            reason=reason,
                        )
                    ],
                )
        return self.order(order.number)

    def _require_users(self) -> Users:
        if self._users is None:
            raise StoreError(
                "this order book was opened without the site's users",
                hint="open OrderBook with users=… to take orders by hand (they are signed)",
            )
        return self._users


def _check_request(conn: Connection, request: OrderRequest) -> None:
    number = request.number
    if not 0 < len(number) <= MAX_ORDER_NUMBER_LENGTH or not _plain_text(number):
        raise OrderError(
            f"order number {number!r} must be 1-{MAX_ORDER_NUMBER_LENGTH} printable characters "
            "without spaces",
            hint="use the enterprise's order number as it is",
            field="number",
        )
    if conn.execute(select(Product.id).where(Product.id == request.product_id)).first() is None:
        known = ", ".join(conn.execute(select(Product.id).order_by(Product.id)).scalars())
        raise UnknownReferenceError(
            f"unknown product {request.product_id!r} (the site's products: {known or 'none'})",
            hint="send one of the site's products, or add the product to the site file",
            field="product_id",
        )
    if conn.execute(select(Line.id).where(Line.id == request.line_id)).first() is None:
        known = ", ".join(conn.execute(select(Line.id).order_by(Line.id)).scalars())
        raise UnknownReferenceError(
            f"unknown line {request.line_id!r} (the site's lines: {known or 'none'})",
            hint="send one of the site's lines",
            field="line_id",
        )
    if not 0 < len(request.lot) <= MAX_LOT_LENGTH or not _plain_text(request.lot):
        raise OrderError(
            f"lot {request.lot!r} must be 1-{MAX_LOT_LENGTH} printable characters without spaces",
            hint="correct the lot number",
            field="lot",
        )
    quantity = request.quantity
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise OrderError(
            f"quantity must be a whole number, not {quantity!r}",
            hint="send the number of units to pack",
            field="quantity",
        )
    if not 0 < quantity <= MAX_QUANTITY:
        raise OrderError(
            f"quantity {quantity} must be between 1 and {MAX_QUANTITY}",
            hint="send the number of units to pack",
            field="quantity",
        )
    if request.expiry is not None and request.expiry <= request.production_date:
        raise OrderError(
            f"expiry {request.expiry.isoformat()} is not after the production date "
            f"{request.production_date.isoformat()}",
            hint="correct the dates",
            field="expiry",
        )
    _check_codable(conn, request)


def _check_codable(conn: Connection, request: OrderRequest) -> None:
    """Every coded level can code this lot and these dates (as `create_batch` checks)."""
    product = load_product(conn, request.product_id)
    lot_data = LotData(request.lot, request.expiry, request.production_date)
    rules = conn.execute(
        select(ProductLevel.rule).where(ProductLevel.product_id == request.product_id)
    ).scalars()
    for rule in rules:
        try:
            CodeFactory(rule_from_dict(rule), product, lot_data)
        except SerializationError as error:
            field = FIELD_OF_AI.get(error.field or "", "lot")
            hint = error.hint or "correct the order"
            if field == "expiry":
                hint += "; send an expiry, or configure the product's shelf life"
            raise OrderError(
                f"product {request.product_id!r} cannot be coded with this order: {error.message}",
                hint=hint,
                field=field,
            ) from None


def _check_lot_free(conn: Connection, request: OrderRequest) -> None:
    other = conn.execute(
        select(PackagingOrderRow.number, PackagingOrderRow.batch_id).where(
            PackagingOrderRow.product_id == request.product_id,
            PackagingOrderRow.lot == request.lot,
        )
    ).first()
    if other is not None:
        raise OrderConflictError(
            f"product {request.product_id!r} lot {request.lot!r} is order {other.number!r} "
            f"already (batch {other.batch_id}); a lot is used once per product",
            hint=f"send order {other.number!r} again as it was, or a new lot",
            field="lot",
        )
    batch = conn.execute(
        select(Batch.id).where(Batch.product_id == request.product_id, Batch.lot == request.lot)
    ).scalar_one_or_none()
    if batch is not None:
        raise OrderConflictError(
            f"product {request.product_id!r} already has batch {batch} with lot "
            f"{request.lot!r}; a lot is used once per product",
            hint="send a new lot",
            field="lot",
        )


def _same_or_conflict(existing: PackagingOrder, request: OrderRequest) -> PackagingOrder:
    wanted = asdict(request)
    differences = tuple(
        (name, getattr(existing, name), wanted[name])
        for name in COMPARED
        if getattr(existing, name) != wanted[name]
    )
    if not differences:
        return existing
    listed = ", ".join(
        f"{name} {_shown(taken)} (this order: {_shown(sent)})" for name, taken, sent in differences
    )
    where = f"batch {existing.batch_id}" if existing.batch_id is not None else existing.status
    raise OrderConflictError(
        f"order {existing.number!r} was taken ({where}) with {listed}",
        hint="an order number is used once: send the same order again, or a new number",
        field=differences[0][0],
        differences=differences,
        batch_id=existing.batch_id,
    )


def _shown(value: Any) -> str:
    return repr(value.isoformat() if isinstance(value, date) else value)


def _site_levels(conn: Connection, product_id: str) -> tuple[RecipeLevel, ...]:
    rows = conn.execute(
        select(ProductLevel.level, ProductLevel.quantity, ProductLevel.coding_rule_id).where(
            ProductLevel.product_id == product_id
        )
    ).all()
    levels = [
        RecipeLevel(PackagingLevel(row.level), row.quantity, row.coding_rule_id) for row in rows
    ]
    return tuple(sorted(levels, key=lambda lv: LEVEL_ORDER.index(lv.level)))


def _row_values(request: OrderRequest, source: str, status: str, plan: _Plan) -> dict[str, Any]:
    return {
        "number": request.number,
        "source": source,
        "product_id": request.product_id,
        "line_id": request.line_id,
        "lot": request.lot,
        "expiry": request.expiry,
        "production_date": request.production_date,
        "quantity": request.quantity,
        "levels": levels_as_json(plan.levels),
        "recipe_id": None if plan.recipe is None else plan.recipe.recipe_id,
        "recipe_version": None if plan.recipe is None else plan.recipe.version,
        "control_recipe_sha256": None if plan.recipe is None else plan.recipe.content_sha256,
        "status": status,
    }


def _plain_text(text: str) -> bool:
    return all(c.isprintable() and not c.isspace() for c in text)


def _read(conn: Connection, where: Any) -> PackagingOrder | None:
    row = conn.execute(select(PackagingOrderRow.__table__).where(where)).first()
    return None if row is None else _order(row)


def _order(row: Any) -> PackagingOrder:
    stored = row.control_recipe
    return PackagingOrder(
        id=row.id,
        number=row.number,
        source=row.source,
        product_id=row.product_id,
        line_id=row.line_id,
        lot=row.lot,
        expiry=row.expiry,
        production_date=row.production_date,
        quantity=row.quantity,
        levels=tuple(
            RecipeLevel(PackagingLevel(lv["level"]), lv["quantity"], lv["coding_rule"])
            for lv in row.levels
        ),
        recipe_id=row.recipe_id,
        recipe_version=row.recipe_version,
        control_recipe=None if stored is None else parse_content(stored),
        control_recipe_sha256=row.control_recipe_sha256,
        control_recipe_intact=stored is None or content_sha256(stored) == row.control_recipe_sha256,
        status=row.status,
        batch_id=row.batch_id,
        created_at=aware(row.created_at),
        created_by=row.created_by,
    )
