"""A file for the browser to save (a report, an export), never cached."""

from __future__ import annotations

from fastapi.responses import Response

from gateway.hmi.rendering import NO_STORE


def download(content: bytes, media_type: str, name: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
    )
