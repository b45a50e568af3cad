"""`tracegate platform export`: a validated relation file, never an overwrite, errors with fixes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.platform_exchange.relations import relation_problems
from tests.gateway.trace_site import TraceSite, trace_site


@pytest.fixture
def site(tmp_path: Path) -> Iterator[TraceSite]:
    made = trace_site(tmp_path)
    yield made
    made.store.close()


def _export(site: TraceSite, batch: int, out: Path, *extra: str) -> int:
    argv = ["platform", "export", "--config", str(site.path), "--batch", str(batch)]
    return main([*argv, "--out", str(out), *extra])


def test_export_writes_a_valid_relation_file(
    site: TraceSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "relations.xml"
    assert _export(site, site.traced.batch, out, "--enterprise-code", "CN-0001") == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}: 14 codes of batch {site.traced.batch}" in printed
    assert "packLayer 1 = unit, 2 = case, 3 = pallet" in printed
    data = out.read_bytes()
    assert relation_problems(data) == []
    assert b'manCode="CN-0001"' in data
    assert "createTime" in data.decode()


def test_export_refuses_and_writes_nothing(
    site: TraceSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "relations.xml"
    out.write_text("keep me")
    for batch, target, message in (
        (site.traced.batch, out, "exists already"),
        (site.traced.batch, tmp_path / "no" / "x.xml", "does not exist"),
        (site.traced.other_batch, tmp_path / "running.xml", "is running"),
        (999, tmp_path / "unknown.xml", "unknown batch 999"),
    ):
        assert _export(site, batch, target) == 1
        err = capsys.readouterr().err
        assert message in err
        assert "fix: " in err
    assert out.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".xml") == ["relations.xml"]
