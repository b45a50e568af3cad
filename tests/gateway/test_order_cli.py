"""`tracegate order`: an order made by hand is signed by a supervisor and gets the approved
recipe and a batch; others are refused with what and how to fix, and exit 1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ebr.recipes.models import PackagingOrderRow
from gateway.cli import main
from tests.ebr.trace_fixtures import PASSWORD
from tests.gateway.order_site import OrderSite, order_site


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OrderSite]:
    monkeypatch.setenv("TRACEGATE_USER_PASSWORD", PASSWORD)
    made = order_site(tmp_path)
    made.approve_recipe()
    yield made
    made.store.close()


def _order(site: OrderSite, *args: str) -> int:
    command, *rest = args
    return main(["order", command, "--config", str(site.path), *rest])


HAND = [
    "--number",
    "HAND-7",
    "--product",
    "amox",
    "--lot",
    "L7",
    "--line",
    "line-1",
    "--quantity",
    "500",
    "--production-date",
    "2026-11-20",
    "--expiry",
    "2028-10-31",
]


def test_a_supervisor_makes_and_signs_an_order_by_hand(
    site: OrderSite, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _order(site, "create", "--user", "sup1", *HAND) == 0
    out = capsys.readouterr().out
    assert "order HAND-7 (manual, ready): 500 units of amox lot L7 on line-1" in out
    assert "control recipe: amox-pack v1" in out
    assert "(intact)" in out
    assert _order(site, "list") == 0
    assert "HAND-7" in capsys.readouterr().out
    assert _order(site, "show", "--number", "HAND-7") == 0
    assert '"lines": [' in capsys.readouterr().out
    (signature,) = site.store.audit.entries(event="e_signature", object_id="HAND-7")
    assert (signature.username, signature.new["meaning"]) == ("sup1", "authored")


def test_refused_orders_say_what_and_how_to_fix_and_write_nothing(
    site: OrderSite, capsys: pytest.CaptureFixture[str]
) -> None:
    for args, message in (
        (["--user", "op1", *HAND], "op1 (operator) cannot make a packaging order by hand"),
        (["--user", "sup1", *HAND[:3], "aspirin", *HAND[4:]], "'aspirin' is not in the site file"),
        (["--user", "sup1", *HAND[:-1], "2026-11-01"], "not after its production_date"),
        (["--user", "sup1", *HAND[:9], "0", *HAND[10:]], "planned_quantity 0 must be between"),
    ):
        assert _order(site, "create", *args) == 1, args
        err = capsys.readouterr().err
        assert message in err, err
        assert "fix:" in err, err
    assert _order(site, "show", "--number", "NOPE") == 1
    assert "unknown packaging order 'NOPE'" in capsys.readouterr().err
    with site.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PackagingOrderRow)).scalar_one() == 0
