"""Self-signed OPC UA application certificates for the simulator and for tests.

Written into a directory the caller owns (a temporary one in tests); key material is never
part of the repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from drivers.opcua.app_certificate import application_certificate


@dataclass(frozen=True, slots=True)
class CertificatePair:
    certificate: Path
    """DER encoded."""
    private_key: Path
    """PEM encoded, unencrypted."""


def make_self_signed(
    directory: Path,
    stem: str,
    *,
    application_uri: str,
    common_name: str | None = None,
    valid_days: int = 365,
    not_before: datetime | None = None,
) -> CertificatePair:
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = application_certificate(
        key,
        application_uri=application_uri,
        common_name=common_name or stem,
        not_before=not_before or datetime.now(UTC) - timedelta(minutes=5),
        valid_days=valid_days,
    )
    cert_path = directory / f"{stem}.der"
    key_path = directory / f"{stem}.key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return CertificatePair(cert_path, key_path)
