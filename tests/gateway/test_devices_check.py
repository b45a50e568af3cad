"""`check_devices` and `tracegate devices check` against simulated devices on free ports."""

from __future__ import annotations

import json
import re
import shutil
import socket
from pathlib import Path

import pytest

from config import SiteConfig, load_site
from drivers.base import LinkState
from gateway.cli import main
from gateway.devices import build_device, check_devices
from gateway.line.testbed import DEMO_PORTS
from gateway.simulation import LineSimulation

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "examples"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_copy(folder: Path) -> Path:
    """demo.yaml with every device moved to a free port on 127.0.0.1."""
    text = (EXAMPLES / "demo.yaml").read_text(encoding="utf-8")
    for port in DEMO_PORTS:
        text, found = re.subn(rf"(?<=[: ]){port}\b", str(free_port()), text)
        assert found == 1, port
    site = folder / "site.yaml"
    site.write_text(text, encoding="utf-8")
    return site


@pytest.fixture
def site(tmp_path: Path) -> SiteConfig:
    return load_site(demo_copy(tmp_path))


async def test_every_simulated_device_is_up(site: SiteConfig) -> None:
    async with LineSimulation(site.lines[0], base_dir=site.base_dir):
        checks = await check_devices(site, timeout_s=5.0)

    assert {c.id: c.state for c in checks} == {
        "plc-1": LinkState.UP,
        "printer-1": LinkState.UP,
        "camera-1": LinkState.UP,
        "case-printer-1": LinkState.UP,
        "case-camera-1": LinkState.UP,
        "pallet-printer-1": LinkState.UP,
        "pallet-camera-1": LinkState.UP,
        "checkweigher-1": LinkState.UP,
        "scanner-1": LinkState.UP,
    }
    assert all(c.latency_s is not None and c.error is None for c in checks)
    assert {c.kind for c in checks} == {
        "opcua",
        "printer-tcp",
        "camera-tcp",
        "modbus-tcp",
        "scanner-tcp",
    }


async def test_a_device_nobody_answers_is_down_with_the_reason(site: SiteConfig) -> None:
    checks = await check_devices(site, timeout_s=0.5)

    assert all(c.state is LinkState.DOWN for c in checks)
    assert all(c.latency_s is None and c.error for c in checks)
    printer = next(c for c in checks if c.id == "printer-1")
    assert "127.0.0.1" in printer.detail


def test_a_missing_password_variable_is_named(tmp_path: Path) -> None:
    text = (EXAMPLES / "demo.yaml").read_text(encoding="utf-8")
    secured = text.replace(
        "        security_policy: None\n        security_mode: None\n",
        "        security_policy: Basic256Sha256\n        security_mode: SignAndEncrypt\n"
        "        identity: username\n        username: gateway\n"
        "        password_env: TRACEGATE_TEST_PLC_PASSWORD\n"
        "        client_certificate: pki/client.der\n        client_private_key: pki/client.pem\n"
        "        trusted_certificates: [pki/plc.der]\n",
    )
    assert secured != text
    path = tmp_path / "site.yaml"
    path.write_text(secured, encoding="utf-8")
    device = load_site(path).lines[0].devices[0]

    with pytest.raises(Exception, match="TRACEGATE_TEST_PLC_PASSWORD is not set") as caught:
        build_device(device, base_dir=tmp_path, environ={})
    assert "export TRACEGATE_TEST_PLC_PASSWORD" in str(caught.value)


def test_cli_exit_code_and_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = demo_copy(tmp_path)
    shutil.rmtree(tmp_path / "keys", ignore_errors=True)

    code = main(["devices", "check", "--config", str(path), "--timeout", "0.5", "--json"])

    captured = capsys.readouterr()
    assert code != 0
    report = json.loads(captured.out)
    assert report["ok"] is False
    assert [d["id"] for d in report["devices"]] == [
        "plc-1",
        "printer-1",
        "camera-1",
        "case-printer-1",
        "case-camera-1",
        "pallet-printer-1",
        "pallet-camera-1",
        "checkweigher-1",
        "scanner-1",
    ]
    assert all(d["state"] == "down" for d in report["devices"])
    assert "not up: plc-1 (down), printer-1 (down)" in captured.err
