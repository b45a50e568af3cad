"""A site file for the doctor tests, on the test's database, and planted faults."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine, update

from ebr.journal import EventKind
from ebr.models import JournalEventRow
from gateway.doctor import DoctorOptions, Status, Verdict
from tests.ebr.audit.audit_fixtures import behind_the_triggers
from tests.ebr.journal.journal_fixtures import Line, make_line

SITE = """\
site:
  id: doctor
  company_name: 示例制药有限公司
  uscc: 91110105MA01TG8P53
  gs1_company_prefix: "9501101"
  timezone: Asia/Shanghai
database:
  url: "{url}"
coding_rules:
  - id: unit
    scheme: gs1
    ais: ["01", "21"]
    serial: {{generator: csprng, alphabet: digits, length: 12, planned_volume: 10_000_000}}
products:
  - id: product-1
    name: Product 1
    gtin: "09501101530003"
    levels: [{{level: unit, coding_rule: unit}}]
lines:
  - id: line-1
    name: Line 1
    products: [product-1]
{extra}"""

SECURED_SERVER = """\
opcua_server:
  endpoint: opc.tcp://127.0.0.1:4840
  certificate: pki/server.der
  private_key: pki/server.key.pem
"""

CALM = DoctorOptions(
    disk_warn_percent=0,
    disk_fail_percent=0,
    disk_fail_bytes=0,
    reference_clocks=[("test reference", lambda: 0.0)],
)
"""Nothing from outside the test: the host's free space and clock do not decide the result."""


def calm(**options: Any) -> DoctorOptions:
    """`CALM` with some options changed."""
    return replace(CALM, **options)


def write_site(folder: Path, engine: Engine | str, extra: str = "") -> Path:
    url = engine if isinstance(engine, str) else engine.url.render_as_string(hide_password=False)
    path = folder / "site.yaml"
    path.write_text(SITE.format(url=url, extra=extra), encoding="utf-8")
    return path


def run_a_batch(engine: Engine) -> Line:
    line = make_line(engine)
    line.accept(*line.units[:3])
    line.ok(line.event(EventKind.UNIT_ISSUED, line.units[3]))
    return line


def tamper_journal_row(engine: Engine, batch: int, seq: int) -> None:
    """What an attacker with database rights does: bypass the append-only triggers, edit."""
    with behind_the_triggers(engine) as conn:
        conn.execute(
            update(JournalEventRow)
            .where(JournalEventRow.batch_id == batch, JournalEventRow.seq == seq)
            .values(data='{"forged": true}')
        )


def write_certificate(path: Path, not_before: datetime, not_after: datetime) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tracegate doctor test")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(certificate.public_bytes(serialization.Encoding.DER))


def expired_certificate(path: Path) -> None:
    now = datetime.now(UTC)
    write_certificate(path, now - timedelta(days=400), now - timedelta(days=2))


def by_item(verdicts: list[Verdict]) -> dict[str, Verdict]:
    return {verdict.item: verdict for verdict in verdicts}


def statuses(verdicts: list[Verdict]) -> dict[str, Status]:
    return {verdict.item: verdict.status for verdict in verdicts}
