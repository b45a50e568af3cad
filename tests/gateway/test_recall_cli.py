"""`tracegate recall`: a batch or a file of codes, by a named user whose password comes from
TRACEGATE_USER_PASSWORD; refusals write nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ebr.models import JournalEventRow
from ebr.trace import trace_code
from gateway.cli import main
from tests.ebr.trace_fixtures import PASSWORD
from tests.gateway.trace_site import TraceSite, trace_site


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TraceSite]:
    monkeypatch.setenv("TRACEGATE_USER_PASSWORD", PASSWORD)
    made = trace_site(tmp_path)
    yield made
    made.store.close()


def _events(site: TraceSite) -> int:
    with site.store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(JournalEventRow)).scalar_one())


def _recall(site: TraceSite, *args: str) -> int:
    return main(["recall", "--config", str(site.path), "--reason", "stability", *args])


def test_a_batch_recall(site: TraceSite, capsys: pytest.CaptureFixture[str]) -> None:
    assert _recall(site, "--batch", str(site.traced.batch), "--user", "qa1") == 0
    out = capsys.readouterr().out
    assert f"recalled 14 codes of batch {site.traced.batch}" in out
    assert (
        "left as they are (no product on the market): 1 LabelScrapped, 2 SNInvalid, 1 Sampled"
        in out
    )
    trace = trace_code(site.store.engine, site.traced.units[3])
    assert trace is not None
    assert trace.recall is not None
    assert (trace.state, trace.recall.user) == ("Inactive", "qa1")
    assert _recall(site, "--batch", str(site.traced.batch), "--user", "sup1") == 0
    assert "nothing new to recall" in capsys.readouterr().out


def test_a_file_of_codes(
    site: TraceSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    codes = tmp_path / "codes.txt"
    case = site.traced.cases[1]
    codes.write_text(f"# damaged pallet side\n({case[:2]}){case[2:]}\n\n{site.traced.units[10]}\n")
    assert _recall(site, "--codes", str(codes), "--user", "sup1") == 0
    assert "recalled 6 codes" in capsys.readouterr().out


def test_refusals_write_nothing(
    site: TraceSite,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = _events(site)
    batch = str(site.traced.batch)
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{site.traced.units[0]}\nnot-a-code\n(01)09501101530003(21)NEVER\n")
    for args, message in (
        (["--batch", batch, "--user", "op1"], "only QA or a supervisor"),
        (["--batch", str(site.traced.other_batch), "--user", "qa1"], "is running"),
        (["--codes", str(bad), "--user", "qa1"], "bad.txt line 2: 'not-a-code' is not a code"),
        (["--codes", str(tmp_path / "missing.txt"), "--user", "qa1"], "no such file"),
    ):
        assert _recall(site, *args) == 1, args
        err = capsys.readouterr().err
        assert message in err, err
        assert "fix: " in err
    assert "line 3: gs1 code" in _last_error(site, bad, capsys)
    monkeypatch.setenv("TRACEGATE_USER_PASSWORD", "wrong-password-9")
    assert _recall(site, "--batch", batch, "--user", "qa1") == 1
    assert "'qa1' cannot log in: wrong user name or password" in capsys.readouterr().err
    assert _events(site) == before


def _last_error(site: TraceSite, bad: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert _recall(site, "--codes", str(bad), "--user", "qa1") == 1
    return capsys.readouterr().err
