"""The HMI served with uvicorn on the gateway's own event loop, beside the line runtime; over
HTTPS when `HmiSettings` names a certificate and its key."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from gateway.hmi.settings import HmiSettings
from gateway.observability.http_server import HttpServeError, ListenAddress, serving_http


@contextlib.asynccontextmanager
async def serving_hmi(app: FastAPI, address: ListenAddress) -> AsyncIterator[str]:
    """Serve the HMI `app` on `address` while the block runs; yields its URL (the real port
    when `address.port` is 0). A port in use, or a certificate that cannot be loaded, is an
    `HttpServeError` before anything starts."""
    settings: HmiSettings = app.state.hmi.settings
    serving = (
        serving_https(app, address, settings) if settings.https else serving_http(app, address)
    )
    scheme = "https" if settings.https else "http"
    async with serving as bound:
        try:
            yield f"{scheme}://{bound}/"
        finally:
            app.state.hmi.console.close()


@contextlib.asynccontextmanager
async def serving_https(
    app: FastAPI, address: ListenAddress, settings: HmiSettings
) -> AsyncIterator[ListenAddress]:
    assert settings.certificate is not None
    assert settings.private_key is not None
    _check_tls_files(settings.certificate, settings.private_key)
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="off",
        server_header=False,
        ssl_certfile=str(settings.certificate),
        ssl_keyfile=str(settings.private_key),
    )
    try:
        config.load()
    except (OSError, ssl.SSLError) as error:
        raise HttpServeError(
            f"cannot serve HTTPS with {settings.certificate} and {settings.private_key}: {error}",
            hint="give a PEM certificate and the PEM private key that belongs to it",
        ) from None
    listener = _bind(address)
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)
    await server.startup(sockets=[listener])
    bound = ListenAddress(address.host, int(listener.getsockname()[1]))
    running = asyncio.create_task(server.main_loop(), name="hmi-https")
    try:
        yield bound
    finally:
        server.should_exit = True
        await running
        await server.shutdown(sockets=[listener])
        listener.close()


def _check_tls_files(certificate: Path, private_key: Path) -> None:
    for what, path in (("certificate", certificate), ("private key", private_key)):
        if not path.is_file():
            raise HttpServeError(
                f"the HMI's HTTPS {what} {path} does not exist",
                hint=f"give the path of the PEM {what} file, or serve plain HTTP without one",
            )


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
            hint="another program uses the port, or the address is not this machine's",
        ) from None
    return listener
