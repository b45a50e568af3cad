"""`tracegate api`: serve the HTTP JSON API (trace, recall) of a site with uvicorn."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from gateway.api import create_app
from gateway.commands.common import fail, load_config
from gateway.site_store import open_site_store


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "api",
        help="serve the HTTP JSON API: trace and recall (docs/trace.md)",
        description="Binds to 127.0.0.1 unless told otherwise. Users authenticate with their "
        "password (basic or a bearer token): serve over TLS (--tls-cert/--tls-key) or behind a "
        "TLS proxy on any network but the gateway's own host.",
    )
    parser.add_argument("--config", type=Path, required=True, help="the site file")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    parser.add_argument("--tls-cert", type=Path, help="PEM certificate chain for HTTPS")
    parser.add_argument("--tls-key", type=Path, help="PEM private key for HTTPS")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if (args.tls_cert is None) != (args.tls_key is None):
        fail("--tls-cert and --tls-key go together", hint="give both, or neither for plain HTTP")
    for path in (args.tls_cert, args.tls_key):
        if path is not None and not path.is_file():
            fail(f"{path}: no such file", hint="give the PEM files of the server's certificate")
    config = load_config(args.config)
    store = open_site_store(config)
    try:
        uvicorn.run(
            create_app(config, store),
            host=args.host,
            port=args.port,
            ssl_certfile=args.tls_cert,
            ssl_keyfile=args.tls_key,
            log_level="warning",
        )
    finally:
        store.close()
    return 0
