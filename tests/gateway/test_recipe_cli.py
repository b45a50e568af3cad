"""`tracegate recipe`: drafted, signed by its author and approved by someone else from the
command line; refusals print what and how to fix, and exit 1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.cli import main
from tests.ebr.trace_fixtures import PASSWORD
from tests.gateway.order_site import AMOX_RECIPE, OrderSite, order_site


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OrderSite]:
    monkeypatch.setenv("TRACEGATE_USER_PASSWORD", PASSWORD)
    made = order_site(tmp_path)
    yield made
    made.store.close()


def _recipe(site: OrderSite, *args: str) -> int:
    command, *rest = args
    return main(["recipe", command, "--config", str(site.path), *rest])


def test_a_recipe_from_draft_to_approval_and_its_next_version(
    site: OrderSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = site.write_recipe(tmp_path)
    ids = ["--recipe", "amox-pack"]
    assert (
        _recipe(
            site,
            "create",
            "--user",
            "sup1",
            *ids,
            "--product",
            "amox",
            "--name",
            "Amoxicillin",
            "--content",
            str(content),
        )
        == 0
    )
    assert "recipe amox-pack v1 (draft) for product amox" in capsys.readouterr().out
    assert _recipe(site, "sign", "--user", "sup1", *ids, "--version", "1") == 0
    assert _recipe(site, "approve", "--user", "sup1", *ids, "--version", "1") == 1
    err = capsys.readouterr().err
    assert "sup1 wrote recipe 'amox-pack' version 1 and cannot also approve it" in err
    assert "fix: two-person rule" in err
    assert _recipe(site, "approve", "--user", "qa1", *ids, "--version", "1") == 0
    assert "v1 (approved)" in capsys.readouterr().out

    changed = tmp_path / "v2.json"
    changed.write_text(json.dumps({**AMOX_RECIPE, "reconciliation_tolerance": 1}))
    assert (
        _recipe(
            site,
            "edit",
            "--user",
            "sup1",
            *ids,
            "--content",
            str(changed),
            "--reason",
            "one unit of tolerance",
        )
        == 0
    )
    assert _recipe(site, "list") == 0
    out = capsys.readouterr().out
    assert "amox-pack v2 (draft)" in out
    assert "latest v2 (draft), approved v1" in out
    assert _recipe(site, "show", *ids, "--version", "1") == 0
    out = capsys.readouterr().out
    assert "signed: Sam Supervisor (sup1), authored" in out
    assert "signed: 秦质量 (qa1), approved" in out
    assert '"reconciliation_tolerance": 0' in out


def test_refusals_say_what_and_how_to_fix(
    site: OrderSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**AMOX_RECIPE, "lines": ["line-9"]}))
    create = ["create", "--user", "sup1", "--recipe", "r", "--product", "amox", "--name", "r"]
    for args, message in (
        ([*create, "--content", str(tmp_path / "none.json")], "none.json: no such file"),
        ([*create, "--content", str(broken)], "broken.json: not JSON"),
        ([*create, "--content", str(bad)], "recipe lines[0] 'line-9' is not a line of this site"),
        (
            [
                "create",
                "--user",
                "op1",
                "--recipe",
                "r",
                "--product",
                "amox",
                "--name",
                "r",
                "--content",
                str(site.write_recipe(tmp_path)),
            ],
            "op1 (operator) cannot write recipes",
        ),
        (["show", "--recipe", "nope"], "unknown recipe 'nope'"),
    ):
        assert _recipe(site, *args) == 1, args
        err = capsys.readouterr().err
        assert message in err, err
        assert "fix:" in err, err
