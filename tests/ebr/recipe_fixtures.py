"""A site with master data, people of every role and a packaging recipe for `amox`, for the
recipe and order tests."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from sqlalchemy import Engine

from ebr.orders import OrderBook, OrderRequest
from ebr.recipes.master import Recipes
from ebr.recipes.stored import RecipeVersion
from ebr.users import Role, Session
from tests.ebr.audit.audit_users import OWN, Site
from tests.ebr.fixtures_master import install_master_data

AMOX_CONTENT: dict[str, Any] = {
    "levels": [
        {"level": "unit", "coding_rule": "gs1-csprng"},
        {"level": "case", "quantity": 20, "coding_rule": "sscc"},
    ],
    "lines": ["line-1"],
    "clearance_checklist": ["no material of the last batch on the line", "printer emptied"],
    "materials": [
        {
            "id": "LBL-U",
            "name": "unit label",
            "unit": "pcs",
            "issue_per_unit": 1,
            "issue_extra": 50,
            "reconciliation_low_pct": 99,
            "reconciliation_high_pct": "100.5",
        }
    ],
    "parameters": [
        {
            "name": "sealing temperature",
            "tag": "sealer.temp",
            "unit": "°C",
            "low": 180,
            "high": 200.5,
        }
    ],
    "checks": [{"name": "seal integrity", "interval_minutes": 30}],
    "yield_limits": {"low_pct": 98, "high_pct": 100},
    "reconciliation_tolerance": 0,
}


def content(**changes: Any) -> dict[str, Any]:
    made = copy.deepcopy(AMOX_CONTENT)
    made.update(changes)
    return made


class RecipeSite(Site):
    """rita (engineer) writes recipes, quinn (QA) and sam (supervisor) approve, olga
    (operator) only runs lines; all with the password OWN."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        install_master_data(engine)
        for name, role in (
            ("rita", Role.ENGINEER),
            ("quinn", Role.QA),
            ("sam", Role.SUPERVISOR),
            ("olga", Role.OPERATOR),
        ):
            self.add(name, role)
        self._sessions: dict[str, Session] = {}
        self.recipes = Recipes(self.users, self.trail)
        self.book = OrderBook(engine, audit=self.trail, users=self.users)

    def login(self, name: str) -> Session:
        """The person's session, opened on first use (the clock stands still: it never
        expires)."""
        if name not in self._sessions:
            self._sessions[name] = self.users.login(name, OWN)
        return self._sessions[name]

    def draft(self, recipe_id: str = "amox-pack", product: str = "amox") -> RecipeVersion:
        return self.recipes.create(
            self.login("rita"),
            recipe_id=recipe_id,
            product_id=product,
            name="Amoxicillin blister pack",
            content=AMOX_CONTENT,
        )

    def approve(self, recipe_id: str, version: int, approver: str = "quinn") -> RecipeVersion:
        self.recipes.sign_as_author(
            self.login("rita"), recipe_id, version, password=OWN, username="rita"
        )
        _, approved = self.recipes.approve(
            self.login(approver), recipe_id, version, password=OWN, username=approver
        )
        return approved

    def approved_recipe(self) -> RecipeVersion:
        return self.approve(self.draft().recipe_id, 1)


def order(number: str = "PO-1", **changes: Any) -> OrderRequest:
    values: dict[str, Any] = {
        "number": number,
        "product_id": "amox",
        "line_id": "line-1",
        "lot": "L1",
        "quantity": 1000,
        "production_date": date(2026, 11, 20),
        "expiry": date(2028, 11, 30),
    }
    values.update(changes)
    return OrderRequest(**values)
