"""Electronic signatures (R-SIG-1; 21 CFR 11.50, 11.70, 11.100, 11.200).

A signature carries the signer's printed name, the meaning and the UTC time, and the SHA-256 of
the exact record version signed (that version is stored with it). It is recorded by an audit
entry that repeats every field, so a signature moved to another record, copied, or left on a
record edited afterwards fails verification.

Which actions need signatures is configured per action: none, single, or dual. For a dual
signature the second signer must be someone else than the first (performer != verifier).
The first signature in a session needs user ID and password, later ones the password alone;
administrators never sign GMP records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, insert, select

from ebr.audit.chain import sha256_hex, utc_text
from ebr.audit.models import AuditEntry, SignatureRow
from ebr.audit.records import DEFAULT_LOADERS, RecordLoader, canonical_record
from ebr.audit.trail import AuditEvent, AuditTrail
from ebr.audit.verifier import SIGNATURE_EVENT, VerificationReport, verify_signatures
from ebr.errors import NotFoundError
from ebr.users import BUSINESS_ROLES, PermissionDeniedError, Role, Session, UserError, Users


class Requirement(StrEnum):
    NONE = "none"
    SINGLE = "single"
    DUAL = "dual"


class Meaning(StrEnum):
    AUTHORED = "authored"
    PERFORMED = "performed"
    REVIEWED = "reviewed"
    VERIFIED = "verified"
    APPROVED = "approved"
    RELEASED = "released"


MEANING_ROLES: Mapping[Meaning, frozenset[Role]] = {
    Meaning.RELEASED: frozenset({Role.QA}),
    Meaning.APPROVED: frozenset({Role.QA, Role.SUPERVISOR}),
}
"""Meanings reserved to some roles; every other meaning is open to all business roles."""

SIGNERS_NEEDED = {Requirement.SINGLE: 1, Requirement.DUAL: 2}


class SignatureError(UserError):
    pass


@dataclass(frozen=True, slots=True)
class SignatureInfo:
    id: int
    user_id: int
    username: str
    printed_name: str
    meaning: str
    action: str
    object_type: str
    object_id: str
    record_hash: str
    signed_at: str
    audit_seq: int


class ESignatures:
    def __init__(
        self,
        users: Users,
        trail: AuditTrail,
        requirements: Mapping[str, Requirement],
        *,
        loaders: Mapping[str, RecordLoader] = DEFAULT_LOADERS,
        signing_blocked: Callable[[], str | None] = lambda: None,
    ) -> None:
        """`signing_blocked` returns why signing is disabled now (e.g. the clock is out of
        tolerance), or None."""
        self._users = users
        self._trail = trail
        self._requirements = {action: Requirement(r) for action, r in requirements.items()}
        self._loaders = loaders
        self._signing_blocked = signing_blocked

    def requirement(self, action: str) -> Requirement:
        try:
            return self._requirements[action]
        except KeyError:
            raise SignatureError(
                f"no signature rule is configured for action {action!r}",
                hint="configure the action as none, single or dual",
            ) from None

    def sign(
        self,
        session: Session,
        *,
        action: str,
        object_type: str,
        object_id: str,
        meaning: Meaning,
        password: str,
        username: str | None = None,
    ) -> tuple[Session, SignatureInfo]:
        """Sign the record's current version. Returns the renewed session and the signature."""
        meaning = Meaning(meaning)
        requirement = self.requirement(action)
        if requirement is Requirement.NONE:
            raise SignatureError(
                f"action {action!r} is configured to need no signature",
                hint="change the configuration if it should be signed",
            )
        session = self._users.touch(session)
        self._check_signer(session, meaning, username, object_type, object_id)
        blocked = self._signing_blocked()
        if blocked:
            raise SignatureError(f"signing is disabled: {blocked}", hint="restore the clock sync")
        self._users.check_password(session.user_id, password)
        loader = self._loader(object_type)
        try:
            signature = self._insert(session, loader, action, object_type, str(object_id), meaning)
        except PermissionDeniedError as refused:
            self._refuse(session, object_type, object_id, refused.message)
            raise
        return self._users.mark_signed(session), signature

    def _insert(
        self,
        session: Session,
        loader: RecordLoader,
        action: str,
        object_type: str,
        object_id: str,
        meaning: Meaning,
    ) -> SignatureInfo:
        requirement = self.requirement(action)
        with self._trail.engine.begin() as conn:
            self._trail.record(conn, [])  # takes the append lock before reading signatures
            record = loader(conn, object_id)
            if record is None:
                raise NotFoundError(f"no {object_type} {object_id!r} to sign")
            text = canonical_record(record)
            digest = sha256_hex(text)
            self._check_step(conn, requirement, session, action, object_type, object_id, digest)
            values: dict[str, Any] = {
                "user_id": session.user_id,
                "username": session.username,
                "printed_name": session.full_name,
                "meaning": meaning.value,
                "action": action,
                "object_type": object_type,
                "object_id": str(object_id),
                "record_hash": digest,
                "signed_at": utc_text(self._trail.now()),
            }
            (seq,) = self._trail.record(
                conn,
                [
                    AuditEvent(
                        SIGNATURE_EVENT,
                        object_type,
                        str(object_id),
                        action="create",
                        new=values,
                        user_id=session.user_id,
                        username=session.username,
                    )
                ],
            )
            result = conn.execute(insert(SignatureRow).values(record=text, audit_seq=seq, **values))
            signature_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        return SignatureInfo(id=signature_id, audit_seq=seq, **values)

    def signatures(self, object_type: str, object_id: str) -> list[SignatureInfo]:
        with self._trail.engine.connect() as conn:
            return [
                _info(row)
                for row in conn.execute(
                    select(SignatureRow)
                    .where(
                        SignatureRow.object_type == object_type,
                        SignatureRow.object_id == str(object_id),
                    )
                    .order_by(SignatureRow.id)
                )
            ]

    def is_complete(self, action: str, object_type: str, object_id: str) -> bool:
        """True when the current record version carries the signatures its action needs, all
        of them valid."""
        needed = SIGNERS_NEEDED.get(self.requirement(action), 0)
        if self.verify(object_type, object_id).findings:
            return False
        return (
            len([s for s in self.signatures(object_type, object_id) if s.action == action])
            >= needed
        )

    def verify(self, object_type: str, object_id: str) -> VerificationReport:
        """Check every signature on the record against its audit entry and the record now."""
        report = VerificationReport()
        loader = self._loader(object_type)
        with self._trail.engine.connect() as conn:
            rows = [
                dict(row)
                for row in conn.execute(
                    select(SignatureRow.__table__).where(
                        SignatureRow.object_type == object_type,
                        SignatureRow.object_id == str(object_id),
                    )
                ).mappings()
            ]
            entries = {
                int(row["seq"]): dict(row)
                for row in conn.execute(
                    select(AuditEntry.__table__).where(
                        AuditEntry.event == SIGNATURE_EVENT,
                        AuditEntry.object_type == object_type,
                        AuditEntry.object_id == str(object_id),
                    )
                ).mappings()
            }
            for row in rows:
                if int(row["audit_seq"]) not in entries:
                    entry = (
                        conn.execute(
                            select(AuditEntry.__table__).where(AuditEntry.seq == row["audit_seq"])
                        )
                        .mappings()
                        .first()
                    )
                    if entry is not None:
                        entries[int(entry["seq"])] = dict(entry)
            current = loader(conn, str(object_id))
        records = [
            {
                "object_type": object_type,
                "object_id": str(object_id),
                "record": None if current is None else canonical_record(current),
            }
        ]
        verify_signatures(rows, entries, records, report)
        return report

    def _check_signer(
        self,
        session: Session,
        meaning: Meaning,
        username: str | None,
        object_type: str,
        object_id: str,
    ) -> None:
        if session.role is Role.ADMINISTRATOR or session.role not in BUSINESS_ROLES:
            self._refuse(session, object_type, object_id, "administrators cannot sign")
            raise PermissionDeniedError(
                f"{session.username} is an administrator; administrators cannot sign GMP records",
                hint="sign with a business account (operator, supervisor, QA or engineer)",
            )
        if not session.signed and not username:
            raise SignatureError(
                "the first signature of a session needs the user ID and the password",
                hint="enter your user ID as well",
            )
        if username is not None and username != session.username:
            self._refuse(session, object_type, object_id, f"tried to sign as {username!r}")
            raise PermissionDeniedError(
                f"{session.username} cannot sign as {username!r}",
                hint="each person signs under their own account (no one signs for another)",
            )
        allowed = MEANING_ROLES.get(meaning, BUSINESS_ROLES)
        if session.role not in allowed:
            raise PermissionDeniedError(
                f"a {session.role.value} cannot sign as {meaning.value}",
                hint=f"{meaning.value} is signed by: "
                + ", ".join(sorted(r.value for r in allowed)),
            )

    def _check_step(
        self,
        conn: Connection,
        requirement: Requirement,
        session: Session,
        action: str,
        object_type: str,
        object_id: str,
        digest: str,
    ) -> None:
        earlier = conn.execute(
            select(SignatureRow.user_id, SignatureRow.username).where(
                SignatureRow.action == action,
                SignatureRow.object_type == object_type,
                SignatureRow.object_id == str(object_id),
                SignatureRow.record_hash == digest,
            )
        ).all()
        if any(row.user_id == session.user_id for row in earlier):
            raise PermissionDeniedError(
                f"{session.username} has already signed {action} on this version of "
                f"{object_type} {object_id}",
                hint="the second signature must come from another person "
                "(performer and verifier differ)",
            )
        if len(earlier) >= SIGNERS_NEEDED[requirement]:
            raise SignatureError(
                f"{action} on {object_type} {object_id} already has its "
                f"{SIGNERS_NEEDED[requirement]} signature(s)",
                hint="nothing more to sign",
            )

    def _refuse(self, session: Session, object_type: str, object_id: str, why: str) -> None:
        self._trail.append(
            [
                AuditEvent(
                    "signature_refused",
                    object_type,
                    str(object_id),
                    action="access",
                    new={"why": why},
                    user_id=session.user_id,
                    username=session.username,
                )
            ]
        )

    def _loader(self, object_type: str) -> RecordLoader:
        try:
            return self._loaders[object_type]
        except KeyError:
            raise SignatureError(
                f"records of type {object_type!r} cannot be signed",
                hint="register a record loader for the type",
            ) from None


def _info(row: Any) -> SignatureInfo:
    return SignatureInfo(
        row.id,
        row.user_id,
        row.username,
        row.printed_name,
        row.meaning,
        row.action,
        row.object_type,
        row.object_id,
        row.record_hash,
        row.signed_at,
        row.audit_seq,
    )
