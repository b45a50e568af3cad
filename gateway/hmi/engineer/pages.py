"""An engineer's page in the HMI frame, and the form fields its actions read."""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from gateway.hmi.context import frame
from gateway.hmi.engineer import texts
from gateway.hmi.engineer.context import engineer_context
from gateway.hmi.errors import HmiError
from gateway.hmi.forms import field
from gateway.hmi.rendering import render
from gateway.hmi.sessions import HmiSession


def page(
    request: Request, session: HmiSession, template: str, *, status: int = 200, **extra: Any
) -> HTMLResponse:
    context = engineer_context(request)
    done = request.query_params.get("done", "")
    return render(
        request,
        template,
        session.language,
        status=status,
        **frame(
            request,
            session,
            demo=context.simulation is not None,
            may_act=session.user.role.value == "engineer",
            done=texts.DONE.get(done),
            link_states=texts.LINK_STATES,
            health_sources=texts.HEALTH_SOURCES,
            certificate_states=texts.CERTIFICATE_STATES,
            severities=texts.SEVERITIES,
            **extra,
        ),
    )


def number_field(form: dict[str, list[str]], name: str, *, example: str) -> float:
    """The form field `name` as a number (a decimal point, or a decimal comma)."""
    text = field(form, name).strip().replace(" ", "").replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise HmiError(
            400,
            f"{field(form, name)!r} is not a number",
            where=f"form field {name}",
            fix=f"enter a number, e.g. {example}",
        )
    return value
