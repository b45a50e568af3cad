"""`tracegate platform export`: a batch's codes and aggregation relations in the upload layout
of China's drug traceability platforms (docs/platform-exchange.md). An existing file is never
replaced; an invalid file is never written."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from ebr.db import make_engine
from ebr.errors import StoreError
from gateway.commands.common import fail, fail_from, load_config
from gateway.epcis.export import write_new_file
from gateway.platform_exchange.relations import ExportOptions, export_relations


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("platform", help="exports for China's traceability platforms")
    sub = parser.add_subparsers(dest="platform_command", required=True)
    export = sub.add_parser(
        "export",
        help="write a batch's code relations as the platforms' XML upload file",
        description="Enterprise, product, batch and every code with its parent and packaging "
        "layer, validated against tracegate's XSD of the layout before it is written.",
    )
    export.add_argument("--config", type=Path, required=True, help="the site file")
    export.add_argument("--batch", type=int, required=True, help="the batch id")
    export.add_argument("--out", type=Path, required=True, help="the file to create")
    export.add_argument(
        "--enterprise-code",
        help="the enterprise's code at the platform (manCode; default: the site's USCC)",
    )
    export.add_argument("--operator", help="the name of the person who prepares the upload")
    export.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.exists():
        fail(f"{out} exists already", hint="choose another --out; an export never overwrites")
    if not out.parent.is_dir():
        fail(f"folder {out.parent} does not exist", hint="create it or choose another --out")
    config = load_config(args.config)
    options = ExportOptions(
        created=datetime.now(config.zone),
        enterprise_code=args.enterprise_code,
        operator=args.operator,
    )
    engine = make_engine(config.database_url)
    try:
        result = export_relations(engine, args.batch, options)
    except StoreError as error:
        fail_from(error)
    finally:
        engine.dispose()
    try:
        write_new_file(out, result.data)
    except FileExistsError:
        fail(f"{out} appeared while exporting", hint="choose another --out")
    except OSError as error:
        fail(f"cannot write {out}: {error.strerror}", hint="check the folder and its rights")
    layers = ", ".join(f"{layer} = {level}" for level, layer in result.layers.items())
    print(f"wrote {out}: {result.codes} codes of batch {args.batch} (packLayer {layers})")
    print("  validated against tracegate's XSD of the platforms' relation layout")
    return 0
