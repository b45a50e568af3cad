"""The OPC UA server's certificate and its client trust lists, as `tracegate certs` shows and
changes them; trusting or rejecting a client is recorded in the audit trail in the same
transaction as the file move (a failed move records nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from config import SiteConfig
from ebr.audit.trail import AuditEvent, AuditTrail
from ebr.users import Session
from gateway.opcua_server.certificates import (
    CertificateStoreError,
    describe,
    move_certificate,
    read_certificate,
)
from gateway.opcua_server.certificates import certificate_files as files_in
from gateway.opcua_server.settings import ServerNotConfiguredError, settings_from_config


class TrustListError(Exception):
    def __init__(self, what: str, *, where: str, fix: str) -> None:
        super().__init__(what)
        self.what = what
        self.where = where
        self.fix = fix


@dataclass(frozen=True, slots=True)
class CertificateRow:
    state: str
    """server, trusted or rejected."""
    file: str
    subject: str
    thumbprint: str
    not_before: datetime
    not_after: datetime
    application_uri: str | None
    expired: bool


@dataclass(frozen=True, slots=True)
class TrustFolders:
    certificate: Path
    trust_dir: Path
    rejected_dir: Path


def trust_folders(site: SiteConfig) -> TrustFolders:
    try:
        settings = settings_from_config(site)
    except ServerNotConfiguredError as error:
        raise TrustListError(
            error.message, where="site file: opcua_server", fix=error.hint or "configure it"
        ) from None
    assert settings.certificate is not None
    assert settings.trust_dir is not None
    assert settings.rejected_dir is not None
    return TrustFolders(settings.certificate, settings.trust_dir, settings.rejected_dir)


def certificate_rows(folders: TrustFolders) -> list[CertificateRow]:
    found = [(folders.certificate, "server")] if folders.certificate.is_file() else []
    found += [(path, "trusted") for path in files_in(folders.trust_dir)]
    found += [(path, "rejected") for path in files_in(folders.rejected_dir)]
    rows = []
    for path, state in found:
        try:
            info = describe(path, state)
            not_before = read_certificate(path).not_valid_before_utc
        except CertificateStoreError as error:
            raise TrustListError(
                error.message, where=str(path), fix=error.hint or "remove or replace the file"
            ) from None
        rows.append(
            CertificateRow(
                state,
                path.name,
                info.subject,
                info.thumbprint,
                not_before,
                info.not_after,
                info.application_uri,
                info.expired,
            )
        )
    return rows


def change_trust(
    folders: TrustFolders,
    trail: AuditTrail,
    signer: Session,
    file_name: str,
    *,
    trust: bool,
    reason: str,
) -> Path:
    """Move the certificate `file_name` to the trusted (or rejected) folder, audited."""
    source, target = (
        (folders.rejected_dir, folders.trust_dir)
        if trust
        else (folders.trust_dir, folders.rejected_dir)
    )
    verb, state = ("trust", "trusted") if trust else ("reject", "rejected")
    where = f"{source / file_name}"
    if not reason.strip():
        raise TrustListError(
            f"a reason is needed to {verb} a certificate",
            where="the reason field",
            fix=f"say why the client is {state}, e.g. the MES server's new certificate",
        )
    if not file_name or "/" in file_name or file_name not in {p.name for p in files_in(source)}:
        raise TrustListError(
            f"no certificate {file_name!r} among the {'rejected' if trust else 'trusted'} ones",
            where=where,
            fix="reload the certificate list and pick one from it",
        )
    info = describe(source / file_name, "rejected" if trust else "trusted")
    event = AuditEvent(
        f"opcua_client_certificate_{state}",
        "opcua_client_certificate",
        info.thumbprint,
        action="modify",
        old={"state": info.state, "file": file_name, "subject": info.subject},
        new={"state": state, "subject": info.subject},
        reason=reason.strip(),
        user_id=signer.user_id,
        username=signer.username,
    )
    try:
        with trail.engine.begin() as conn:
            trail.record(conn, [event])
            return move_certificate(file_name, source, target, verb=verb)
    except CertificateStoreError as error:
        fix = error.hint or "check the trust folders"
        raise TrustListError(error.message, where=where, fix=fix) from None
