"""A demo site on free ports with an operator, for the whole-line tests (not a test module)."""

from __future__ import annotations

import contextlib
import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from config import SiteConfig, load_site
from ebr.audit.actor import Actor
from ebr.audit.checkpoints import create_site_key
from ebr.catalog import create_batch
from ebr.users import PermissionDeniedError, Users
from gateway.commands.keys import write_new_key
from gateway.site_store import SiteStore, open_site_store

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "examples"
DEMO_PORTS = ("48400", "49100", "42200", "45020", "49200")
PRODUCT = "amox-250-24"
OPERATOR = "op.zhang"
OPERATOR_PASSWORD = "Line-clearance-2026"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_site(folder: Path, *, database_url: str | None = None, **runtime: object) -> Path:
    """The shipped demo site file with every device on a free port; `runtime` overrides
    lines[0].runtime settings."""
    text = (EXAMPLES / "demo.yaml").read_text(encoding="utf-8")
    for port in DEMO_PORTS:
        text = re.sub(rf"(?<=[: ]){port}\b", str(free_port()), text)
    for key, value in runtime.items():
        text, found = re.subn(rf"(?m)^(      {key}:) .*$", rf"\g<1> {value}", text)
        if not found:
            text = text.replace("    runtime:\n", f"    runtime:\n      {key}: {value}\n", 1)
    if database_url is not None:
        text += f"\ndatabase:\n  url: {database_url}\n"
    site = folder / "site.yaml"
    site.write_text(text, encoding="utf-8")
    (folder / "keys").mkdir(exist_ok=True)
    write_new_key(folder / "keys" / "serial.key")
    create_site_key(folder / "keys" / "audit.key")
    return site


@dataclass
class LineSite:
    config: SiteConfig
    store: SiteStore
    batch_id: int
    operator: Actor


def open_line_site(site_file: Path, *, lot: str | None = None) -> LineSite:
    config = load_site(site_file)
    store = open_site_store(config)
    users = Users(store.audit)
    with contextlib.suppress(PermissionDeniedError):
        users.bootstrap_administrator(OPERATOR, "张工 Zhang", OPERATOR_PASSWORD)
    session = users.login(OPERATOR, OPERATOR_PASSWORD)
    today = datetime.now(UTC).date()
    batch_id = create_batch(
        store.engine,
        product_id=PRODUCT,
        line_id=config.lines[0].id,
        lot=lot or "E2E" + datetime.now(UTC).strftime("%H%M%S"),
        expiry=config.expiry_for(PRODUCT, today),
        production_date=today,
        audit=store.audit,
    )
    return LineSite(config, store, batch_id, Actor(session.user_id, session.username))
