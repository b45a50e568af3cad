"""`tracegate trace code|batch`: text for people, JSON as the API answers, errors with fixes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.cli import main
from tests.gateway.trace_site import TraceSite, trace_site


@pytest.fixture
def site(tmp_path: Path) -> Iterator[TraceSite]:
    made = trace_site(tmp_path)
    yield made
    made.store.close()


def test_trace_code_tells_backward_forward_and_history(
    site: TraceSite, capsys: pytest.CaptureFixture[str]
) -> None:
    unit = site.traced.units[0]
    hri = f"(01)09501101530003(17)280131(10)L-1(21){unit[18:]}"
    assert main(["trace", "code", hri, "--config", str(site.path)]) == 0
    out = capsys.readouterr().out
    assert f"code {unit} (unit, Commissioned)" in out
    assert f"batch {site.traced.batch}, lot L-1 (reconciled) on line line-1" in out
    assert "product amox 阿莫西林胶囊 (GTIN 09501101530003, drug id 8612345)" in out
    assert "made 2026-11-01, expires 2028-01-31, by 北京示例制药有限公司" in out
    assert f"packed in case {site.traced.cases[0]} (Commissioned)" in out
    assert f"packed in pallet {site.traced.pallets[0]} (Commissioned)" in out
    assert "shipments: none recorded" in out
    assert "unit.accepted" in out
    assert "Encoded → Commissioned" in out


def test_trace_code_json_and_a_pallet_contents(
    site: TraceSite, capsys: pytest.CaptureFixture[str]
) -> None:
    pallet = site.traced.pallets[0]
    assert main(["trace", "code", pallet, "--config", str(site.path)]) == 0
    assert "contents: 10 codes" in capsys.readouterr().out
    assert main(["trace", "code", pallet, "--config", str(site.path), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert [case["code"] for case in body["children"]] == site.traced.cases[:2]
    assert body["batch"]["product"]["name"] == "阿莫西林胶囊"


def test_trace_batch_lists_every_code(site: TraceSite, capsys: pytest.CaptureFixture[str]) -> None:
    batch = str(site.traced.batch)
    assert main(["trace", "batch", batch, "--config", str(site.path)]) == 0
    out = capsys.readouterr().out
    assert "unit: 10 Commissioned, 1 LabelScrapped, 1 Sampled" in out
    lines = [line for line in out.splitlines() if line.startswith(("unit ", "case ", "pallet "))]
    assert len(lines) == 18
    assert any(site.traced.units[0] in line and site.traced.cases[0] in line for line in lines)
    assert main(["trace", "batch", batch, "--config", str(site.path), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert (body["total"], len(body["codes"])) == (18, 18)
    assert body["shipments"] == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["trace", "code", "(01)09501101530003(21)NEVER"], "was never issued by this site"),
        (["trace", "code", "not-a-code"], "is not a code this site can read"),
        (["trace", "batch", "999"], "unknown batch 999"),
    ],
)
def test_trace_errors_say_what_and_how_to_fix(
    site: TraceSite, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main([*argv, "--config", str(site.path)]) == 1
    err = capsys.readouterr().err
    assert "error: " in err
    assert message in err
    assert "fix: " in err
