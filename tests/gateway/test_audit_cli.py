"""`tracegate audit` and `tracegate users` end to end, on SQLite and PostgreSQL: the exit code
of `verify` is 0 only for an intact trail, for a bundle and for a live database alike."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from ebr.audit.checkpoints import SiteKey
from ebr.audit.trail import AuditTrail
from gateway.cli import main
from tests.ebr.audit.audit_fixtures import behind_the_triggers, fill

ROOT = Path(__file__).resolve().parents[2]


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> SiteKey:
    path = tmp_path / "keys" / "audit.pem"
    assert main(["audit", "create-key", str(path)]) == 0
    out = capsys.readouterr().out
    assert "public key:" in out
    assert oct(path.stat().st_mode)[-3:] == "600"
    assert main(["audit", "create-key", str(path)]) == 1
    assert "never replaced" in capsys.readouterr().err
    return SiteKey.load(path)


def test_export_and_verify(
    engine: Engine, key: SiteKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(AuditTrail(engine, site_key=key, checkpoint_every=4), 10)
    bundle = tmp_path / "evidence.json"
    assert main(["audit", "export-bundle", "--db", _url(engine), "--out", str(bundle)]) == 0
    assert "11 entries, 2 checkpoints" in capsys.readouterr().out
    assert (
        main(["audit", "verify", "--bundle", str(bundle), "--trusted-key", key.public_key_hex]) == 0
    )
    assert "VERIFIED" in capsys.readouterr().out
    assert main(["audit", "verify", "--db", _url(engine), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True

    offline = subprocess.run(
        [sys.executable, "-m", "ebr.audit.verifier", str(bundle)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert offline.returncode == 0, offline.stdout

    with behind_the_triggers(engine) as conn:
        conn.execute(text("UPDATE audit_entries SET reason = 'covered up' WHERE seq = 6"))
    assert main(["audit", "verify", "--db", _url(engine)]) == 1
    assert "FIRST BROKEN ENTRY: #6" in capsys.readouterr().out
    assert main(["audit", "export-bundle", "--db", _url(engine), "--out", str(bundle)]) == 0
    assert main(["audit", "verify", "--bundle", str(bundle)]) == 1
    assert "NOT VERIFIED" in capsys.readouterr().out


def test_verify_refuses_what_is_not_a_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"entries": []}', encoding="utf-8")
    assert main(["audit", "verify", "--bundle", str(bogus)]) == 1
    assert "is not a tracegate-audit-bundle/1 evidence bundle" in capsys.readouterr().err
    assert main(["audit", "verify", "--bundle", str(tmp_path / "absent.json")]) == 1


def test_show_and_csv(
    engine: Engine, key: SiteKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(AuditTrail(engine, site_key=key), 3)
    assert (
        main(["audit", "show", "--db", _url(engine), "--object-type", "batch", "--object-id", "1"])
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1
    assert out[0].startswith("#3 ")
    assert "batch_created batch:1" in out[0]
    target = tmp_path / "trail.csv"
    assert main(["audit", "show", "--db", _url(engine), "--csv", str(target)]) == 0
    assert len(target.read_text(encoding="utf-8").splitlines()) == 5
    with pytest.raises(SystemExit):
        main(["audit", "show", "--db", _url(engine), "--since", "2026-11-22T08:00"])
    assert "no UTC offset" in capsys.readouterr().err


def test_users_bootstrap_and_list(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Very-Secret-Passw0rd\n"))
    args = [
        "users",
        "bootstrap-admin",
        "--db",
        _url(engine),
        "--username",
        "root",
        "--full-name",
        "Ro Ot",
        "--password-stdin",
    ]
    assert main(args) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("Very-Secret-Passw0rd\n"))
    assert main(args) == 1
    assert "already has accounts" in capsys.readouterr().err
    assert main(["users", "list", "--db", _url(engine)]) == 0
    assert "root" in capsys.readouterr().out
