"""The OPC UA server's application certificate: present when needed, not expired, not about to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from gateway.doctor.context import DoctorContext
from gateway.doctor.verdict import Status, Verdict
from gateway.opcua_server.certificates import CertificateStoreError, read_certificate
from gateway.opcua_server.settings import settings_from_config

ITEM = "certificate"


def check_certificate(
    context: DoctorContext, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> Verdict:
    config = context.config
    if config is None:
        return Verdict(ITEM, Status.SKIP, "not checked: the site file does not load")
    if config.opcua_server is None:
        return Verdict(ITEM, Status.OK, "no OPC UA server configured: no certificate needed")
    settings = settings_from_config(config)
    path = settings.certificate
    assert path is not None
    renew = (
        f"run `tracegate certs create --config {context.config_path}` "
        "and give the MES the new thumbprint"
    )
    if not path.is_file():
        if settings.secured:
            return Verdict(
                ITEM,
                Status.FAIL,
                "the OPC UA server certificate is missing: its secured endpoints cannot start",
                str(path),
                renew,
            )
        return Verdict(ITEM, Status.OK, "the OPC UA server has no secured endpoint: none needed")
    try:
        certificate = read_certificate(path)
    except CertificateStoreError as error:
        return Verdict(ITEM, Status.FAIL, error.message, str(path), renew)
    not_after = certificate.not_valid_after_utc
    left = not_after - now()
    until = f"valid until {not_after:%Y-%m-%d %H:%M} UTC"
    if left.total_seconds() <= 0:
        return Verdict(
            ITEM,
            Status.FAIL,
            f"the OPC UA server certificate expired on {not_after:%Y-%m-%d}: clients refuse it",
            str(path),
            renew,
        )
    if left.days < context.options.certificate_warn_days:
        return Verdict(
            ITEM,
            Status.WARN,
            f"the OPC UA server certificate expires in {left.days} day(s) ({until})",
            str(path),
            renew,
        )
    return Verdict(ITEM, Status.OK, f"the OPC UA server certificate is {until}", str(path))
