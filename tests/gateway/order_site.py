"""A site file and its store with users (qa1, sup1, op1 and the enterprise's engineer account
`mes`) and, on request, an approved recipe for `amox`: for the API and command-line tests of
recipes and orders."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config import SiteConfig, load_site
from ebr.recipes.master import Recipes
from ebr.users import Role, Users
from gateway.site_store import SiteStore, open_site_store
from tests.ebr.trace_fixtures import ADMIN_PASSWORD, PASSWORD, site_users
from tests.gateway.trace_site import SITE

AMOX_RECIPE: dict[str, Any] = {
    "levels": [
        {"level": "unit", "coding_rule": "unit"},
        {"level": "case", "quantity": 4, "coding_rule": "sscc"},
        {"level": "pallet", "quantity": 2, "coding_rule": "sscc"},
    ],
    "lines": ["line-1"],
    "clearance_checklist": ["no material of the last batch on the line"],
    "materials": [
        {
            "id": "LBL-U",
            "name": "unit label",
            "unit": "pcs",
            "issue_per_unit": 1,
            "reconciliation_low_pct": 99,
            "reconciliation_high_pct": 100,
        }
    ],
    "parameters": [{"name": "sealing temperature", "tag": "sealer.temp", "unit": "°C", "low": 180}],
    "checks": [{"name": "seal integrity", "interval_minutes": 30}],
    "yield_limits": {"low_pct": "98.5", "high_pct": 100},
    "reconciliation_tolerance": 0,
}


@dataclass
class OrderSite:
    path: Path
    config: SiteConfig
    store: SiteStore
    users: Users

    def recipes(self) -> Recipes:
        return Recipes(self.users, self.store.audit)

    def approve_recipe(self, content: dict[str, Any] | None = None) -> None:
        """Recipe `amox-pack`, drafted and signed by sup1, approved by qa1."""
        recipes = self.recipes()
        sup = self.users.login("sup1", PASSWORD)
        recipes.create(
            sup,
            recipe_id="amox-pack",
            product_id="amox",
            name="Amoxicillin",
            content=content or AMOX_RECIPE,
        )
        recipes.sign_as_author(sup, "amox-pack", 1, password=PASSWORD, username="sup1")
        qa = self.users.login("qa1", PASSWORD)
        recipes.approve(qa, "amox-pack", 1, password=PASSWORD, username="qa1")
        self.users.logout(sup)
        self.users.logout(qa)

    def write_recipe(self, folder: Path, content: dict[str, Any] | None = None) -> Path:
        path = folder / "recipe.json"
        path.write_text(json.dumps(content or AMOX_RECIPE), encoding="utf-8")
        return path


def order_site(folder: Path) -> OrderSite:
    """The site, its store open (close it)."""
    path = folder / "site.yaml"
    path.write_text(SITE.format(db=folder / "site.db"), encoding="utf-8")
    config = load_site(path)
    store = open_site_store(config)
    users = site_users(store.audit)
    admin = users.login("admin", ADMIN_PASSWORD)
    users.create(
        admin, username="mes", full_name="MES", role=Role.ENGINEER, password=PASSWORD + "0"
    )
    users.change_password("mes", PASSWORD + "0", PASSWORD)
    users.logout(admin)
    return OrderSite(path, config, store, users)
