"""`tracegate ebr report --batch ID --format pdf|json --lang zh-CN|en --out FILE`: the batch
report QA releases from (`docs/ebr.md`), printed or as BatchML-shaped JSON.

The report only reads the store: the database must already be at the current schema (`tracegate
db upgrade`), and nothing is written to it. The output file is checked before the record is
read, and written whole or not at all.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine

from ebr.db import make_engine
from ebr.report import LANGUAGES, collect_report, render_json, render_pdf
from ebr.report.json_export import HASH_KEY
from ebr.schema import current_revision, head_revision
from gateway.commands.common import fail, load_config

FORMATS = ("pdf", "json")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("ebr", help="electronic batch records (docs/ebr.md)")
    sub = parser.add_subparsers(dest="ebr_command", required=True)
    report = sub.add_parser(
        "report",
        help="a batch's record as a PDF (zh-CN or English) or as BatchML-shaped JSON",
        description="Every recorded value, correction, exception, deviation and signature of "
        "the batch. Each PDF page and the JSON carry the same record hash.",
    )
    report.add_argument("--config", type=Path, required=True, help="the site file")
    report.add_argument("--batch", type=int, required=True, help="the batch id")
    report.add_argument("--format", choices=FORMATS, required=True, help="pdf or json")
    report.add_argument(
        "--lang", choices=LANGUAGES, default="zh-CN", help="the PDF's language (default zh-CN)"
    )
    report.add_argument("--out", type=Path, required=True, help="the file to write")
    report.set_defaults(run=run_report)


def run_report(args: argparse.Namespace) -> int:
    out: Path = args.out
    _check_writable(out)
    config = load_config(args.config)
    engine = make_engine(config.database_url)
    try:
        _check_schema(engine, args.config)
        report = collect_report(engine, args.batch)
    finally:
        engine.dispose()
    doc = render_json(report)
    with _replacing(out) as draft:
        if args.format == "pdf":
            render_pdf(report, args.lang, draft)
        else:
            text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
            draft.write_text(text, encoding="utf-8")
    what = f"{args.format}, {args.lang}" if args.format == "pdf" else args.format
    print(f"batch {args.batch} (lot {report.header.lot}): report written to {out} ({what})")
    print(f"record hash: {doc[HASH_KEY]}")
    return 0


def _check_writable(out: Path) -> None:
    folder = out.parent
    if out.is_dir():
        fail(f"{out} is a folder", hint="give the file to write, e.g. --out batch-7.pdf")
    if not folder.is_dir():
        fail(f"cannot write {out}: the folder {folder} does not exist", hint="create it first")
    if not os.access(folder, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        fail(
            f"cannot write {out}: permission denied",
            hint="choose a file in a folder you may write to",
        )


def _check_schema(engine: Engine, site_file: Path) -> None:
    current, head = current_revision(engine), head_revision(engine)
    if current != head:
        fail(
            f"the database schema is at {current or 'nothing'}, this version reads {head}",
            hint=f"run `tracegate db upgrade --config {site_file}` first",
        )


@contextmanager
def _replacing(out: Path) -> Iterator[Path]:
    """A draft file next to `out` that replaces it once written, and is removed otherwise."""
    draft = out.with_name(f".{out.name}.{os.getpid()}.draft")
    try:
        yield draft
        os.replace(draft, out)
    except OSError as error:
        fail(
            f"cannot write {out}: {error.strerror or error}",
            hint="choose a file in a folder you may write to",
        )
    finally:
        draft.unlink(missing_ok=True)
