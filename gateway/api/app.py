"""The gateway's web application: `create_app(site_config, store)`.

Each concern is a router (`trace_routes`, `recall_routes`, `session_routes`); the HMI's pages
will be routers of their own. Every error is a problem details object (`problems`), every
route but log-in needs a user (`auth`), and the OpenAPI schema is served at
`/api/openapi.json` (browsable at `/api/docs`).
"""

from __future__ import annotations

from fastapi import FastAPI

from config import SiteConfig
from ebr.users import Users
from gateway.api import login_limit, problems
from gateway.api.auth import Authenticator
from gateway.api.context import ApiContext
from gateway.api.login_limit import LoginLimiter
from gateway.api.order_routes import router as order_router
from gateway.api.recall_routes import router as recall_router
from gateway.api.session_routes import router as session_router
from gateway.api.trace_routes import router as trace_router
from gateway.commands.codes import recognition_context
from gateway.observability import routes as observability_routes
from gateway.observability.hub import Observability
from gateway.site_store import SiteStore

OPENAPI_URL = "/api/openapi.json"
ROUTERS = (session_router, trace_router, recall_router, order_router)


def create_app(
    site_config: SiteConfig,
    store: SiteStore,
    *,
    users: Users | None = None,
    login_limiter: LoginLimiter | None = None,
    observability: Observability | None = None,
) -> FastAPI:
    """The app for one site. `users` defaults to the site's accounts on the store's audit
    trail (a test may pass its own policy), `login_limiter` to the default log-in limits,
    `observability` (/metrics, /healthz, /readyz) to the site's database and outbox."""
    app = FastAPI(
        title="tracegate",
        summary="Trace and recall for serialized packaging lines",
        description="Every error is an RFC 9457 problem (application/problem+json) with "
        "`where` and `fix`. Authenticate with HTTP basic credentials or a bearer token from "
        "POST /api/sessions.",
        version="0.1.0",
        openapi_url=OPENAPI_URL,
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.context = ApiContext(site_config, store, recognition_context(site_config))
    app.state.authenticator = Authenticator(
        users or Users(store.audit), login_limiter or LoginLimiter()
    )
    problems.install(app)
    login_limit.install(app)
    for router in ROUTERS:
        app.include_router(router)
    observability_routes.install(app, observability or Observability.for_site(store))
    problems.problem_media_type(app)
    return app
