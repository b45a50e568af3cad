"""`tracegate certs create | list | trust | reject --config SITE`: the OPC UA server's
application certificate and the client certificates it trusts (docs/opcua.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from gateway.commands.common import fail, load_config
from gateway.opcua_server.certificates import (
    CertificateInfo,
    CertificateStoreError,
    create_server_certificate,
    list_certificates,
    move_certificate,
)
from gateway.opcua_server.settings import (
    ServerNotConfiguredError,
    ServerSettings,
    settings_from_config,
)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("certs", help="OPC UA server certificate and client trust list")
    sub = parser.add_subparsers(dest="certs_command", required=True)

    create = sub.add_parser(
        "create", help="create the server's self-signed application certificate and its key"
    )
    create.add_argument("--config", type=Path, required=True, help="the site file")
    create.add_argument("--days", type=int, default=825, help="validity in days (default 825)")
    create.set_defaults(run=run_create)

    listing = sub.add_parser(
        "list", help="the server certificate, trusted and rejected client certificates"
    )
    listing.add_argument("--config", type=Path, required=True, help="the site file")
    listing.set_defaults(run=run_list)

    for name, verb in (("trust", "trust a rejected client"), ("reject", "withdraw trust")):
        command = sub.add_parser(name, help=f"{verb}: move its certificate between the folders")
        command.add_argument("--config", type=Path, required=True, help="the site file")
        command.add_argument(
            "certificate",
            help="file name, or the first 8 or more hex digits of the thumbprint (certs list)",
        )
        command.set_defaults(run=run_trust if name == "trust" else run_reject)


def server_settings(config_path: Path) -> ServerSettings:
    try:
        return settings_from_config(load_config(config_path))
    except ServerNotConfiguredError as error:
        fail(error.message, hint=error.hint)


def run_create(args: argparse.Namespace) -> int:
    settings = server_settings(args.config)
    assert settings.certificate is not None
    assert settings.private_key is not None
    if args.days < 1:
        fail(f"--days {args.days} is not a validity", hint="give a number of days, e.g. 825")
    try:
        info = create_server_certificate(
            settings.certificate,
            settings.private_key,
            application_uri=settings.application_uri,
            host=settings.host,
            common_name=f"tracegate {settings.site_id}",
            valid_days=args.days,
        )
    except CertificateStoreError as error:
        fail(error.message, hint=error.hint)
    print(f"created {info.path} and {settings.private_key} (owner read/write only)")
    print(f"  application URI {info.application_uri}, valid until {info.not_after:%Y-%m-%d}")
    print(f"  thumbprint {info.thumbprint}: give it to the MES to trust this server")
    return 0


def run_list(args: argparse.Namespace) -> int:
    settings = server_settings(args.config)
    assert settings.certificate is not None
    assert settings.trust_dir is not None
    assert settings.rejected_dir is not None
    try:
        found = list_certificates(settings.certificate, settings.trust_dir, settings.rejected_dir)
    except CertificateStoreError as error:
        fail(error.message, hint=error.hint)
    if not found:
        print("no certificates yet: `tracegate certs create --config FILE` makes the server's")
    for info in found:
        print(_line(info))
    return 0


def _line(info: CertificateInfo) -> str:
    state = f"{info.state} (expired)" if info.expired else info.state
    return (
        f"{state:<18} {info.thumbprint[:16]}  until {info.not_after:%Y-%m-%d}  "
        f"{info.subject}  {info.application_uri or '-'}  [{info.path.name}]"
    )


def run_trust(args: argparse.Namespace) -> int:
    settings = server_settings(args.config)
    assert settings.trust_dir is not None
    assert settings.rejected_dir is not None
    return _move(args.certificate, settings.rejected_dir, settings.trust_dir, "trust", "trusted")


def run_reject(args: argparse.Namespace) -> int:
    settings = server_settings(args.config)
    assert settings.trust_dir is not None
    assert settings.rejected_dir is not None
    return _move(args.certificate, settings.trust_dir, settings.rejected_dir, "reject", "rejected")


def _move(selector: str, source: Path, target: Path, verb: str, state: str) -> int:
    try:
        moved = move_certificate(selector, source, target, verb=verb)
    except CertificateStoreError as error:
        fail(error.message, hint=error.hint)
    print(f"{state}: {moved} (takes effect at the client's next session)")
    return 0
