"""What QA's screens share: the store's record, orders and audit trail, and who may do what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fastapi import Request
from sqlalchemy import Engine

from ebr.audit.trail import AuditTrail
from ebr.execution import ExecutionRecord
from ebr.users import Role
from gateway.hmi.access import viewer
from gateway.hmi.errors import HmiError
from gateway.hmi.sessions import HmiSession

REVIEW: Final = frozenset({Role.QA, Role.SUPERVISOR})
"""May see batches, records and the audit trail, and verify a bundle."""
DECIDE: Final = frozenset({Role.QA})
"""May acknowledge exceptions, sign the audit-trail review, release and reject."""


@dataclass(frozen=True, slots=True)
class QaContext:
    engine: Engine
    trail: AuditTrail
    record: ExecutionRecord
    page_size: int


def qa_context(request: Request) -> QaContext:
    found: QaContext = request.app.state.hmi_qa
    return found


def reviewer(request: Request) -> HmiSession:
    """The session of a page of QA's, once its role may see it."""
    session = viewer(request)
    if session.user.role not in REVIEW:
        raise HmiError(
            403,
            f"{session.user.username} ({session.user.role.value}) has no access to QA's screens",
            where=request.url.path,
            fix="log in as QA or as a supervisor",
        )
    return session
