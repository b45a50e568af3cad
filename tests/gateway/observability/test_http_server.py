"""The long-running gateway serves /metrics, /healthz and /readyz on `--http`: addresses,
a port in use, and `tracegate opcua serve --http` (what the systemd unit runs) end to end."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from gateway.cli import main
from gateway.line.testbed import write_demo_site
from gateway.observability.http_server import (
    HttpServeError,
    ListenAddress,
    parse_listen_address,
    serving_http,
)
from gateway.observability.routes import observability_app
from simulators.ports import free_port


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("127.0.0.1:9464", ListenAddress("127.0.0.1", 9464)),
        ("0.0.0.0:80", ListenAddress("0.0.0.0", 80)),
        ("[::1]:9464", ListenAddress("::1", 9464)),
        ("9464", ListenAddress("127.0.0.1", 9464)),
        ("localhost:0", ListenAddress("localhost", 0)),
    ],
)
def test_listen_addresses(text: str, address: ListenAddress) -> None:
    assert parse_listen_address(text) == address


@pytest.mark.parametrize("text", ["", "host:", "host:port", ":9464", "1.2.3.4:70000", "[::1]"])
def test_a_bad_listen_address_says_how_to_write_one(text: str) -> None:
    with pytest.raises(HttpServeError) as refused:
        parse_listen_address(text)
    assert refused.value.hint is not None
    assert "HOST:PORT" in refused.value.hint


async def test_a_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(HttpServeError) as refused:
            async with serving_http(observability_app(None), ListenAddress("127.0.0.1", port)):  # type: ignore[arg-type]
                pass
    assert f"cannot listen on 127.0.0.1:{port}" in refused.value.message
    assert refused.value.hint is not None
    assert "--http" in refused.value.hint


def test_serve_and_run_refuse_a_bad_address_before_starting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = str(write_demo_site(tmp_path))
    for argv in (
        ["opcua", "serve", "--config", site, "--http", "nowhere:x"],
        ["run", "--config", site, "--batch", "1", "--operator", "op", "--http", "nowhere:x"],
    ):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert "error: 'nowhere:x' is not an address to listen on" in err
        assert "fix: give HOST:PORT" in err


def test_opcua_serve_exposes_metrics_and_readiness(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command runs in this process's main thread (it handles SIGTERM there); a helper
    thread scrapes it, then sends the SIGTERM that stops it."""
    site = write_demo_site(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    seen: dict[str, object] = {}

    def scrape_then_stop() -> None:
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    ready = httpx.get(f"{url}/readyz", timeout=5)
                except httpx.TransportError:
                    time.sleep(0.1)
                    continue
                if ready.status_code == 200:
                    seen["ready"] = ready.json()
                    seen["metrics"] = httpx.get(f"{url}/metrics", timeout=5).text
                    break
                time.sleep(0.1)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    helper = threading.Thread(target=scrape_then_stop)
    helper.start()
    try:
        code = main(["opcua", "serve", "--config", str(site), "--http", f"127.0.0.1:{port}"])
    finally:
        helper.join()
    output = capsys.readouterr().out
    assert code == 0
    assert f"serving /metrics, /healthz, /readyz on {url}" in output
    assert "stopped" in output
    ready = seen["ready"]
    assert isinstance(ready, dict)
    checks = {check["name"]: check for check in ready["checks"]}
    assert checks["opcua_server"]["ok"]
    assert checks["opcua_server"]["where"].startswith("opc.tcp://127.0.0.1:")
    assert checks["database"]["ok"]
    metrics = seen["metrics"]
    assert isinstance(metrics, str)
    assert "tracegate_build_info{" in metrics
    assert "tracegate_event_loop_lag_seconds " in metrics
