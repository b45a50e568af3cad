"""Who does a thing the audit trail records, and the trail every store writer uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from ebr.audit.trail import AuditEvent, AuditTrail


@dataclass(frozen=True, slots=True)
class Actor:
    """The person (or the gateway itself) behind a change."""

    user_id: int | None = None
    username: str | None = None

    def event(
        self,
        event: str,
        object_type: str,
        object_id: str | int,
        *,
        action: str = "system",
        old: object = None,
        new: object = None,
        reason: str | None = None,
    ) -> AuditEvent:
        return AuditEvent(
            event=event,
            object_type=object_type,
            object_id=str(object_id),
            action=action,
            old=old,
            new=new,
            reason=reason,
            user_id=self.user_id,
            username=self.username,
        )


GATEWAY = Actor(username="gateway")
"""Changes the gateway makes on its own: the line, start-up reconciliation, scheduled work."""


def trail_for(engine: Engine, trail: AuditTrail | None) -> AuditTrail:
    """The trail to write to: the one given, or one on the same database.

    The audit trail cannot be switched off (R-AUD-2): a writer given no trail still writes its
    entries, only without signed checkpoints until the site key is configured.
    """
    return trail if trail is not None else AuditTrail(engine)


def utc_now() -> datetime:
    return datetime.now(UTC)


class StoreWriter:
    """A writer of the store: its engine, its clock, and the audit trail it always writes to
    on behalf of `actor`."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = utc_now,
        audit: AuditTrail | None = None,
        actor: Actor = GATEWAY,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._audit = trail_for(engine, audit)
        self._actor = actor
