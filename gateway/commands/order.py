"""`tracegate order create | list | show`: packaging orders (docs/ebr.md).

`create` makes an order by hand: a supervisor types it and signs it (meaning: authored); it is
checked against the site file like an order from the enterprise, copies the product's approved
recipe as its control recipe and makes the order's batch. The password is read from
TRACEGATE_USER_PASSWORD, or asked for.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date, datetime
from pathlib import Path

from ebr.orders import OrderBook, OrderRequest, PackagingOrder
from ebr.users import Users
from gateway.commands.common import fail, load_config
from gateway.commands.recipe import login_user
from gateway.opcua_server.order_json import OrderError, parse_order
from gateway.site_store import open_site_store


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "order",
        help="packaging orders: make one by hand (signed), list and show them",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="order_command", required=True)

    create = sub.add_parser("create", help="an order made by hand, signed by a supervisor")
    create.add_argument("--config", type=Path, required=True, help="the site file")
    create.add_argument("--user", required=True, help="the supervisor's user name")
    create.add_argument("--number", required=True, help="the order number")
    create.add_argument("--product", required=True, help="a product id of the site file")
    create.add_argument("--lot", required=True, help="the lot, 1-20 characters, no spaces")
    create.add_argument("--line", required=True, help="a line that runs the product")
    create.add_argument("--quantity", type=int, required=True, help="units to pack")
    create.add_argument(
        "--production-date", type=_date, help="YYYY-MM-DD; default: today at the site"
    )
    create.add_argument("--expiry", type=_date, help="YYYY-MM-DD; default: from the shelf life")
    create.set_defaults(run=run_create)

    listing = sub.add_parser("list", help="the most recent orders first")
    listing.add_argument("--config", type=Path, required=True, help="the site file")
    listing.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    listing.set_defaults(run=run_list)

    show = sub.add_parser("show", help="one order with its control recipe")
    show.add_argument("--config", type=Path, required=True, help="the site file")
    show.add_argument("--number", required=True, help="the order number")
    show.set_defaults(run=run_show)


def run_create(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    fields: dict[str, object] = {
        "product": args.product,
        "lot": args.lot,
        "line": args.line,
        "planned_quantity": args.quantity,
    }
    for name, value in (("production_date", args.production_date), ("expiry", args.expiry)):
        if value is not None:
            fields[name] = value.isoformat()
    try:
        order = parse_order(
            json.dumps(fields), config, datetime.now(UTC).astimezone(config.zone).date()
        )
    except OrderError as error:
        option = {"planned_quantity": "quantity"}.get(error.field, error.field)
        fail(
            error.message,
            hint=f"correct --{option.replace('_', '-')}" if option else "correct the order",
        )
    request = OrderRequest(
        number=args.number,
        product_id=order.product,
        line_id=order.line,
        lot=order.lot,
        quantity=order.planned_quantity,
        production_date=order.production_date,
        expiry=order.expiry,
    )
    store = open_site_store(config)
    try:
        users = Users(store.audit)
        user = login_user(users, args.user)
        try:
            _, taken = OrderBook(store.engine, audit=store.audit, users=users).create_by_hand(
                request, user.session, password=user.password, username=user.username
            )
        finally:
            users.logout(user.session)
    finally:
        store.close()
    _print(taken)
    return 0


def run_list(args: argparse.Namespace) -> int:
    store = open_site_store(load_config(args.config))
    try:
        orders = OrderBook(store.engine, audit=store.audit).orders(limit=args.limit)
    finally:
        store.close()
    if not orders:
        print("no orders yet")
    for order in orders:
        batch = "-" if order.batch_id is None else str(order.batch_id)
        recipe = (
            "no recipe" if order.recipe_id is None else f"{order.recipe_id} v{order.recipe_version}"
        )
        print(
            f"{order.number:<20} {order.status:<18} {order.product_id:<16} lot {order.lot:<20} "
            f"line {order.line_id:<10} batch {batch:<6} {recipe}"
        )
    return 0


def run_show(args: argparse.Namespace) -> int:
    store = open_site_store(load_config(args.config))
    try:
        order = OrderBook(store.engine, audit=store.audit).order(args.number)
    finally:
        store.close()
    _print(order)
    if order.control_recipe is not None:
        print(json.dumps(order.control_recipe.to_dict(), indent=2, ensure_ascii=False))
    return 0


def _print(order: PackagingOrder) -> None:
    expiry = "none" if order.expiry is None else order.expiry.isoformat()
    print(
        f"order {order.number} ({order.source}, {order.status}): {order.quantity} units of "
        f"{order.product_id} lot {order.lot} on {order.line_id}, produced "
        f"{order.production_date.isoformat()}, expiry {expiry}, batch {order.batch_id}"
    )
    if order.recipe_id is None:
        print("  control recipe: none (the product has no recipe)")
    else:
        intact = "intact" if order.control_recipe_intact else "DOES NOT MATCH ITS HASH"
        print(
            f"  control recipe: {order.recipe_id} v{order.recipe_version}, sha256 "
            f"{order.control_recipe_sha256} ({intact})"
        )


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD") from None
