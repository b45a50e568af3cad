"""`tracegate opcua serve --config SITE`: the gateway's OPC UA server on its own, for the MES
(records, batch exports, traces, OPEN-SCS serial provisioning) without a running line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from pathlib import Path

from gateway.commands.common import fail, load_config
from gateway.observability.http_server import (
    HttpServeError,
    ListenAddress,
    parse_listen_address,
    serving_observability,
)
from gateway.observability.hub import Observability
from gateway.opcua_server import GatewayOpcUaServer, OpcUaServerError, ServerNotConfiguredError
from gateway.opcua_server.site_server import site_server
from gateway.site_store import open_site_store


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("opcua", help="the gateway's OPC UA server for the MES")
    sub = parser.add_subparsers(dest="opcua_command", required=True)
    serve = sub.add_parser(
        "serve", help="serve records over OPC UA until Ctrl-C (or SIGTERM), without a line"
    )
    serve.add_argument("--config", type=Path, required=True, help="the site file")
    serve.add_argument(
        "--http",
        metavar="HOST:PORT",
        help="also serve /metrics, /healthz and /readyz here (e.g. 127.0.0.1:9464)",
    )
    serve.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    try:
        http = parse_listen_address(args.http) if args.http else None
    except HttpServeError as error:
        fail(error.message, hint=error.hint)
    store = open_site_store(config)
    try:
        server = site_server(config, store)
        observability = Observability.for_site(store, opcua_server=server) if http else None
        asyncio.run(_serve(server, observability, http))
    except (ServerNotConfiguredError, OpcUaServerError, HttpServeError) as error:
        fail(error.message, hint=error.hint)
    finally:
        store.close()
    return 0


async def _serve(
    server: GatewayOpcUaServer,
    observability: Observability | None,
    http: ListenAddress | None,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with contextlib.AsyncExitStack() as stack:
            if observability is not None and http is not None:
                bound = await stack.enter_async_context(serving_observability(observability, http))
                print(f"serving /metrics, /healthz, /readyz on http://{bound}", flush=True)
            await stack.enter_async_context(server)
            print(f"serving {server.endpoint} (Ctrl-C stops)", flush=True)
            await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    print("stopped", flush=True)
