"""A file sent with a form (multipart/form-data), read with the standard library's MIME
parser, and the checks every state-changing request of the HMI makes (session, CSRF, role),
which `access.actor_for` makes for small url-encoded forms only."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Final

from fastapi import Request

from ebr.users import Role, SessionExpiredError
from gateway.hmi.access import check_csrf, sessions_of
from gateway.hmi.errors import HmiError, LoginRequiredError
from gateway.hmi.sessions import COOKIE, HmiSession

MAX_UPLOAD_BYTES: Final = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Upload:
    fields: dict[str, list[str]]
    files: dict[str, tuple[str, bytes]]
    """By field name: the file's name as sent and its content."""


async def uploader_for(request: Request, roles: frozenset[Role]) -> tuple[HmiSession, Upload]:
    try:
        session = sessions_of(request).current(request.cookies.get(COOKIE))
    except SessionExpiredError as error:
        raise LoginRequiredError(error.message, where=request.url.path) from None
    upload = await read_upload(request)
    check_csrf(request, upload.fields, session.csrf_token)
    if session.user.role not in roles:
        allowed = ", ".join(sorted(role.value for role in roles))
        raise HmiError(
            403,
            f"{session.user.username} ({session.user.role.value}) may not do this",
            where=request.url.path,
            fix=f"ask someone with the role {allowed}",
        )
    return session, upload


async def read_upload(request: Request) -> Upload:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise HmiError(
            415,
            f"the form was sent as {content_type or 'nothing'!r}, not as a file upload",
            where="request body",
            fix="choose the file in the form and send it with the form's button",
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_UPLOAD_BYTES:
            raise HmiError(
                413,
                f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB",
                where="request body",
                fix="export a smaller bundle (or verify it with `tracegate audit verify`)",
            )
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(head + bytes(body))
    if not message.is_multipart():
        raise HmiError(
            400,
            "the upload could not be read as multipart/form-data",
            where="request body",
            fix="send the form from the page again",
        )
    fields: dict[str, list[str]] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        content = _payload(part)
        filename = part.get_filename()
        if filename is not None:
            files[name] = (filename, content)
        else:
            fields.setdefault(name, []).append(content.decode("utf-8", errors="replace"))
    return Upload(fields, files)


def _payload(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""
