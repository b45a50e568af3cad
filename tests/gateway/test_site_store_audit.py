"""The site store's one audit trail signs checkpoints with the site key named in the site file,
so commands writing through the store leave a trail an auditor verifies with the public key
alone; on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from config import load_site
from ebr.audit.bundle import verify_database
from ebr.audit.checkpoints import SiteKey, create_site_key
from ebr.audit.models import AuditCheckpoint
from ebr.audit.trail import AuditError
from gateway.cli import main
from gateway.site_store import open_site_store

SITE = """\
site:
  id: audit-site
  company_name: 审计示例制药有限公司
  uscc: 91110105MA01TG8P53
  gs1_company_prefix: "9501101"
  timezone: Asia/Shanghai
  audit_key_file: keys/audit.pem

database:
  url: {url}

coding_rules:
  - id: unit
    scheme: gs1
    ais: ["01", "21"]
    serial:
      generator: csprng
      alphabet: digits
      length: 12
      planned_volume: 10_000_000

products:
  - id: product-1
    name: 阿莫西林胶囊
    gtin: "09501101530003"
    levels:
      - level: unit
        coding_rule: unit

lines:
  - id: line-1
    name: 1号包装线
    products: [product-1]
"""


def write_site(directory: Path, db_url: str, extra: str = "") -> Path:
    """A site file in `directory` on `db_url`; `extra` is appended (more sections)."""
    path = directory / "site.yaml"
    path.write_text(SITE.format(url=db_url) + extra, encoding="utf-8")
    return path


def test_commands_sign_checkpoints_with_the_site_key(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = create_site_key(tmp_path / "keys" / "audit.pem")
    site = write_site(tmp_path, db_url, "\naudit:\n  checkpoint_every: 3\n")
    args = ["codes", "generate", "--config", str(site), "--product", "product-1", "--count", "4"]
    assert main(args) == 0
    capsys.readouterr()

    store = open_site_store(load_site(site))
    try:
        assert store.audit.unsigned_entries() < 3
        with store.engine.connect() as conn:
            key_ids = set(conn.scalars(select(AuditCheckpoint.key_id)))
        assert key_ids == {key.key_id}
        report = verify_database(store.engine, trusted_keys=[key.public_key_hex])
        assert report.ok, report.lines()
        assert report.checkpoints >= 2
        store.audit.checkpoint()
        assert store.audit.unsigned_entries() == 0
    finally:
        store.close()


def test_without_the_key_file_the_trail_still_records_unsigned(db_url: str, tmp_path: Path) -> None:
    store = open_site_store(load_site(write_site(tmp_path, db_url)))
    try:
        assert store.audit.unsigned_entries() > 0
        with pytest.raises(AuditError, match="no site signing key"):
            store.audit.checkpoint()
    finally:
        store.close()


def test_a_file_that_is_not_a_key_stops_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "audit.pem").write_text("not a key", encoding="utf-8")
    site = write_site(tmp_path, f"sqlite:///{tmp_path}/t.db")
    args = ["codes", "generate", "--config", str(site), "--product", "product-1", "--count", "1"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "not an unencrypted PEM private key" in err
    assert "tracegate audit create-key" in err


def test_users_command_signs_with_the_site_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = create_site_key(tmp_path / "keys" / "audit.pem")
    site = write_site(tmp_path, f"sqlite:///{tmp_path}/t.db", "\naudit:\n  checkpoint_every: 1\n")
    assert main(["db", "upgrade", "--config", str(site)]) == 0
    boot = ["users", "bootstrap-admin", "--config", str(site), "--username", "admin"]
    boot += ["--full-name", "管理员", "--password-stdin"]
    monkeypatch.setattr("sys.stdin", io.StringIO("Correct-horse-battery-9\n"))
    assert main(boot) == 0, capsys.readouterr().err
    store = open_site_store(load_site(site))
    try:
        assert store.audit.unsigned_entries() == 0
        assert verify_database(store.engine, trusted_keys=[key.public_key_hex]).ok
        assert SiteKey.load(tmp_path / "keys" / "audit.pem").key_id == key.key_id
    finally:
        store.close()
