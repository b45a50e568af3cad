"""Form bodies (application/x-www-form-urlencoded), read without a multipart library."""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qs

from fastapi import Request

MAX_FORM_BYTES: Final = 64 * 1024


class FormTooLargeError(ValueError):
    pass


async def read_form(request: Request) -> dict[str, list[str]]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise FormTooLargeError(f"the form is {len(body)} bytes, more than {MAX_FORM_BYTES}")
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)


def field(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name)
    return values[0] if values else ""
