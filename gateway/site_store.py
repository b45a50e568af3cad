"""The store of one site: its database migrated and holding the site file's master data.

The store carries the site's one audit trail, signing checkpoints with the site key named in
the site file: every command that writes through the store passes `store.audit` to its writers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from config import SiteConfig
from ebr.audit.checkpoints import SiteKey, SiteKeyError
from ebr.audit.trail import AuditTrail
from ebr.catalog import LineSetup, ProductLevelSetup, SiteIdentity, sync_master_data
from ebr.db import make_engine
from ebr.schema import upgrade
from serialization.rules import CodingRule
from serialization.serials import load_master_key


class SiteStoreError(Exception):
    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass
class SiteStore:
    config: SiteConfig
    engine: Engine
    master_key: bytes | None
    audit: AuditTrail

    def close(self) -> None:
        self.engine.dispose()


def open_site_store(config: SiteConfig) -> SiteStore:
    """Migrate the site's database to the current schema and write the site file into it."""
    master_key = read_master_key(config.serial_key_path)
    site_key = read_site_key(config.audit_key_path)
    engine = make_engine(config.database_url)
    upgrade(engine)
    audit = site_audit_trail(config, engine, site_key)
    sync_site(config, engine, audit)
    return SiteStore(config, engine, master_key, audit)


def site_audit_trail(config: SiteConfig, engine: Engine, site_key: SiteKey | None) -> AuditTrail:
    return AuditTrail(
        engine,
        site_key=site_key,
        checkpoint_every=config.audit.checkpoint_every,
        checkpoint_interval=timedelta(minutes=config.audit.checkpoint_minutes),
    )


def read_site_key(path: Path | None) -> SiteKey | None:
    """The audit signing key; None when it is not configured or not created yet (check-config
    warns about that), an error when the file is there but is not a key."""
    if path is None or not path.exists():
        return None
    try:
        return SiteKey.load(path)
    except SiteKeyError as error:
        raise SiteStoreError(error.message, hint=error.hint) from None


def read_master_key(path: Path | None) -> bytes | None:
    if path is None or not path.exists():
        return None
    try:
        return load_master_key(path.read_text(encoding="ascii").strip())
    except (UnicodeDecodeError, ValueError) as error:
        raise SiteStoreError(
            f"{path}: not a serial key ({error})",
            hint=f"create a new one with `tracegate keys create {path}` (it holds 64 hex digits)",
        ) from None


def sync_site(config: SiteConfig, engine: Engine, audit: AuditTrail | None = None) -> None:
    site = config.site
    levels: list[ProductLevelSetup] = []
    rules: dict[str, CodingRule] = {}
    for product in config.products:
        for level, rule, quantity in config.levels_of(product.id):
            levels.append(ProductLevelSetup(product.id, level, rule, quantity))
            rules.setdefault(rule.id, rule)
    sync_master_data(
        engine,
        SiteIdentity(
            id=site.id,
            company_name=site.company_name,
            uscc=site.uscc,
            gs1_company_prefix=site.gs1_company_prefix,
            gln=site.gln,
        ),
        rules.values(),
        config.product_masters().values(),
        levels,
        [LineSetup(line.id, line.name) for line in config.lines],
        audit=audit,
    )
