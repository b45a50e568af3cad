"""`install_qa(app, ...)`: QA's routers on the HMI app, over the site's store."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from ebr.audit.trail import AuditTrail
from ebr.execution import ExecutionRecord, execution_requirements
from ebr.journal import Journal
from ebr.signatures import ESignatures
from ebr.users import Users
from gateway.hmi.qa.audit_routes import router as audit_router
from gateway.hmi.qa.batch_routes import router as batch_router
from gateway.hmi.qa.bundle_routes import router as bundle_router
from gateway.hmi.qa.context import QaContext

DEFAULT_PAGE_SIZE = 50


def install_qa(
    app: FastAPI,
    *,
    engine: Engine,
    audit: AuditTrail,
    users: Users,
    journal: Journal | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> None:
    """Add QA's screens to `app` (made by `create_hmi_app` over the same `users`). `journal` is
    the line's production journal when the gateway runs one, so a release's phase change
    continues its cached chain heads."""
    if page_size < 1:
        raise ValueError(f"page_size must be at least 1, not {page_size}")
    signatures = ESignatures(users, audit, execution_requirements())
    record = ExecutionRecord(engine, audit, signatures, users, journal=journal)
    app.state.hmi_qa = QaContext(engine, audit, record, page_size)
    for router in (batch_router, audit_router, bundle_router):
        app.include_router(router)
