"""Benchmark: the MES pulling records from the gateway's OPC UA server.

The demo site in a temporary folder (SQLite), one batch of `--units` units commissioned through
the journal (issued and accepted, in big transactions), the gateway's OPC UA server on a free
loopback port, a real asyncua client logged on with an engineer account:

- the whole batch pulled with GetRecords pages of 10,000 and acknowledged page by page, over
  security None and over Basic256Sha256/SignAndEncrypt: records per second, and the time a
  100,000-unit batch takes (`batch_100k_s`, scaled from `--units` when it is not 100,000);
- method-call latency: GetRecords of one record (p50 / p99 of `--calls` calls);
- the baseline, in the same run: plain asyncua reads of one variable (Site.SiteId) per second.

Prints one JSON object; progress goes to stderr.
Usage: python bench/opcua.py [--quick] [--units N] [--calls N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from asyncua import Client, ua

from ebr.allocation import CodeAllocator
from ebr.journal import EventKind, Journal, JournalEvent, JournalRejectedError
from ebr.users import Role, Users
from gateway.line.testbed import SimulatedSite, open_simulated_site, write_demo_site
from gateway.opcua_server import GatewayOpcUaServer, ServerSettings, site_model_from_config
from gateway.opcua_server.certificates import create_server_certificate
from simulators.line_plc.certs import make_self_signed
from simulators.ports import free_port

OPERATOR = "bench.operator"
PASSWORD = "Bench-admin-2026-pull"
"""The site's operator; its administrator `bench.operator.admin` has the same password."""
MES = "bench.mes"
MES_PASSWORD = "Bench-records-2026-x"
CLIENT_URI = "urn:tracegate:bench:mes"
PAGE = 10_000
BATCH = 100_000


def progress(message: str) -> None:
    print(f"[bench/opcua {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def prepare(folder: Path, units: int) -> tuple[SimulatedSite, int]:
    site = open_simulated_site(
        write_demo_site(folder / "site"),
        operator=OPERATOR,
        password=PASSWORD,
        full_name="Bench operator",
    )
    users = Users(site.store.audit)
    admin = users.login(f"{OPERATOR}.admin", PASSWORD)
    users.create(admin, username=MES, full_name="MES", role=Role.ENGINEER, password=MES_PASSWORD)
    users.change_password(MES, MES_PASSWORD, MES_PASSWORD + "y")
    batch = site.new_batch("B")
    engine = site.store.engine
    allocator = CodeAllocator(engine, master_key=site.store.master_key)
    keys = [c.key for c in allocator.allocate(site.line.id, batch, units)]
    journal = Journal(engine)
    for start in range(0, units, 25_000):
        part = keys[start : start + 25_000]
        results = journal.append_many(
            [JournalEvent(batch, EventKind.UNIT_ISSUED, code_key=k) for k in part]
            + [JournalEvent(batch, EventKind.UNIT_ACCEPTED, code_key=k) for k in part]
        )
        refused = [r for r in results if isinstance(r, JournalRejectedError)]
        if refused:
            raise RuntimeError(f"the journal refused the bench's events: {refused[0]}")
    return site, batch


@contextlib.asynccontextmanager
async def client(
    endpoint: str, namespace: str, security: str | None = None
) -> AsyncIterator[tuple[Client, int]]:
    session = Client(endpoint, timeout=60)
    session.application_uri = CLIENT_URI
    session.set_user(MES)
    session.set_password(MES_PASSWORD + "y")
    if security is not None:
        await session.set_security_string(security)
    async with session:
        yield session, await session.get_namespace_index(namespace)


async def call(session: Client, ns: int, method: str, *args: ua.Variant) -> list[Any]:
    request = ua.CallMethodRequest(
        ObjectId=ua.NodeId("Site.Records", ns),
        MethodId=ua.NodeId(f"Site.Records.{method}", ns),
        InputArguments=list(args),
    )
    (result,) = await session.uaclient.call([request])
    result.StatusCode.check()
    return [v.Value for v in result.OutputArguments]


async def pull_all(session: Client, ns: int, consumer: str) -> tuple[int, float]:
    """Every record, acknowledged page by page as `consumer`: count, seconds."""
    count = 0
    since = 0
    started = time.perf_counter()
    more = True
    while more:
        records, last, more = await call(
            session,
            ns,
            "GetRecords",
            ua.Variant(since, ua.VariantType.Int64),
            ua.Variant(PAGE, ua.VariantType.UInt32),
        )
        since = last
        count += len(records or [])
        await call(
            session,
            ns,
            "Acknowledge",
            ua.Variant(consumer, ua.VariantType.String),
            ua.Variant(last, ua.VariantType.Int64),
        )
    return count, time.perf_counter() - started


async def latency(session: Client, ns: int, calls: int) -> dict[str, float]:
    _records, first, _more = await call(
        session,
        ns,
        "GetRecords",
        ua.Variant(0, ua.VariantType.Int64),
        ua.Variant(1, ua.VariantType.UInt32),
    )
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        await call(
            session,
            ns,
            "GetRecords",
            ua.Variant(first - 1, ua.VariantType.Int64),
            ua.Variant(1, ua.VariantType.UInt32),
        )
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "p50": round(statistics.median(times), 2),
        "p99": round(times[min(len(times) - 1, int(len(times) * 0.99))], 2),
    }


async def reads_per_s(session: Client, ns: int, seconds: float) -> float:
    node = session.get_node(ua.NodeId("Site.SiteId", ns))
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        await node.read_value()
        count += 1
    return count / (time.perf_counter() - started)


async def measure(site: SimulatedSite, folder: Path, units: int, calls: int) -> dict[str, Any]:
    pki = folder / "pki"
    port = free_port()
    settings = ServerSettings(
        site_id=site.config.site.id,
        endpoint=f"opc.tcp://127.0.0.1:{port}",
        security=(("None", "None"), ("Basic256Sha256", "SignAndEncrypt")),
        certificate=pki / "server.der",
        private_key=pki / "server.key.pem",
        trust_dir=pki / "trusted",
        rejected_dir=pki / "rejected",
    )
    assert settings.certificate is not None
    assert settings.private_key is not None
    create_server_certificate(
        settings.certificate,
        settings.private_key,
        application_uri=settings.application_uri,
        host="127.0.0.1",
        common_name="bench",
    )
    pair = make_self_signed(folder / "client", "mes", application_uri=CLIENT_URI)
    (pki / "trusted").mkdir(parents=True, exist_ok=True)
    (pki / "trusted" / "mes.der").write_bytes(pair.certificate.read_bytes())
    users = Users(site.store.audit)
    server = GatewayOpcUaServer(
        settings, site_model_from_config(site.config), site.store.engine, users
    )
    secure = f"Basic256Sha256,SignAndEncrypt,{pair.certificate},{pair.private_key}"
    report: dict[str, Any] = {}
    async with server:
        async with client(server.endpoint, settings.namespace_uri) as (session, ns):
            progress(f"pulling {units} records, security None")
            count, seconds = await pull_all(session, ns, "bench-none")
            assert count == units, (count, units)
            report["records_per_s"] = round(count / seconds)
            report["batch_100k_s"] = round(seconds * BATCH / units, 2)
            progress(f"{count} records in {seconds:.2f} s; method-call latency")
            report["call_latency_ms"] = await latency(session, ns, calls)
            progress("baseline: plain reads")
            report["baseline_reads_per_s"] = round(await reads_per_s(session, ns, 2.0))
        async with client(server.endpoint, settings.namespace_uri, secure) as (session, ns):
            progress(f"pulling {units} records, Basic256Sha256/SignAndEncrypt")
            count, seconds = await pull_all(session, ns, "bench-secure")
            assert count == units, (count, units)
            report["records_per_s_sign_and_encrypt"] = round(count / seconds)
            report["batch_100k_s_sign_and_encrypt"] = round(seconds * BATCH / units, 2)
            report["call_latency_ms_sign_and_encrypt"] = await latency(session, ns, calls)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="10,000 units, 50 calls")
    parser.add_argument("--units", type=int, default=BATCH, help="units in the batch")
    parser.add_argument("--calls", type=int, default=500, help="calls timed for the latency")
    args = parser.parse_args(argv)
    units, calls = (10_000, 50) if args.quick else (args.units, args.calls)
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="bench-opcua-") as temp:
        folder = Path(temp)
        progress(f"preparing a batch of {units} units (SQLite)")
        started = time.perf_counter()
        site, _batch = prepare(folder, units)
        progress(f"prepared in {time.perf_counter() - started:.1f} s")
        try:
            measured = asyncio.run(measure(site, folder, units, calls))
        finally:
            site.store.close()
    report = {
        **measured,
        "units": units,
        "page": PAGE,
        "database": "sqlite",
        "python": platform.python_version(),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
