"""`tracegate run`: what it refuses, with a message a person can act on, before touching a line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from tests.e2e.line_site import OPERATOR, OPERATOR_PASSWORD, demo_site, open_line_site


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, int]:
    site_file = demo_site(tmp_path)
    line_site = open_line_site(site_file)
    line_site.store.close()
    return site_file, line_site.batch_id


def test_an_unknown_batch_is_refused(
    site: tuple[Path, int], capsys: pytest.CaptureFixture[str]
) -> None:
    site_file, _ = site
    argv = ["run", "--config", str(site_file), "--batch", "999", "--operator", OPERATOR]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "error: unknown batch 999" in err
    assert "fix:" in err


def test_a_wrong_password_is_refused(
    site: tuple[Path, int], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    site_file, batch = site
    monkeypatch.setenv("TRACEGATE_OPERATOR_PASSWORD", OPERATOR_PASSWORD + "x")
    argv = ["run", "--config", str(site_file), "--batch", str(batch), "--operator", OPERATOR]
    assert main(argv) == 1
    assert f"operator {OPERATOR!r} cannot log in" in capsys.readouterr().err


def test_an_unreachable_line_is_a_clear_error(
    site: tuple[Path, int], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    site_file, batch = site
    monkeypatch.setenv("TRACEGATE_OPERATOR_PASSWORD", OPERATOR_PASSWORD)
    argv = [
        "run", "--config", str(site_file), "--batch", str(batch), "--operator", OPERATOR, "--yes",
    ]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err
    told = [line for line in err.splitlines() if not line.startswith("{")]
    assert told[0].startswith("error: "), err
    assert "Traceback" not in err
