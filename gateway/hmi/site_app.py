"""The HMI of a site's line, composed in one place: the base app and every part installed on
it — the operator's screens, QA's review and release, the engineer's screens."""

from __future__ import annotations

from fastapi import FastAPI

from config.sections import LineConfig
from ebr.orders import OrderBook
from gateway.hmi.app import create_hmi_app
from gateway.hmi.console import LineConsole
from gateway.hmi.engineer import install_engineer
from gateway.hmi.operator_install import install_operator
from gateway.hmi.order_pick import BatchOpener, OrderPicker
from gateway.hmi.qa.install import install_qa
from gateway.hmi.settings import HmiSettings
from gateway.site_store import SiteStore


def site_hmi_app(
    store: SiteStore,
    line: LineConfig,
    console: LineConsole,
    *,
    settings: HmiSettings | None = None,
    open_batch: BatchOpener | None = None,
) -> FastAPI:
    """The HMI of `line` over the console's users (whose sessions its signatures check). With
    `open_batch` (a `LineHost`'s) the operator picks the order the line runs; without it the
    gateway runs its own batch and the order list is only shown."""
    users = console.users
    app = create_hmi_app(users, console, line_name=line.name, settings=settings)
    book = OrderBook(store.engine, audit=store.audit, users=users)
    install_operator(app, orders=OrderPicker(book, store.audit, line.id, open_batch=open_batch))
    install_qa(app, engine=store.engine, audit=store.audit, users=users)
    install_engineer(app, site=store.config, trail=store.audit)
    return app
