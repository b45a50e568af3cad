"""`tracegate trace code|batch`: where a code came from and went, and a batch's every code."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Engine

from config import SiteConfig
from ebr.code_lookup import find_code_key
from ebr.db import make_engine
from ebr.trace import (
    BatchCode,
    BatchOrigin,
    BatchTrace,
    CodeNode,
    CodeTrace,
    RecallMark,
    batch_codes,
    trace_batch,
    trace_code,
)
from gateway.commands.codes import recognition_context
from gateway.commands.common import fail, load_config


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("trace", help="trace a code or a batch (docs/trace.md)")
    sub = parser.add_subparsers(dest="trace_command", required=True)
    code = sub.add_parser(
        "code",
        help="a code's history, containers, contents, batch and product",
        description="Backward: the batch, product and lot the code was made in. Forward: the "
        "case and pallet it is packed in, and its shipments. Then what is packed in it and "
        "every journal event and state change that names it.",
    )
    code.add_argument("code", help="the code as printed (any form a reader gives) or its key")
    batch = sub.add_parser("batch", help="every unit, case and pallet of a batch")
    batch.add_argument("batch_id", type=int, help="the batch id")
    for command, run in ((code, run_code), (batch, run_batch)):
        command.add_argument("--config", type=Path, required=True, help="the site file")
        command.add_argument("--json", action="store_true", help="print JSON, as the API does")
        command.set_defaults(run=run)


@contextmanager
def _engine(config: SiteConfig) -> Iterator[Engine]:
    engine = make_engine(config.database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def run_code(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    with _engine(config) as engine:
        key = find_code_key(engine, args.code, recognition_context(config))
        trace = trace_code(engine, key)
    if trace is None:
        fail(f"code {key} disappeared while it was traced", hint="trace it again")
    if args.json:
        _print_json(TypeAdapter(CodeTrace).dump_python(trace, mode="json"))
    else:
        _print_code(trace)
    return 0


def run_batch(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    with _engine(config) as engine:
        head = trace_batch(engine, args.batch_id, limit=1)
        if head is None:
            fail(f"unknown batch {args.batch_id}", hint="check the batch id")
        codes = batch_codes(engine, args.batch_id)
        if args.json:
            document = TypeAdapter(BatchTrace).dump_python(head, mode="json")
            document["codes"] = [_plain(code) for code in codes]
            del document["next_cursor"]
            _print_json(document)
            return 0
        _print_origin(head.batch)
        for level, states in head.counts.items():
            counted = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
            print(f"  {level}: {counted}")
        _print_recalls(head.recalls)
        print("  shipments: none recorded (the gateway records no shipping yet)")
        print(f"{'level':<7} {'code':<40} {'state':<13} parent")
        for code in codes:
            print(f"{code.level or '-':<7} {code.code:<40} {code.state:<13} {code.parent or '-'}")
    return 0


def _plain(code: BatchCode) -> dict[str, Any]:
    return {"code": code.code, "level": code.level, "state": code.state, "parent": code.parent}


def _print_json(document: Any) -> None:
    json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
    print()


def _print_origin(origin: BatchOrigin) -> None:
    product = origin.product
    ids = ", ".join(
        f"{name} {value}"
        for name, value in (("GTIN", product.gtin), ("drug id", product.nmpa_drug_id))
        if value
    )
    print(f"batch {origin.id}, lot {origin.lot} ({origin.status}) on line {origin.line}")
    print(f"  product {product.id} {product.name}" + (f" ({ids})" if ids else ""))
    made = origin.production_date.isoformat() if origin.production_date else "?"
    expiry = origin.expiry.isoformat() if origin.expiry else "none"
    maker = origin.manufacturer
    print(f"  made {made}, expires {expiry}, by {maker.company_name} (USCC {maker.uscc})")


def _print_recalls(recalls: list[RecallMark]) -> None:
    for mark in recalls:
        print(
            f"  RECALLED {mark.codes} codes at {mark.at} by {mark.user} "
            f"(journal seq {mark.seq}): {mark.reason}"
        )


def _print_code(trace: CodeTrace) -> None:
    print(f"code {trace.code} ({trace.level or 'no level'}, {trace.state})")
    if trace.recall is not None:
        _print_recalls([trace.recall])
    print("backward (where it came from):")
    if trace.batch is None:
        print("  allocated to no batch")
    else:
        _print_origin(trace.batch)
    print("forward (where it went):")
    for parent in trace.parents:
        print(f"  packed in {parent.level or '?'} {parent.code} ({parent.state})")
    if not trace.parents:
        print("  packed in nothing")
    print("  shipments: none recorded (the gateway records no shipping yet)")
    print(f"contents: {_count(trace.children)} codes")
    for child in trace.children:
        _print_node(child, "  ")
    print("history:")
    for entry in trace.history:
        move = f"  {entry.from_state} → {entry.to_state}" if entry.to_state else ""
        seq = f"seq {entry.seq}" if entry.seq is not None else "outside the journal"
        print(f"  {entry.at}  {entry.kind:<28} {seq}{move}")


def _count(nodes: list[CodeNode]) -> int:
    return sum(1 + _count(node.children) for node in nodes)


def _print_node(node: CodeNode, indent: str) -> None:
    print(f"{indent}{node.level or '?'} {node.code} ({node.state})")
    for child in node.children:
        _print_node(child, indent + "  ")
