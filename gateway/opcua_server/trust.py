"""Which client applications may open a session: the trust list in `trust_dir`.

asyncua accepts any client certificate unless a validator is set. This one accepts a
certificate only if the very same certificate (by SHA-256 of its DER form) is in `trust_dir`,
is within its validity period and names the client's application URI; an unknown one is
written to `rejected_dir`, where `tracegate certs trust` finds it. The folder is read at every
session, so trusting a client needs no restart.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from asyncua import ua
from asyncua.common.utils import ServiceError
from asyncua.ua.status_codes import StatusCodes
from cryptography import x509

from gateway.opcua_server.certificates import (
    CertificateStoreError,
    application_uri,
    certificate_files,
    read_certificate,
    thumbprint,
    write_rejected,
)

log = logging.getLogger("tracegate.opcua_server.trust")


class ClientTrust:
    def __init__(self, trust_dir: Path, rejected_dir: Path) -> None:
        self.trust_dir = trust_dir
        self.rejected_dir = rejected_dir

    def trusted_thumbprints(self) -> set[str]:
        found = set()
        for path in certificate_files(self.trust_dir):
            try:
                found.add(thumbprint(read_certificate(path)))
            except CertificateStoreError as error:
                log.warning("ignoring %s in the trust list: %s", path, error)
        return found

    async def __call__(
        self, certificate: x509.Certificate, description: ua.ApplicationDescription
    ) -> None:
        print_ = thumbprint(certificate)
        subject = certificate.subject.rfc4514_string()
        if print_ not in self.trusted_thumbprints():
            path = write_rejected(certificate, self.rejected_dir)
            log.warning(
                "client certificate %s (sha256 %s) is not trusted; kept as %s for "
                "`tracegate certs trust`",
                subject,
                print_,
                path,
            )
            raise ServiceError(StatusCodes.BadCertificateUntrusted)
        now = datetime.now(UTC)
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            log.warning("trusted client certificate %s is outside its validity", subject)
            raise ServiceError(StatusCodes.BadCertificateTimeInvalid)
        if application_uri(certificate) != description.ApplicationUri:
            log.warning(
                "client certificate %s names %s, the client says it is %s",
                subject,
                application_uri(certificate),
                description.ApplicationUri,
            )
            raise ServiceError(StatusCodes.BadCertificateUriInvalid)
