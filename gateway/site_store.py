"""The store of one site: its database migrated and holding the site file's master data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from config import SiteConfig
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

    def close(self) -> None:
        self.engine.dispose()


def open_site_store(config: SiteConfig) -> SiteStore:
    """Migrate the site's database to the current schema and write the site file into it."""
    engine = make_engine(config.database_url)
    upgrade(engine)
    sync_site(config, engine)
    return SiteStore(config, engine, read_master_key(config.serial_key_path))


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


def sync_site(config: SiteConfig, engine: Engine) -> None:
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
    )
