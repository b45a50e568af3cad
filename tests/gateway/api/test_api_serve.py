"""`tracegate api` serves the app over real HTTP; bad options are refused before it starts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from gateway.cli import main
from simulators.ports import free_port
from tests.ebr.trace_fixtures import PASSWORD
from tests.gateway.trace_site import trace_site


def test_the_api_command_serves_trace_over_http(tmp_path: Path) -> None:
    site = trace_site(tmp_path)
    site.store.close()
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "api",
            "--config",
            str(site.path),
            "--port",
            str(port),
        ],
        cwd=Path(__file__).resolve().parents[3],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                schema = httpx.get(f"{url}/api/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "the API did not come up in 20 s"
                time.sleep(0.2)
        assert schema.status_code == 200
        traced = httpx.get(
            f"{url}/api/trace/batch/{site.traced.batch}?limit=2", auth=("qa1", PASSWORD), timeout=5
        )
        assert traced.status_code == 200, traced.text
        assert traced.json()["total"] == 18
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout:
            server.stdout.close()


def test_tls_options_go_together(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    assert main(["api", "--config", str(tmp_path / "site.yaml"), "--tls-cert", str(cert)]) == 1
    assert "--tls-cert and --tls-key go together" in capsys.readouterr().err
