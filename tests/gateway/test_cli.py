from __future__ import annotations

import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from ebr.db import make_engine
from ebr.models import Code
from gateway.cli import main
from serialization.gs1 import parse
from serialization.states import CodeState

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "examples"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site_file = tmp_path / "site.yaml"
    shutil.copyfile(EXAMPLES / "demo.yaml", site_file)
    assert main(["keys", "create", str(tmp_path / "keys" / "serial.key")]) == 0
    return site_file


def _codes_in_store(site: Path) -> dict[str, int]:
    engine = make_engine(f"sqlite:///{site.parent}/tracegate.db")
    with engine.connect() as conn:
        found = dict(conn.execute(select(Code.key, Code.state)).all())
    engine.dispose()
    return found


def test_check_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(EXAMPLES / "demo.yaml")]) == 0
    assert "valid" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    text = (EXAMPLES / "demo.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace('"09501101530003"', '"09501101530004"'), encoding="utf-8")
    assert main(["check-config", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "products[0].gtin: check digit should be 3" in out
    assert "1 error(s)" in out


def test_keys_are_private_and_never_overwritten(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = site.parent / "keys" / "serial.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    before = key.read_text()
    assert main(["keys", "create", str(key)]) == 1
    assert "never replaced in place" in capsys.readouterr().err
    assert key.read_text() == before


def test_generate_raw_codes_are_durable_before_printing(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["codes", "generate", "--config", str(site), "--product", "amox-250-24"]
    assert main([*argv, "--count", "5"]) == 0
    lines = capsys.readouterr().out.split("\n")[:-1]
    assert len(lines) == 5
    stored = _codes_in_store(site)
    for line in lines:
        assert "\x1d" in line
        message = parse(line)
        key = "01" + (message.value("01") or "") + "21" + (message.value("21") or "")
        assert stored[key] == CodeState.ALLOCATED
    for fmt, start in (
        ("hri", "(01)09501101530003(17)"),
        ("dl", "https://id.gs1.org/01/"),
        ("epc", "urn:epc:id:sgtin:9501101.053000."),
    ):
        assert main([*argv, "--count", "2", "--format", fmt]) == 0
        assert all(x.startswith(start) for x in capsys.readouterr().out.splitlines())
    assert main([*argv, "--count", "1", "--level", "case", "--format", "epc"]) == 0
    assert capsys.readouterr().out.startswith("urn:epc:id:sscc:9501101.3")


def test_generate_refuses_before_allocating(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["codes", "generate", "--config", str(site), "--count", "3"]
    assert main([*argv, "--product", "blg-granules-10g", "--format", "epc"]) == 1
    assert "national codes have no epc form" in capsys.readouterr().err
    assert main([*argv, "--product", "ghost"]) == 1
    err = capsys.readouterr().err
    assert "product 'ghost' is not configured" in err
    assert "fix:" in err
    assert main([*argv, "--product", "ibu-300-20"]) == 1
    assert "has 0 unused imported serials or codes" in capsys.readouterr().err
    assert not (site.parent / "tracegate.db").exists() or not _codes_in_store(site)


def test_parse(capsys: pytest.CaptureFixture[str]) -> None:
    code = "]d20109501101530003172705001" + "0AB-123<GS>217Q2XK9PZ4M"
    assert main(["codes", "parse", code]) == 0
    out = capsys.readouterr().out
    assert "identity  0109501101530003217Q2XK9PZ4M" in out
    assert "2027-05-31 (day 00: the last day of the month)" in out
    assert main(["codes", "parse", "0109501101530004"]) == 1
    out = capsys.readouterr().out
    assert "check digit should be 3, not 4" in out


def test_import(site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "codes.csv"
    bad.write_text("product,code\nibu-300-20,81234560000000011234\nibu-300-20,8123456\n")
    assert main(["codes", "import", str(bad), "--config", str(site)]) == 1
    err = capsys.readouterr().err
    assert "line 3:" in err
    assert "nothing was imported" in err
    assert not _codes_in_store(site)
    good = tmp_path / "good.csv"
    good.write_text("product,code\nibu-300-20,81234560000000011234\n")
    assert main(["codes", "import", str(good), "--config", str(site)]) == 0
    assert "imported 1 code(s) for ibu-300-20" in capsys.readouterr().out
    argv = ["codes", "generate", "--config", str(site), "--product", "ibu-300-20", "--count", "1"]
    assert main(argv) == 0
    assert capsys.readouterr().out == "81234560000000011234\n"


def test_demo_runs_twice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for _ in range(2):
        assert main(["demo", "--dir", str(tmp_path / "demo"), "--count", "2", "--codes-only"]) == 0
    out = capsys.readouterr().out
    for scheme in ("gs1", "sscc", "nmpa20", "national", "template"):
        assert f", {scheme}):" in out
    assert "Allocated" in out


def test_console_script_is_installed() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "tracegate"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "check-config" in result.stdout


def test_a_configured_national_format_is_used_to_make_and_read_codes(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = site.read_text(encoding="utf-8").replace(
        "    attribute_id: 2\n", '    attribute_id: 2\n    format:\n      delimiter: "/"\n'
    )
    site.write_text(text, encoding="utf-8")
    argv = ["codes", "generate", "--config", str(site), "--product", "blg-granules-10g"]
    assert main([*argv, "--count", "1"]) == 0
    code = capsys.readouterr().out.strip()
    assert code.startswith("91110105MA01TG8P53/27010101/110105/2/")
    assert main(["codes", "parse", code, "--config", str(site)]) == 0
    assert "Reading 1: national — valid" in capsys.readouterr().out
