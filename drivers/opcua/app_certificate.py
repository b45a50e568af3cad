"""A self-signed OPC UA application certificate (OPC 10000-6 6.2.2): the application URI in the
subjectAltName, key usages for signing and encryption, both server and client authentication.
The gateway's server (`tracegate certs create`) and the PLC simulator make theirs with it."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def application_certificate(
    key: rsa.RSAPrivateKey,
    *,
    application_uri: str,
    common_name: str,
    not_before: datetime,
    valid_days: int,
    extra_names: Sequence[x509.GeneralName] = (),
) -> x509.Certificate:
    """Signed by `key`; names the URI, this host and localhost, then `extra_names`."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    alt_names: list[x509.GeneralName] = [
        x509.UniformResourceIdentifier(application_uri),
        x509.DNSName(socket.gethostname()),
        x509.DNSName("localhost"),
        *extra_names,
    ]
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=valid_days))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=True,
                data_encipherment=True,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
