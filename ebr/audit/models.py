"""Tables of the audit trail and e-signatures. All four are append-only: database triggers
(migration 0002) refuse UPDATE and DELETE on SQLite and PostgreSQL.

Values that are hashed are stored as text exactly as hashed (`at` as ISO 8601 UTC with offset,
old and new values as canonical JSON), so verification never depends on how a database driver
renders a timestamp or a JSON document.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ebr.models import Base, BigId


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_object", "object_type", "object_id"),
        Index("ix_audit_entries_at", "at"),
        Index("ix_audit_entries_event", "event"),
        Index("ix_audit_entries_user", "user_id"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    """Position in the chain, from 1, without gaps."""
    at: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    username: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    """create, modify, delete, access or system."""
    event: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(200))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditKey(Base):
    """Public half of a site signing key. The private key lives in a file, never here."""

    __tablename__ = "audit_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))
    """Raw Ed25519 public key, hex."""
    registered_at: Mapped[str] = mapped_column(String(32))


class AuditCheckpoint(Base):
    """A site key's Ed25519 signature over the chain head at one moment."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_seq: Mapped[int] = mapped_column(BigInteger)
    entry_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[str] = mapped_column(String(32))
    key_id: Mapped[str] = mapped_column(ForeignKey("audit_keys.key_id"))
    signature: Mapped[str] = mapped_column(String(128))


class SignatureRow(Base):
    """An electronic signature bound to the hash of the exact record version signed."""

    __tablename__ = "e_signatures"
    __table_args__ = (Index("ix_e_signatures_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    username: Mapped[str] = mapped_column(String(64))
    printed_name: Mapped[str] = mapped_column(String(200))
    meaning: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(200))
    record_hash: Mapped[str] = mapped_column(String(64))
    record: Mapped[str] = mapped_column(Text)
    """The signed record version as canonical JSON (its SHA-256 is `record_hash`)."""
    signed_at: Mapped[str] = mapped_column(String(32))
    audit_seq: Mapped[int] = mapped_column(BigInteger)
    """The audit entry that records this signature; it repeats every field above."""


class ClockReading(Base):
    """One measurement of the system clock against the reference time source (R-CLK-1)."""

    __tablename__ = "clock_readings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(200))
    offset_us: Mapped[int | None] = mapped_column(BigInteger)
    """Reference minus system time, microseconds; None when the source did not answer."""
    within_tolerance: Mapped[bool] = mapped_column(Boolean)
