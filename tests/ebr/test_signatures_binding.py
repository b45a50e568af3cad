"""E-signatures (R-SIG-1, Part 11 11.50, 11.70, 11.200) on SQLite and PostgreSQL: bound to the
exact record version, not movable or copyable, never by an administrator, never for someone
else, and the two signatures of a dual step from two different people."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from ebr.audit.bundle import verify_database
from ebr.signatures import ESignatures, Meaning, Requirement, SignatureError
from ebr.users import AuthenticationError, PermissionDeniedError, Role, SessionExpiredError
from tests.ebr.audit.audit_fixtures import behind_the_triggers
from tests.ebr.audit.audit_users import ADMIN_PW, OWN, Site
from tests.ebr.fixtures_master import install_master_data, open_batch

RULES = {
    "batch_release": Requirement.SINGLE,
    "line_clearance": Requirement.DUAL,
    "label_print": Requirement.NONE,
}


class SigningSite(Site):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        install_master_data(engine)
        self.batch = str(open_batch(engine, "amox", lot="L1"))
        self.other_batch = str(open_batch(engine, "amox", lot="L2"))
        self.blocked: str | None = None
        self.signatures = ESignatures(
            self.users, self.trail, RULES, signing_blocked=lambda: self.blocked
        )
        for name, role in (("olga", Role.OPERATOR), ("pete", Role.OPERATOR), ("quinn", Role.QA)):
            self.add(name, role)

    def sign(self, username: str, action: str, meaning: Meaning, batch: str | None = None) -> None:
        session = self.users.login(username, OWN)
        self.signatures.sign(
            session,
            action=action,
            object_type="batch",
            object_id=batch or self.batch,
            meaning=meaning,
            password=OWN,
            username=username,
        )


@pytest.fixture
def site(engine: Engine) -> SigningSite:
    return SigningSite(engine)


def test_a_signature_carries_name_meaning_time_and_record_hash(site: SigningSite) -> None:
    session = site.users.login("quinn", OWN)
    session, signature = site.signatures.sign(
        session,
        action="batch_release",
        object_type="batch",
        object_id=site.batch,
        meaning=Meaning.RELEASED,
        password=OWN,
        username="quinn",
    )
    assert (signature.printed_name, signature.meaning) == ("Quinn", "released")
    assert signature.signed_at.endswith("+00:00")
    assert len(signature.record_hash) == 64
    assert session.signed
    assert site.signatures.is_complete("batch_release", "batch", site.batch)
    assert site.signatures.verify("batch", site.batch).ok
    assert verify_database(site.trail.engine).ok


def test_first_signature_needs_id_and_password_later_ones_the_password(site: SigningSite) -> None:
    session = site.users.login("olga", OWN)
    kwargs = {"object_type": "batch", "meaning": Meaning.PERFORMED, "password": OWN}
    with pytest.raises(SignatureError, match="needs the user ID"):
        site.signatures.sign(session, action="line_clearance", object_id=site.batch, **kwargs)
    session, _ = site.signatures.sign(
        session, action="line_clearance", object_id=site.batch, username="olga", **kwargs
    )
    site.signatures.sign(session, action="line_clearance", object_id=site.other_batch, **kwargs)
    with pytest.raises(AuthenticationError):
        site.signatures.sign(
            session,
            action="line_clearance",
            object_type="batch",
            object_id=site.other_batch,
            meaning=Meaning.PERFORMED,
            password="wrong-password-1",
        )


def test_signing_as_someone_else_is_refused_and_audited(site: SigningSite) -> None:
    session = site.users.login("olga", OWN)
    with pytest.raises(PermissionDeniedError, match="cannot sign as 'pete'"):
        site.signatures.sign(
            session,
            action="line_clearance",
            object_type="batch",
            object_id=site.batch,
            meaning=Meaning.PERFORMED,
            password=OWN,
            username="pete",
        )
    assert [e.new["why"] for e in site.trail.entries(event="signature_refused")] == [
        "tried to sign as 'pete'"
    ]
    assert site.signatures.signatures("batch", site.batch) == []


def test_administrators_cannot_sign(site: SigningSite) -> None:
    with pytest.raises(PermissionDeniedError, match="administrators cannot sign"):
        site.signatures.sign(
            site.admin,
            action="batch_release",
            object_type="batch",
            object_id=site.batch,
            meaning=Meaning.APPROVED,
            password=ADMIN_PW,
            username="admin",
        )


def test_release_is_signed_by_qa_only(site: SigningSite) -> None:
    with pytest.raises(PermissionDeniedError, match="operator cannot sign as released"):
        site.sign("olga", "batch_release", Meaning.RELEASED)


def test_nobody_verifies_their_own_step(site: SigningSite) -> None:
    site.sign("olga", "line_clearance", Meaning.PERFORMED)
    assert not site.signatures.is_complete("line_clearance", "batch", site.batch)
    with pytest.raises(PermissionDeniedError, match="another person"):
        site.sign("olga", "line_clearance", Meaning.VERIFIED)
    site.sign("pete", "line_clearance", Meaning.VERIFIED)
    assert site.signatures.is_complete("line_clearance", "batch", site.batch)
    with pytest.raises(SignatureError, match="already has its 2 signature"):
        site.sign("quinn", "line_clearance", Meaning.REVIEWED)


def test_actions_without_signature_and_unknown_actions(site: SigningSite) -> None:
    with pytest.raises(SignatureError, match="need no signature"):
        site.sign("olga", "label_print", Meaning.PERFORMED)
    with pytest.raises(SignatureError, match="no signature rule"):
        site.sign("olga", "tea_break", Meaning.PERFORMED)


def test_editing_a_signed_field_fails_verification(site: SigningSite, engine: Engine) -> None:
    site.sign("quinn", "batch_release", Meaning.RELEASED)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE batches SET planned_quantity = 99999 WHERE id = :id"),
            {"id": int(site.batch)},
        )
    report = site.signatures.verify("batch", site.batch)
    assert [f.message for f in report.findings] == [
        "e-signature 1 (released by quinn): the record was changed after it was signed"
    ]
    assert not site.signatures.is_complete("batch_release", "batch", site.batch)
    assert not verify_database(engine).ok


def test_a_copied_signature_is_detected(site: SigningSite, engine: Engine) -> None:
    site.sign("quinn", "batch_release", Meaning.RELEASED)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO e_signatures (user_id, username, printed_name, meaning, action, "
                "object_type, object_id, record_hash, record, signed_at, audit_seq) "
                "SELECT user_id, username, printed_name, meaning, action, object_type, :other, "
                "record_hash, record, signed_at, audit_seq FROM e_signatures"
            ),
            {"other": site.other_batch},
        )
    assert not site.signatures.is_complete("batch_release", "batch", site.other_batch)
    findings = site.signatures.verify("batch", site.other_batch).findings
    assert "moved, copied or altered" in findings[0].message
    assert not verify_database(engine).ok


def test_a_moved_signature_is_detected(site: SigningSite, engine: Engine) -> None:
    site.sign("quinn", "batch_release", Meaning.RELEASED)
    with behind_the_triggers(engine) as conn:
        conn.execute(
            text("UPDATE e_signatures SET object_id = :other"), {"other": site.other_batch}
        )
    assert not site.signatures.verify("batch", site.other_batch).ok
    report = verify_database(engine)
    messages = [f.message for f in report.findings]
    assert any("moved, copied or altered" in m for m in messages), messages
    assert any("entry #" in m and "missing or altered" in m for m in messages), messages


def test_no_signature_after_the_session_timed_out_or_when_signing_is_blocked(
    site: SigningSite,
) -> None:
    session = site.users.login("quinn", OWN)
    site.clock.advance(timedelta(minutes=20))
    with pytest.raises(SessionExpiredError):
        site.signatures.sign(
            session,
            action="batch_release",
            object_type="batch",
            object_id=site.batch,
            meaning=Meaning.RELEASED,
            password=OWN,
            username="quinn",
        )
    site.blocked = "clock offset 4.2 s exceeds the 1.0 s tolerance"
    with pytest.raises(SignatureError, match="signing is disabled: clock offset"):
        site.sign("quinn", "batch_release", Meaning.RELEASED)
