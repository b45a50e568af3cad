"""The observability endpoints served by a long-running gateway, in its own event loop.

`tracegate opcua serve --http 127.0.0.1:9464` and `tracegate run --http …` serve `/metrics`,
`/healthz` and `/readyz` with uvicorn beside the OPC UA server and the line, on the loop they
run on (so `/healthz` answering means that loop answers). The socket is bound here: a port in
use is a clear error before anything starts, and the gateway's own SIGINT/SIGTERM handling
stays in charge (uvicorn's `serve()` would take the signals over).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final

import uvicorn
from starlette.types import ASGIApp

from gateway.loop_lag import LoopLagProbe
from gateway.observability.hub import Observability
from gateway.observability.routes import observability_app

log = logging.getLogger("tracegate.observability")

DEFAULT_HOST: Final = "127.0.0.1"


class HttpServeError(Exception):
    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True, slots=True)
class ListenAddress:
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_listen_address(text: str) -> ListenAddress:
    """`HOST:PORT`, `[IPv6]:PORT` or `PORT` (on 127.0.0.1)."""
    raw = text.strip()
    host, port_text = DEFAULT_HOST, raw
    if raw.startswith("["):
        host, _, rest = raw[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif ":" in raw:
        host, _, port_text = raw.rpartition(":")
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not host or not 0 <= port <= 65535:
        raise HttpServeError(
            f"{text!r} is not an address to listen on",
            hint="give HOST:PORT, e.g. 127.0.0.1:9464, or [::1]:9464, or a port alone",
        )
    return ListenAddress(host, port)


@contextlib.asynccontextmanager
async def serving_http(app: ASGIApp, address: ListenAddress) -> AsyncIterator[ListenAddress]:
    """Serve the ASGI `app` on `address` while the block runs; yields the bound address (the
    real port when `address.port` is 0)."""
    listener = _bind(address)
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="off", server_header=False
    )
    config.load()
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)
    await server.startup(sockets=[listener])
    bound = ListenAddress(address.host, int(listener.getsockname()[1]))
    running = asyncio.create_task(server.main_loop(), name="observability-http")
    log.info("serving /metrics, /healthz and /readyz on http://%s", bound)
    try:
        yield bound
    finally:
        server.should_exit = True
        await running
        await server.shutdown(sockets=[listener])
        listener.close()


@contextlib.asynccontextmanager
async def serving_observability(
    watched: Observability, address: ListenAddress
) -> AsyncIterator[ListenAddress]:
    """`/metrics`, `/healthz` and `/readyz` of `watched` on `address`, with the event loop's
    lag measured while they are served."""
    probe = LoopLagProbe()
    watched.measure_loop(probe)
    measuring = asyncio.create_task(probe.run(), name="observability-loop-lag")
    try:
        async with serving_http(observability_app(watched), address) as bound:
            yield bound
    finally:
        watched.measure_loop(None)
        measuring.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await measuring


def _bind(address: ListenAddress) -> socket.socket:
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((address.host, address.port))
    except OSError as error:
        listener.close()
        raise HttpServeError(
            f"cannot listen on {address}: {error.strerror or error}",
            hint="another program uses the port, or the address is not this machine's; "
            "choose another with --http HOST:PORT",
        ) from None
    return listener
