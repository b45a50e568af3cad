"""A site with rows in every table of the executed record, the recipes and orders, and the
decoction pieces, written through their public APIs, for the backup tests. `before` fills them;
`after` settles what was open (an exception acknowledged, a deviation closed, a check done, a
recipe version approved, an order signed) and adds rows to each table."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from ebr.audit.actor import Actor
from ebr.catalog import create_batch
from ebr.decoction.models import APPEND_ONLY_TABLES as DECOCTION_TABLES
from ebr.decoction.record_types import RecordType
from ebr.decoction.records import DecoctionRecords
from ebr.execution import ExceptionKind, Source, Step
from ebr.execution.models import APPEND_ONLY_TABLES as EXECUTION_APPEND_ONLY
from ebr.execution.models import SETTLING_COLUMNS, ExceptionRow
from ebr.orders import OrderBook
from ebr.recipes.master import Recipes
from ebr.recipes.models import APPEND_ONLY_TABLES as RECIPE_APPEND_ONLY
from ebr.recipes.models import CHANGING_COLUMNS
from ebr.users import AuthenticationError, Role
from tests.ebr.audit.audit_users import OWN
from tests.ebr.decoction import decoction_fixtures as given
from tests.ebr.execution.execution_fixtures import ExecutionSite
from tests.ebr.recipe_fixtures import AMOX_CONTENT, content, order

EBR_TABLES = (
    *EXECUTION_APPEND_ONLY,
    *SETTLING_COLUMNS,
    *RECIPE_APPEND_ONLY,
    *CHANGING_COLUMNS,
    *DECOCTION_TABLES,
)
"""The tables of migrations 0008-0010."""
RECIPE = "amox-pack"
MES = Actor(username="mes")


class EbrRecordsSite(ExecutionSite):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.add("erin", Role.ENGINEER)
        self.erin = self.users.login("erin", OWN)
        self.recipes = Recipes(self.users, self.trail)
        self.book = OrderBook(engine, audit=self.trail, users=self.users)
        self.decoction = DecoctionRecords(engine, self.trail)
        self.pieces = create_batch(
            engine,
            product_id="amox",
            line_id="line-1",
            lot=given.LOT,
            expiry=given.MADE + timedelta(days=700),
            production_date=given.MADE,
        )
        self.deviation = 0
        self.out_of_limit = 0

    def before(self) -> None:
        self._recipe_and_orders()
        self._executed_record()
        self._decoction_record()

    def after(self) -> None:
        quinn, olga = self.session("quinn"), self.session("olga")
        self.record.acknowledge(self.out_of_limit, quinn, "sealer recalibrated, see QMS-9")
        self.record.close_deviation(self.deviation, quinn, OWN, "retest passed", username="quinn")
        self.record.record_check(self.batch, "seal integrity", "pass", by=olga)
        self.record.complete_step(self.batch, Step.COUNTS, olga)
        self.recipes.approve(self.session("quinn"), RECIPE, 2, password=OWN, username="quinn")
        self.book.create_by_hand(
            order("HAND-1", lot="L2"), self.session("sam"), password=OWN, username="sam"
        )
        (sale,) = self.decoction.records(self.pieces, RecordType.SALE)
        self.decoction.correct(
            olga, RecordType.SALE, sale.id, {**given.SALE, "quantity": "100 kg"}, reason="recount"
        )
        self.decoction.attach(
            olga, self.pieces, "raw_herb_inspection_report", "b.pdf", given.pdf(9)
        )

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
                for table in EBR_TABLES
            }

    def exception_rows(self) -> list[dict[str, Any]]:
        """The exceptions as an incremental carries them."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(ExceptionRow.__table__).order_by(ExceptionRow.id))
            return [
                {
                    name: value.isoformat() if isinstance(value, datetime) else value
                    for name, value in row.items()
                }
                for row in rows.mappings()
            ]

    def _recipe_and_orders(self) -> None:
        self.recipes.create(
            self.erin, recipe_id=RECIPE, product_id="amox", name="Amox pack", content=AMOX_CONTENT
        )
        for version in (1, 2):
            self.recipes.sign_as_author(self.erin, RECIPE, version, password=OWN, username="erin")
            if version == 1:
                self.recipes.approve(
                    self.session("quinn"), RECIPE, 1, password=OWN, username="quinn"
                )
                self.recipes.edit(
                    self.erin, RECIPE, content(reconciliation_tolerance=2), reason="tolerance"
                )
        self.book.download(order("PO-1", lot="L1"), MES)
        with pytest.raises(AuthenticationError):
            self.book.create_by_hand(
                order("HAND-1", lot="L2"), self.session("sam"), password="not-it-1", username="sam"
            )

    def _executed_record(self) -> None:
        olga = self.session("olga")
        self.complete_through(Step.PRODUCTION)
        now = self.clock.now
        for due in (now, now + timedelta(hours=1)):
            self.record.schedule_check(self.batch, "seal integrity", due)
        self.record.record(
            self.batch,
            "parameters",
            "sealing temperature",
            "205",
            low=180,
            high="200.5",
            unit="°C",
            source=Source.TAG,
            by=Actor(username="gateway"),
        )
        (self.deviation,) = [d.id for d in self.record.deviations(self.batch)]
        self.record.open_deviation(
            self.batch,
            "minor",
            "carton stock from an unreleased lot",
            "the line took 40 cartons from lot C-7 before its release",
            "found at the material check",
            "QMS-8",
            by=olga,
        )
        kinds = {e.kind: e.id for e in self.record.exceptions(self.batch)}
        self.out_of_limit = kinds[ExceptionKind.OUT_OF_LIMIT]
        self.record.acknowledge(kinds[ExceptionKind.DEVIATION], self.session("quinn"), "seen")
        self.record.record(
            self.batch, "parameters", "line speed", 120, source=Source.MANUAL, by=olga
        )

    def _decoction_record(self) -> None:
        olga, quinn = self.session("olga"), self.session("quinn")
        add = self.decoction.add
        add(olga, self.pieces, RecordType.PRODUCTION, given.PRODUCTION)
        self.decoction.add_many(
            olga, self.pieces, RecordType.HERB_SOURCE, [given.SELF_GROWN, given.PURCHASED]
        )
        add(olga, self.pieces, RecordType.PROCESS_STEP, given.STEP)
        add(quinn, self.pieces, RecordType.INSPECTION, given.INSPECTION)
        add(olga, self.pieces, RecordType.SALE, given.SALE)
        add(quinn, self.pieces, RecordType.RECALL, given.RECALL)
        self.decoction.attach(olga, self.pieces, "product_inspection_report", "a.pdf", given.pdf())
