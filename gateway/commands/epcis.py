"""`tracegate epcis export`: a batch's journal as an EPCIS 2.0 document (JSON-LD or XML).

The document is validated against the official GS1 JSON schema or XSD and our CBV checks
before anything is written; an invalid document is never written. An existing file is never
replaced.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from ebr.db import make_engine
from ebr.errors import StoreError
from gateway.commands.common import fail, fail_from, load_config
from gateway.epcis.export import ExportFormat, export_batch, write_new_file
from gateway.epcis.from_journal import ExportSettings
from gateway.epcis.validate import InvalidDocumentError
from serialization.epcis.identifiers import DEFAULT_PRIVATE_BASE
from serialization.errors import SerializationError


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("epcis", help="EPCIS 2.0 documents of a batch")
    sub = parser.add_subparsers(dest="epcis_command", required=True)
    export = sub.add_parser(
        "export",
        help="write a batch's events as a validated EPCIS 2.0 document",
        description="Commissioning, aggregation, decommissioning, sampling and destruction "
        "events from the batch's production journal; see docs/epcis.md.",
    )
    export.add_argument("--config", type=Path, required=True, help="the site file")
    export.add_argument("--batch", type=int, required=True, help="the batch id")
    export.add_argument(
        "--format",
        choices=[f.value for f in ExportFormat],
        default=ExportFormat.JSONLD.value,
        help="jsonld (EPCIS 2.0 JSON-LD, default) or xml",
    )
    export.add_argument("--out", type=Path, required=True, help="the file to create")
    export.add_argument(
        "--id-base",
        default=DEFAULT_PRIVATE_BASE,
        help="base of the URIs of codes that are not GS1 keys (NMPA, national, template): "
        f"a URN base (default {DEFAULT_PRIVATE_BASE}) or an https:// base your company controls",
    )
    export.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.exists():
        fail(f"{out} exists already", hint="choose another --out; an export never overwrites")
    if not out.parent.is_dir():
        fail(f"folder {out.parent} does not exist", hint="create it or choose another --out")
    config = load_config(args.config)
    engine = make_engine(config.database_url)
    try:
        settings = ExportSettings(zone=config.zone, private_base=args.id_base)
        result = export_batch(
            engine, args.batch, ExportFormat(args.format), settings, created=datetime.now(UTC)
        )
    except (StoreError, SerializationError, InvalidDocumentError) as error:
        fail_from(error)
    finally:
        engine.dispose()
    try:
        write_new_file(out, result.data)
    except FileExistsError:
        fail(f"{out} appeared while exporting", hint="choose another --out")
    except OSError as error:
        fail(f"cannot write {out}: {error.strerror}", hint="check the folder and its rights")
    counts = ", ".join(f"{count} {step}" for step, count in result.counts().items())
    print(f"wrote {out}: {len(result.events)} EPCIS events of batch {args.batch}")
    if counts:
        print(f"  {counts}")
    print(f"  validated against the official EPCIS 2.0 {_artefact(args.format)} and the CBV")
    return 0


def _artefact(fmt: str) -> str:
    return "JSON schema" if fmt == ExportFormat.JSONLD.value else "XSD"
