"""What every route of the app shares: the site file, its store and how to read its codes."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from config import SiteConfig
from gateway.site_store import SiteStore
from serialization.recognize import RecognitionContext


@dataclass(frozen=True, slots=True)
class ApiContext:
    config: SiteConfig
    store: SiteStore
    recognition: RecognitionContext


def api_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context
