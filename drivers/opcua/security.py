"""The trust list for server certificates and the choice of a server endpoint.

No silent trust: a secured connection uses a server certificate only if the very same
certificate (compared by SHA-256 fingerprint of its DER form) is on the trust list and is within
its validity period. The endpoint must offer exactly the policy and mode the settings ask for;
a server that offers less is refused, never used with weaker security.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from drivers.base import SecurityError, UsageError
from drivers.opcua.settings import OpcUaSettings, SecurityPolicy

POLICY_URIS: dict[SecurityPolicy, str] = {
    SecurityPolicy.NONE: "http://opcfoundation.org/UA/SecurityPolicy#None",
    SecurityPolicy.BASIC256SHA256: "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256",
    SecurityPolicy.AES256_SHA256_RSAPSS: (
        "http://opcfoundation.org/UA/SecurityPolicy#Aes256_Sha256_RsaPss"
    ),
}
_CERT_SUFFIXES = (".der", ".pem", ".crt", ".cer")


def load_certificate(path: Path) -> x509.Certificate:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UsageError(
            f"cannot read certificate {path}: {error.strerror}", hint="check the path"
        ) from error
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as error:
        raise UsageError(
            f"{path} is not an X.509 certificate", hint="give a DER or PEM certificate file"
        ) from error


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def first_certificate_of_chain(der_chain: bytes) -> bytes:
    """The leaf of a DER chain (servers may send the leaf followed by its issuers)."""
    if len(der_chain) < 4 or der_chain[0] != 0x30:
        return der_chain
    length_byte = der_chain[1]
    if length_byte < 0x80:
        return der_chain[: 2 + length_byte]
    count = length_byte & 0x7F
    length = int.from_bytes(der_chain[2 : 2 + count], "big")
    return der_chain[: 2 + count + length]


@dataclass(frozen=True, slots=True)
class TrustList:
    """Trusted server certificates by SHA-256 fingerprint of their DER encoding."""

    certificates: dict[str, x509.Certificate]

    @classmethod
    def from_paths(cls, paths: Iterable[Path]) -> TrustList:
        certs = [load_certificate(p) for p in paths]
        return cls({fingerprint(c.public_bytes(Encoding.DER)): c for c in certs})

    @classmethod
    def from_settings(cls, settings: OpcUaSettings) -> TrustList:
        paths = list(settings.trusted_server_certificates)
        directory = settings.trust_directory
        if directory is not None:
            if not directory.is_dir():
                raise UsageError(
                    f"trust directory {directory} does not exist",
                    device=settings.name,
                    hint="create it and put the trusted server certificates in it",
                )
            paths += sorted(p for p in directory.iterdir() if p.suffix.lower() in _CERT_SUFFIXES)
        return cls.from_paths(paths)

    def check(self, server_certificate_der: bytes, *, now: datetime | None = None) -> None:
        """Raise SecurityError unless this exact certificate is trusted and currently valid."""
        leaf = first_certificate_of_chain(server_certificate_der)
        print_ = fingerprint(leaf)
        cert = self.certificates.get(print_)
        if cert is None:
            subject = _subject(leaf)
            raise SecurityError(
                f"server certificate {subject} (sha256 {print_}) is not trusted",
                hint="if this is the right server, put its certificate in the trust list",
            )
        moment = now or datetime.now(UTC)
        if not cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
            raise SecurityError(
                f"trusted server certificate {cert.subject.rfc4514_string()} is outside its "
                f"validity ({cert.not_valid_before_utc:%Y-%m-%d} .. "
                f"{cert.not_valid_after_utc:%Y-%m-%d})",
                hint="renew the server certificate and update the trust list",
            )


@dataclass(frozen=True, slots=True)
class OfferedEndpoint:
    """One endpoint a server offers, in our own terms."""

    policy_uri: str
    mode: str
    server_certificate: bytes


def choose_endpoint(settings: OpcUaSettings, offered: Sequence[OfferedEndpoint]) -> OfferedEndpoint:
    """The endpoint with exactly the configured policy and mode, or SecurityError."""
    wanted_uri = POLICY_URIS[settings.policy]
    for endpoint in offered:
        if endpoint.policy_uri == wanted_uri and endpoint.mode == settings.mode.value:
            return endpoint
    offers = sorted({f"{e.policy_uri.rpartition('#')[2]}/{e.mode}" for e in offered})
    raise SecurityError(
        f"server offers no endpoint with {settings.policy.value}/{settings.mode.value} "
        f"(it offers {', '.join(offers) or 'nothing'})",
        device=settings.name,
        hint="configure the server for this policy, or change the policy in the site file; "
        "tracegate never falls back to weaker security",
    )


def _subject(der: bytes) -> str:
    try:
        return x509.load_der_x509_certificate(der).subject.rfc4514_string()
    except ValueError:
        return "<unparseable>"
