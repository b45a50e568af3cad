"""What every page of the HMI shares: the console, the settings, and the page's frame."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from gateway.hmi.console import LineConsole
from gateway.hmi.live import snapshot
from gateway.hmi.sessions import HmiSession
from gateway.hmi.settings import HmiSettings


@dataclass(frozen=True, slots=True)
class HmiContext:
    console: LineConsole
    settings: HmiSettings
    line_name: str


def hmi_context(request: Request) -> HmiContext:
    found: HmiContext = request.app.state.hmi
    return found


def frame(request: Request, session: HmiSession, **extra: Any) -> dict[str, Any]:
    """The header, navigation, alarm banner and live values every logged-in page shows."""
    context = hmi_context(request)
    return {
        "user": session.user,
        "csrf_token": session.csrf_token,
        "line_name": context.line_name,
        "live": snapshot(context.console, session.language),
        "idle_timeout_s": context.settings.idle_timeout_s,
        **extra,
    }
