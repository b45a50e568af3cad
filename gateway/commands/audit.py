"""`tracegate audit create-key | show | export-bundle | verify`: the audit trail for auditors.

`show` prints the selected entries, or writes them as CSV (`--csv`) or a printable PDF (`--pdf`).

`verify` exits 0 only when everything verifies: every entry's hash and link, every signed
checkpoint, every e-signature, and no missing range.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from ebr.audit.bundle import export_bundle, verify_database
from ebr.audit.checkpoints import create_site_key
from ebr.audit.pdf_export import export_pdf
from ebr.audit.trail import AuditTrail
from ebr.audit.verifier import BundleError, VerificationReport, load_bundle, verify_bundle
from ebr.db import make_engine
from gateway.commands.common import fail, load_config
from gateway.site_store import read_site_key, site_audit_trail

VIEW_FILTERS = ("object_type", "object_id", "event", "username")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("audit", help="the tamper-evident audit trail")
    sub = parser.add_subparsers(dest="audit_command", required=True)

    key = sub.add_parser("create-key", help="create an Ed25519 site key for signed checkpoints")
    key.add_argument("file", type=Path)
    key.set_defaults(run=run_create_key)

    show = sub.add_parser("show", help="view entries by time, object, event or user")
    add_database_arguments(show)
    for name in VIEW_FILTERS:
        show.add_argument(f"--{name.replace('_', '-')}")
    show.add_argument("--since", type=_moment, help="ISO 8601 time with offset")
    show.add_argument("--until", type=_moment, help="ISO 8601 time with offset")
    output = show.add_mutually_exclusive_group()
    output.add_argument("--csv", type=Path, help="write the entries to this CSV file instead")
    output.add_argument("--pdf", type=Path, help="write the entries to this PDF file instead")
    show.set_defaults(run=run_show)

    export = sub.add_parser("export-bundle", help="write an evidence bundle for offline checks")
    add_database_arguments(export)
    export.add_argument("--out", type=Path, required=True, help="the bundle file to write")
    export.set_defaults(run=run_export)

    verify = sub.add_parser("verify", help="recompute chains, checkpoints and signatures")
    source = verify.add_mutually_exclusive_group(required=True)
    source.add_argument("--bundle", type=Path, help="an evidence bundle")
    source.add_argument("--db", help="a database URL")
    source.add_argument("--config", type=Path, help="the site file (its database)")
    verify.add_argument(
        "--trusted-key",
        action="append",
        help="a site public key (hex) known from outside the database; repeatable",
    )
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.set_defaults(run=run_verify)


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--db", help="a database URL")
    source.add_argument("--config", type=Path, help="the site file (its database)")


def open_database(args: argparse.Namespace) -> Engine:
    url = args.db if args.db else load_config(args.config).database_url
    return make_engine(url)


def open_trail(args: argparse.Namespace) -> AuditTrail:
    """The trail of `--db` (unsigned checkpoints) or of the site file's database, signing
    checkpoints with the site's audit key and settings. Dispose of `trail.engine` after use."""
    if args.db:
        return AuditTrail(make_engine(args.db))
    config = load_config(args.config)
    site_key = read_site_key(config.audit_key_path)
    return site_audit_trail(config, make_engine(config.database_url), site_key)


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO 8601 time, e.g. 2026-11-22T08:00:00+08:00"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} has no UTC offset; add one, e.g. +08:00")
    return moment


def run_create_key(args: argparse.Namespace) -> int:
    path: Path = args.file
    if path.exists():
        fail(
            f"{path} exists already; a signing key is never replaced in place",
            hint="to rotate, create the new key under another name and point the settings at it",
        )
    key = create_site_key(path)
    print(f"created {path} (owner read/write only)")
    print(f"key id:     {key.key_id}")
    print(f"public key: {key.public_key_hex}")
    print("record the public key outside the database (e.g. in the validation file): it is the")
    print("--trusted-key an auditor passes to `tracegate audit verify`")
    return 0


def run_show(args: argparse.Namespace) -> int:
    trail = open_trail(args)
    try:
        filters = {name: getattr(args, name) for name in VIEW_FILTERS}
        filters.update(since=args.since, until=args.until)
        if args.csv is not None:
            with args.csv.open("w", encoding="utf-8", newline="") as out:
                count = trail.export_csv(out, **filters)
            print(f"wrote {count} entries to {args.csv}")
            return 0
        if args.pdf is not None:
            count = export_pdf(trail, args.pdf, **filters)
            print(f"wrote {count} entries to {args.pdf}")
            return 0
        for entry in trail.entries(**filters):
            who = entry.username or "system"
            line = f"#{entry.seq} {entry.at} {who} {entry.action} {entry.event} "
            line += f"{entry.object_type}:{entry.object_id}"
            if entry.old_value is not None or entry.new_value is not None:
                line += f" {entry.old_value or '-'} -> {entry.new_value or '-'}"
            if entry.reason:
                line += f" reason: {entry.reason}"
            print(line)
    finally:
        trail.engine.dispose()
    return 0


def run_export(args: argparse.Namespace) -> int:
    engine = open_database(args)
    try:
        bundle = export_bundle(engine, args.out)
    finally:
        engine.dispose()
    print(
        f"wrote {args.out}: {len(bundle['entries'])} entries, "
        f"{len(bundle['checkpoints'])} checkpoints, {len(bundle['signatures'])} e-signatures"
    )
    return 0


def run_verify(args: argparse.Namespace) -> int:
    if args.bundle is not None:
        try:
            report = verify_bundle(load_bundle(args.bundle), trusted_keys=args.trusted_key)
        except BundleError as error:
            fail(str(error), hint="pass a file written by `tracegate audit export-bundle`")
    else:
        engine = open_database(args)
        try:
            report = verify_database(engine, trusted_keys=args.trusted_key)
        finally:
            engine.dispose()
    _print(report, as_json=args.json)
    return 0 if report.ok else 1


def _print(report: VerificationReport, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print("\n".join(report.lines()), file=sys.stdout)
