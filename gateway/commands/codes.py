"""`tracegate codes generate | parse | import`."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from config import NotConfiguredError, SiteConfig
from ebr.allocation import CodeAllocator
from ebr.catalog import create_batch, find_batch
from ebr.errors import StoreError
from ebr.imports import CodeImporter, ImportRejectedError
from gateway.codes_output import OutputFormat, formatter
from gateway.commands.common import fail, fail_from, load_config
from gateway.logs import get_logger
from gateway.site_store import SiteStore, open_site_store
from serialization.codes import SchemeName
from serialization.errors import SerializationError
from serialization.national import DEFAULT_FORMAT
from serialization.recognize import (
    RecognitionContext,
    describe_error,
    recognize,
    unalias_gs,
)
from serialization.rules import PackagingLevel
from serialization.template import CodeTemplate

log = get_logger("tracegate.codes")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("codes", help="generate, parse and import trace codes")
    sub = parser.add_subparsers(dest="codes_command", required=True)

    generate = sub.add_parser(
        "generate",
        help="allocate codes durably for a product and print them, one per line",
        description="Codes are written to the database as Allocated before they are printed.",
    )
    generate.add_argument("--config", type=Path, required=True, help="the site file")
    generate.add_argument("--product", required=True, help="product id from the site file")
    generate.add_argument("--count", type=int, required=True, help="how many codes")
    generate.add_argument(
        "--format",
        choices=[f.value for f in OutputFormat],
        default=OutputFormat.RAW.value,
        help="raw: data with GS as a 0x1D byte; hri; dl: GS1 Digital Link; epc: EPC URI",
    )
    generate.add_argument(
        "--level",
        choices=[lv.value for lv in PackagingLevel],
        default="unit",
    )
    generate.add_argument("--lot", help="batch/lot number (default: L + today's date)")
    generate.add_argument("--line", help="line id (default: the first line allowed the product)")
    generate.set_defaults(run=run_generate)

    parse = sub.add_parser(
        "parse",
        help="say which scheme a code follows, its fields and checks, in words",
        description="Typed stand-ins for the GS separator are accepted: <GS>, \\x1d, {GS}.",
    )
    parse.add_argument("code", help="the code as scanned or printed")
    parse.add_argument("--config", type=Path, help="site file: adds drug IDs and templates")
    parse.set_defaults(run=run_parse)

    imports = sub.add_parser(
        "import",
        help="import serials, serial ranges or codes from the enterprise (CSV or JSON)",
        description="A file with any bad row imports nothing; every problem is listed.",
    )
    imports.add_argument("file", type=Path)
    imports.add_argument("--config", type=Path, required=True, help="the site file")
    imports.set_defaults(run=run_import)


def run_generate(args: argparse.Namespace) -> int:
    if args.count <= 0:
        fail(f"--count {args.count} is not a positive number", hint="ask for 1 or more codes")
    config = load_config(args.config)
    level = PackagingLevel(args.level)
    try:
        product = config.product_master(args.product)
        rule = config.rule_for(args.product, level)
        line_id = args.line or _line_for(config, args.product)
        to_text = formatter(OutputFormat(args.format), rule.scheme, product)
    except (NotConfiguredError, ValueError) as error:
        fail_from(error)
    store = open_site_store(config)
    try:
        batch_id = _batch_for(store, args.product, line_id, args.lot)
        allocator = CodeAllocator(store.engine, master_key=store.master_key, audit=store.audit)
        codes = allocator.allocate(line_id, batch_id, args.count, level=level)
    except (StoreError, SerializationError) as error:
        fail_from(error)
    finally:
        store.close()
    log.info(
        "codes.allocated",
        product=args.product,
        level=level.value,
        count=len(codes),
        batch_id=batch_id,
        line=line_id,
    )
    out = sys.stdout
    for code in codes:
        out.write(to_text(code) + "\n")
    out.flush()
    return 0


def _line_for(config: SiteConfig, product_id: str) -> str:
    for line in config.lines:
        if product_id in line.products:
            return line.id
    raise NotConfiguredError(
        f"no line is allowed product {product_id!r}",
        hint="add the product to a line's products, or pass --line",
    )


def _batch_for(store: SiteStore, product_id: str, line_id: str, lot: str | None) -> int:
    today = date.today()
    lot = lot or f"L{today:%y%m%d}"
    existing = find_batch(store.engine, product_id, lot)
    if existing is not None:
        return existing.id
    try:
        expiry = store.config.expiry_for(product_id, today)
    except NotConfiguredError:
        expiry = None
    return create_batch(
        store.engine,
        product_id=product_id,
        line_id=line_id,
        lot=lot,
        expiry=expiry,
        production_date=today,
        audit=store.audit,
    )


def recognition_context(config: SiteConfig | None) -> RecognitionContext:
    if config is None:
        return RecognitionContext()
    drug_ids = {p.nmpa_drug_id for p in config.products if p.nmpa_drug_id}
    templates: list[tuple[str, CodeTemplate]] = []
    national_formats = [DEFAULT_FORMAT]
    for rule_config in config.coding_rules:
        rule = rule_config.to_rule() if rule_config.scheme != "sscc" else None
        if rule is None:
            continue
        if rule.template:
            templates.append((rule.id, CodeTemplate.compile(rule.template, rule.check)))
        if rule.scheme is SchemeName.NATIONAL:
            national_formats.append(rule.national_format)
    return RecognitionContext(
        drug_ids=drug_ids or None, templates=templates, national_formats=national_formats
    )


def run_parse(args: argparse.Namespace) -> int:
    config = load_config(args.config) if args.config else None
    text = unalias_gs(args.code)
    result = recognize(text, recognition_context(config))
    for number, reading in enumerate(result.readings, start=1):
        code = reading.code
        verdict = "valid" if reading.valid else "INVALID"
        print(f"Reading {number}: {code.scheme.value} — {verdict}")
        print(f"  identity  {code.key}")
        print(f"  printed   {code.hri}")
        print(f"  data      {code.data.replace(chr(29), '<GS>')}")
        print(f"  symbol    {code.symbology}")
        for name, value in code.fields:
            print(f"  {name:<34} {value}")
        for check in reading.checks:
            print(f"  {'ok' if check.ok else 'FAILED':>6}  {check.name}: {check.detail}")
        for warning in reading.warnings:
            print(f"  note    {warning}")
    for scheme, error in result.rejections:
        print(f"Not a {scheme}: {describe_error(error)}")
    if not result.readings:
        print("error: no coding scheme accepts this code", file=sys.stderr)
        return 1
    return 0


def run_import(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if not args.file.is_file():
        fail(f"{args.file}: no such file", hint="give the path of a .csv or .json file")
    store = open_site_store(config)
    try:
        summaries = CodeImporter(store.engine, audit=store.audit).import_file(args.file)
    except ImportRejectedError as error:
        for problem in error.problems:
            print(f"{args.file}: {problem}", file=sys.stderr)
        fail(str(error), hint=error.hint)
    finally:
        store.close()
    for summary in summaries:
        print(
            f"imported {summary.rows} {summary.kind}(s) for {summary.product_id} "
            f"({summary.level}) as pool {summary.pool_id} (import {summary.import_id})"
        )
    return 0
