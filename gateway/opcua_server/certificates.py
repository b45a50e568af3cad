"""The server's application certificate and the client trust list, as files.

- The server certificate is self-signed, with the application URI and the endpoint's host in
  its subjectAltName (OPC UA Part 6 §6.2.2); its key is PEM, readable by its owner only.
- `trust_dir` holds the client certificates the server accepts (DER), `rejected_dir` those it
  refused; trusting is moving a file from one to the other, so an administrator can do the same
  with a file manager. A certificate is named by its thumbprint: the SHA-256 of its DER form.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from drivers.opcua.app_certificate import application_certificate

CERTIFICATE_SUFFIXES: Final = (".der", ".pem", ".crt", ".cer")
MIN_SELECTOR: Final = 8
"""Hex digits of a thumbprint enough to name a certificate on the command line."""


class CertificateStoreError(Exception):
    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    path: Path
    state: str
    """server, trusted or rejected."""
    subject: str
    thumbprint: str
    not_after: datetime
    application_uri: str | None

    @property
    def expired(self) -> bool:
        return self.not_after < datetime.now(UTC)


def thumbprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def read_certificate(path: Path) -> x509.Certificate:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CertificateStoreError(
            f"cannot read certificate {path}: {error.strerror}", hint="check the path"
        ) from None
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise CertificateStoreError(
            f"{path} is not an X.509 certificate", hint="give a DER or PEM certificate file"
        ) from None


def application_uri(certificate: x509.Certificate) -> str | None:
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return None
    uris = san.value.get_values_for_type(x509.UniformResourceIdentifier)
    return uris[0] if uris else None


def certificate_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix.lower() in CERTIFICATE_SUFFIXES)


def describe(path: Path, state: str) -> CertificateInfo:
    certificate = read_certificate(path)
    return CertificateInfo(
        path=path,
        state=state,
        subject=certificate.subject.rfc4514_string(),
        thumbprint=thumbprint(certificate),
        not_after=certificate.not_valid_after_utc,
        application_uri=application_uri(certificate),
    )


def list_certificates(
    server_certificate: Path, trust_dir: Path, rejected_dir: Path
) -> list[CertificateInfo]:
    found = [describe(server_certificate, "server")] if server_certificate.is_file() else []
    found += [describe(p, "trusted") for p in certificate_files(trust_dir)]
    found += [describe(p, "rejected") for p in certificate_files(rejected_dir)]
    return found


def file_name(certificate: x509.Certificate) -> str:
    """`<common name> [<first 16 thumbprint digits>].der`, safe on every file system."""
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    common = str(names[0].value) if names else "certificate"
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", common).strip("._") or "certificate"
    return f"{safe} [{thumbprint(certificate)[:16]}].der"


def write_rejected(certificate: x509.Certificate, rejected_dir: Path) -> Path:
    """Keep a refused client certificate where `tracegate certs trust` finds it."""
    rejected_dir.mkdir(parents=True, exist_ok=True)
    path = rejected_dir / file_name(certificate)
    if not path.exists():
        path.write_bytes(certificate.public_bytes(serialization.Encoding.DER))
    return path


def move_certificate(selector: str, source: Path, target: Path, *, verb: str) -> Path:
    """Move the one certificate of `source` named by `selector` (a file name, or at least
    eight leading hex digits of its thumbprint) into `target`; the new path."""
    chosen = _select(selector, source, verb=verb)
    certificate = read_certificate(chosen)
    target.mkdir(parents=True, exist_ok=True)
    destination = target / file_name(certificate)
    destination.write_bytes(certificate.public_bytes(serialization.Encoding.DER))
    chosen.unlink()
    return destination


def _select(selector: str, directory: Path, *, verb: str) -> Path:
    files = certificate_files(directory)
    by_name = [p for p in files if p.name == selector]
    if by_name:
        return by_name[0]
    prefix = selector.lower()
    if len(prefix) < MIN_SELECTOR or not re.fullmatch(r"[0-9a-f]+", prefix):
        raise CertificateStoreError(
            f"{selector!r} names no certificate file in {directory}",
            hint=f"give the file name or at least {MIN_SELECTOR} hex digits of the thumbprint "
            "shown by `tracegate certs list`",
        )
    matches = [p for p in files if thumbprint(read_certificate(p)).startswith(prefix)]
    if len(matches) != 1:
        where = "no certificate" if not matches else f"{len(matches)} certificates"
        raise CertificateStoreError(
            f"{where} in {directory} with a thumbprint starting {prefix}",
            hint=f"list them with `tracegate certs list` and give more digits to {verb} one",
        )
    return matches[0]


def create_server_certificate(
    certificate_path: Path,
    key_path: Path,
    *,
    application_uri: str,
    host: str,
    common_name: str,
    valid_days: int = 825,
) -> CertificateInfo:
    """A new self-signed application certificate and its key; never over existing files."""
    for path in (certificate_path, key_path):
        if path.exists():
            raise CertificateStoreError(
                f"{path} exists already",
                hint="clients trust the current certificate; move it away first to replace it",
            )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    extra_names: list[x509.GeneralName] = []
    try:
        address = ipaddress.ip_address(host)
        if not address.is_unspecified:
            extra_names.append(x509.IPAddress(address))
    except ValueError:
        if host not in ("localhost", socket.gethostname()):
            extra_names.append(x509.DNSName(host))
    certificate = application_certificate(
        key,
        application_uri=application_uri,
        common_name=common_name,
        not_before=datetime.now(UTC) - timedelta(minutes=5),
        valid_days=valid_days,
        extra_names=extra_names,
    )
    key_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    certificate_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.DER))
    return describe(certificate_path, "server")
