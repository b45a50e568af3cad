"""A site file whose store holds the traced batches of `tests/ebr/trace_fixtures.py` and its
users, for the API and command-line tests of trace, recall and the platform export."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from config import SiteConfig, load_site
from ebr.users import Users
from gateway.site_store import SiteStore, open_site_store
from tests.ebr.trace_fixtures import TracedBatch, site_users, traced_batch

SITE = """\
site:
  id: plant-1
  company_name: 北京示例制药有限公司
  uscc: 91110105MA01TG8P53
  gs1_company_prefix: "9501101"
  gln: "9501101000001"
  timezone: Asia/Shanghai

database:
  url: sqlite:///{db}

coding_rules:
  - id: unit
    scheme: gs1
    ais: ["01", "17", "10", "21"]
    serial:
      generator: csprng
      alphabet: safe-alphanumeric
      length: 12
      planned_volume: 10_000_000
  - id: sscc
    scheme: sscc
    extension: 3
    serial:
      generator: csprng
      planned_volume: 1_000_000

products:
  - id: amox
    name: 阿莫西林胶囊
    gtin: "09501101530003"
    nmpa_drug_id: "8612345"
    expiry:
      months: 24
    levels:
      - level: unit
        coding_rule: unit
      - level: case
        coding_rule: sscc
        quantity: 4
      - level: pallet
        coding_rule: sscc
        quantity: 2

lines:
  - id: line-1
    name: Line 1
    products: [amox]
"""


@dataclass
class TraceSite:
    path: Path
    config: SiteConfig
    store: SiteStore
    users: Users
    traced: TracedBatch


def trace_site(folder: Path) -> TraceSite:
    """The site, its store open (close it), the batches and the users qa1, sup1, op1."""
    path = folder / "site.yaml"
    path.write_text(SITE.format(db=folder / "site.db"), encoding="utf-8")
    config = load_site(path)
    store = open_site_store(config)
    traced = traced_batch(store.engine, master_data=False)
    return TraceSite(path, config, store, site_users(store.audit), traced)
