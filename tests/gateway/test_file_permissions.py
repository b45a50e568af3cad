"""What the gateway creates that holds secrets or records is its owner's alone, whatever the
umask: keys and the SQLite database 0600, the folders of keys 0700."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from config import load_site
from gateway.cli import main
from gateway.site_store import open_site_store
from tests.gateway.test_certs_cli import SECURED, site_file


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_keys_and_their_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    serial = tmp_path / "keys" / "serial.key"
    audit = tmp_path / "audit-keys" / "audit.key"
    assert main(["keys", "create", str(serial)]) == 0
    assert main(["audit", "create-key", str(audit)]) == 0
    site = site_file(tmp_path, SECURED.format(port=4842))
    assert main(["certs", "create", "--config", str(site)]) == 0
    capsys.readouterr()
    pki = tmp_path / "pki"
    for secret in (serial, audit, pki / "server.key.pem"):
        assert mode(secret) == 0o600, secret
        assert mode(secret.parent) == 0o700, secret.parent
    assert mode(pki / "server.der") == 0o644


def test_the_sqlite_database_and_its_wal(tmp_path: Path) -> None:
    site = site_file(tmp_path, "")
    store = open_site_store(load_site(site))
    try:
        database = Path(store.engine.url.database or "")
        with store.engine.begin() as conn:
            conn.execute(text("SELECT count(*) FROM alembic_version"))
            for companion in (Path(f"{database}-wal"), Path(f"{database}-shm")):
                assert mode(companion) == 0o600, companion
        assert mode(database) == 0o600
    finally:
        store.close()
