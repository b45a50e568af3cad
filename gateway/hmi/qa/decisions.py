"""QA's signed decisions on a batch (audit-trail review, release, rejection) and the
acknowledgement of an exception, run against the executed record: what each was refused
with, said for the person at the desk, and nothing recorded before undone."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from fastapi import Request

from ebr.errors import NotFoundError, StoreError
from ebr.execution import ReleaseBlockedError
from ebr.users import UserError
from gateway.hmi.actions import Failure
from gateway.hmi.qa.context import qa_context
from gateway.hmi.sessions import HmiSession
from gateway.hmi.signature import SignatureRefusedError, check_signature

SIGNED: Final = ("review", "release", "reject")


@dataclass(frozen=True, slots=True)
class Refusal:
    failure: Failure
    reasons: tuple[str, ...] = field(default=())
    """Every reason a release is blocked, when that is the refusal."""


async def run(work: Callable[[], Any]) -> Refusal | None:
    """Run `work` (a call of the executed record) in a worker thread; its refusal returned."""
    try:
        await asyncio.to_thread(work)
    except ReleaseBlockedError as blocked:
        return Refusal(
            Failure(f"batch {blocked.batch_id} cannot be released yet", blocked.hint or "", 409),
            blocked.reasons,
        )
    except NotFoundError as error:
        return Refusal(Failure(error.message, error.hint or "", 404))
    except UserError as error:
        return Refusal(Failure(error.message, error.hint or "", 403))
    except StoreError as error:
        return Refusal(Failure(error.message, error.hint or "", 409))
    return None


async def sign_decision(
    request: Request, session: HmiSession, batch_id: int, decision: str, password: str, reason: str
) -> Refusal | None:
    """The password re-entry first (rate limited, counted towards the lock-out), then the
    decision, which the record signs with the same password under the session's user."""
    try:
        await check_signature(request, session.user, password)
    except SignatureRefusedError as refused:
        return Refusal(refused.failure)
    record = qa_context(request).record
    user, name = session.user, session.user.username
    calls: dict[str, Callable[[], Any]] = {
        "review": lambda: record.sign_audit_review(batch_id, user, password, username=name),
        "release": lambda: record.release(batch_id, user, password, username=name),
        "reject": lambda: record.reject_batch(batch_id, user, password, reason, username=name),
    }
    return await run(calls[decision])
