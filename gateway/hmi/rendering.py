"""Pages from the Jinja2 templates, in the request's language, with its localized filters."""

from __future__ import annotations

import functools
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from gateway.hmi.i18n import LANGUAGE_NAMES, LANGUAGES, moment, number, translations
from gateway.hmi.texts import ROLES


@functools.cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=PackageLoader("gateway.hmi", "templates"),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["number"] = lambda value: number(value, language)
    env.filters["moment"] = lambda value: moment(value, language)
    env.globals.update(
        language=language, languages=LANGUAGES, language_names=LANGUAGE_NAMES, roles=ROLES
    )
    return env


def render(
    request: Request, template: str, language: str, *, status: int = 200, **context: Any
) -> HTMLResponse:
    page = environment(language).get_template(template)
    html = page.render(
        request_path=request.url.path, html_lang=language.replace("_", "-"), **context
    )
    return HTMLResponse(html, status_code=status, headers=NO_STORE)


NO_STORE = {"Cache-Control": "no-store", "X-Frame-Options": "DENY"}
