"""`tracegate certs …` and `tracegate opcua serve` on a site file."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from asyncua import Client, ua
from cryptography import x509

from config import load_site
from ebr.audit.trail import AuditTrail
from ebr.db import make_engine
from ebr.schema import upgrade
from ebr.users import Role, Users
from gateway.cli import main
from gateway.opcua_server.certificates import thumbprint
from simulators.line_plc.certs import make_self_signed
from simulators.ports import free_port

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "examples"
ROOT = Path(__file__).resolve().parents[2]


def site_file(tmp_path: Path, section: str) -> Path:
    text = (EXAMPLES / "demo.yaml").read_text(encoding="utf-8")
    head = text[: text.index("\nopcua_server:")]
    site = tmp_path / "site.yaml"
    site.write_text(head + "\n" + section, encoding="utf-8")
    return site


SECURED = "opcua_server:\n  endpoint: opc.tcp://127.0.0.1:{port}\n"


def test_create_list_trust_and_reject(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = site_file(tmp_path, SECURED.format(port=4841))
    assert main(["certs", "create", "--config", str(site)]) == 0
    created = capsys.readouterr().out
    server_cert = tmp_path / "pki" / "server.der"
    key = tmp_path / "pki" / "server.key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    certificate = x509.load_der_x509_certificate(server_cert.read_bytes())
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "urn:tracegate:demo-bj-1:opcua-server" in san.get_values_for_type(
        x509.UniformResourceIdentifier
    )
    assert thumbprint(certificate) in created

    assert main(["certs", "create", "--config", str(site)]) == 1
    assert "exists already" in capsys.readouterr().err

    client = make_self_signed(tmp_path / "mes", "mes", application_uri="urn:test:mes")
    rejected = tmp_path / "pki" / "rejected"
    rejected.mkdir(parents=True)
    shutil.copyfile(client.certificate, rejected / "mes.der")
    client_print = thumbprint(x509.load_der_x509_certificate(client.certificate.read_bytes()))

    assert main(["certs", "list", "--config", str(site)]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listing] == ["server", "rejected"]
    assert client_print[:16] in listing[1]

    assert main(["certs", "trust", "--config", str(site), "abc"]) == 1
    assert "at least 8 hex digits" in capsys.readouterr().err
    assert main(["certs", "trust", "--config", str(site), client_print[:10]]) == 0
    assert "trusted:" in capsys.readouterr().out
    assert [p.suffix for p in (tmp_path / "pki" / "trusted").iterdir()] == [".der"]
    assert list(rejected.iterdir()) == []

    assert main(["certs", "reject", "--config", str(site), client_print[:12]]) == 0
    assert len(list(rejected.iterdir())) == 1


def test_a_site_without_a_server_says_how_to_add_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = site_file(tmp_path, "")
    assert main(["certs", "list", "--config", str(site)]) == 1
    assert main(["opcua", "serve", "--config", str(site)]) == 1
    err = capsys.readouterr().err
    assert err.count("no opcua_server section") == 2
    assert "fix: add opcua_server:" in err


async def test_opcua_serve_runs_until_sigterm(tmp_path: Path) -> None:
    port = free_port()
    site = site_file(
        tmp_path,
        f"opcua_server:\n  endpoint: opc.tcp://127.0.0.1:{port}\n  security:\n    - policy: None\n",
    )
    engine = make_engine(load_site(site).database_url)
    upgrade(engine)
    users = Users(AuditTrail(engine))
    users.bootstrap_administrator("admin", "Admin", "Boot-first-2026-key")
    admin = users.login("admin", "Boot-first-2026-key")
    users.create(
        admin, username="mes", full_name="MES", role=Role.ENGINEER, password="Pull-records-2026-x"
    )
    users.change_password("mes", "Pull-records-2026-x", "Pull-records-2026-ok")
    engine.dispose()
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "opcua", "serve", "--config", str(site)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert f"serving opc.tcp://127.0.0.1:{port}" in line, (
            process.stderr.read() if process.stderr else ""
        )
        client = Client(f"opc.tcp://127.0.0.1:{port}", timeout=10)
        client.set_user("mes")
        client.set_password("Pull-records-2026-ok")
        async with client:
            ns = await client.get_namespace_index("urn:tracegate:demo-bj-1")
            site_id = await client.get_node(ua.NodeId("Site.SiteId", ns)).read_value()
            lines = await client.get_node(ua.NodeId("Site.Lines", ns)).get_children()
        assert site_id == "demo-bj-1"
        assert len(lines) == 1
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "stopped" in out
