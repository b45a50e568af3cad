"""`tracegate demo`: a whole simulated line running a batch, on a demo site and SQLite.

First the codes of every scheme are shown (a site file, a SQLite store, a serial key, codes
issued by the simulated NMPA platform imported, each batch's codes durable as Allocated before
they are printed here); then, unless `--codes-only`, the simulated line runs a batch of the GS1
product through the gateway's line runtime (`gateway/commands/demo_line.py`).
"""

from __future__ import annotations

import argparse
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypedDict

from sqlalchemy import func, select

from ebr.allocation import CodeAllocator
from ebr.catalog import create_batch, find_batch
from ebr.imports import CodeImporter
from ebr.models import Code
from gateway.codes_output import OutputFormat, formatter
from gateway.commands.common import load_config
from gateway.commands.demo_line import DEMO_HMI, run_line_demo
from gateway.line.demo_devices import UNIT_DEVICES, UnitDevices
from gateway.line.testbed import write_demo_site
from gateway.site_store import SiteStore, open_site_store
from serialization.codes import SchemeName
from serialization.states import CodeState


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "demo",
        help="run the demo site: codes of every scheme, then a simulated line running a batch",
    )
    parser.add_argument("--dir", type=Path, default=Path("var/demo"), help="where the demo lives")
    parser.add_argument("--count", type=int, default=3, help="unit codes shown per product")
    parser.add_argument("--units", type=int, default=300, help="units of the line's batch")
    parser.add_argument("--rate", type=float, default=600.0, metavar="UPM", help="units/min")
    parser.add_argument(
        "--defects",
        type=float,
        default=0.03,
        metavar="F",
        help="fraction of units printed badly (a quarter as many camera faults come on top)",
    )
    parser.add_argument(
        "--hmi",
        default=DEMO_HMI,
        metavar="HOST:PORT",
        help=f"serve the operator's HMI here while the line runs (default {DEMO_HMI})",
    )
    parser.add_argument("--no-hmi", action="store_true", help="do not serve the HMI")
    parser.add_argument(
        "--headless",
        action="store_true",
        help="end when the batch is done (without it the HMI keeps serving until Ctrl-C)",
    )
    parser.add_argument("--report", type=Path, help="JSON report (default: DIR/report.json)")
    parser.add_argument(
        "--codes-only", action="store_true", help="show the codes, do not run the line"
    )
    parser.add_argument(
        "--secure",
        action="store_true",
        help="OPC UA with Basic256Sha256/SignAndEncrypt and certificate trust (made in DIR/pki)",
    )
    parser.add_argument(
        "--unit-devices",
        choices=UNIT_DEVICES,
        default="tcp",
        help="how the unit printer and camera are reached: tcp (default), opcua (both), or "
        "modbus (the printer)",
    )
    parser.set_defaults(run=run)


class SiteOptions(TypedDict, total=False):
    secure: bool
    unit_devices: UnitDevices


def site_options(args: argparse.Namespace) -> SiteOptions:
    """What differs from the shipped demo site: security and the unit devices' transport."""
    options = SiteOptions()
    if args.secure:
        options["secure"] = True
    if args.unit_devices != "tcp":
        options["unit_devices"] = args.unit_devices
    return options


def issue_nmpa_codes(store: SiteStore, directory: Path, count: int) -> Path | None:
    """Simulate the platform issuing 20-digit codes to the plant, and import them.

    The real check digits come from the issuer's unpublished algorithm; here they are random,
    which the gateway accepts since it treats the codes as opaque.
    """
    products = [p for p in store.config.products if p.nmpa_drug_id]
    if not products:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = directory / f"nmpa-issued-{stamp}.csv"
    rows = ["product,code"]
    for product in products:
        serials = {f"{secrets.randbelow(10**9):09d}" for _ in range(count * 2)}
        rows += [
            f"{product.id},{product.nmpa_drug_id}{serial}{secrets.randbelow(10**4):04d}"
            for serial in sorted(serials)[:count]
        ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    CodeImporter(store.engine, audit=store.audit).import_file(path)
    return path


def demo_lot(stamp: datetime) -> str:
    """A lot number unique per run and short enough for every demo format (D + base 36)."""
    value, digits = int(stamp.timestamp()), ""
    while value:
        value, digit = divmod(value, 36)
        digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[digit] + digits
    return "D" + digits


def unused_demo_lot(store: SiteStore, product_id: str, stamp: datetime) -> str:
    lot = demo_lot(stamp)
    while find_batch(store.engine, product_id, lot) is not None:
        stamp += timedelta(seconds=1)
        lot = demo_lot(stamp)
    return lot


def run(args: argparse.Namespace) -> int:
    directory: Path = args.dir
    site_file = write_demo_site(directory, free_ports=False, **site_options(args))
    config = load_config(site_file)
    store = open_site_store(config)
    try:
        issued = issue_nmpa_codes(store, directory, args.count + 1)
        line = config.lines[0]
        stamp = datetime.now(UTC)
        print(f"tracegate demo — site {config.site.id}, line {line.id}")
        print(f"  site file  {site_file}")
        print(f"  database   {config.database_url}")
        if issued:
            print(f"  imported   {issued.name} (codes issued by the simulated NMPA platform)")
        allocator = CodeAllocator(store.engine, master_key=store.master_key, audit=store.audit)
        for product_id in line.products:
            master = config.product_master(product_id)
            lot = unused_demo_lot(store, product_id, stamp)
            try:
                expiry = config.expiry_for(product_id, stamp.date())
            except LookupError:
                expiry = None
            batch = create_batch(
                store.engine,
                product_id=product_id,
                line_id=line.id,
                lot=lot,
                expiry=expiry,
                production_date=stamp.date(),
                audit=store.audit,
            )
            print(f"\n{master.name}\n  product {product_id}, batch {batch}, lot {lot}")
            for level, rule, _quantity in config.levels_of(product_id):
                count = args.count if level.value == "unit" else 1
                codes = allocator.allocate(line.id, batch, count, level=level)
                gs1 = rule.scheme in (SchemeName.GS1, SchemeName.SSCC)
                forms = [OutputFormat.HRI] + ([OutputFormat.DL, OutputFormat.EPC] if gs1 else [])
                printers = [(f.value, formatter(f, rule.scheme, master)) for f in forms]
                print(f"  {level.value} codes ({rule.id}, {rule.scheme.value}):")
                for code in codes:
                    for name, to_text in printers:
                        print(f"    {name:<4} {to_text(code)}")
        with store.engine.connect() as conn:
            counts = dict(conn.execute(select(Code.state, func.count()).group_by(Code.state)).all())
        summary = ", ".join(f"{CodeState(s).label} {n}" for s, n in sorted(counts.items()))
        print(f"\ncodes in the store: {summary}")
        status = 0 if args.codes_only else run_line_demo(store, site_file, directory, args)
        if config.audit_key_path is not None and config.audit_key_path.exists():
            sealed = store.audit.checkpoint()
            if sealed is not None:
                print(f"audit trail: signed checkpoint {sealed} covers every entry so far")
        if status:
            return status
        print(f"try: tracegate codes parse '<code>' --config {site_file}")
        print(f"     tracegate audit verify --config {site_file}")
    finally:
        store.close()
    return 0
