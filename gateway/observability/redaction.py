"""Secrets never reach a log line: a log processor that blanks them, by field name and in text.

A field named like a secret (`password`, `token`, `secret`, `api_key`, `authorization`, …) is
replaced whatever its value; every other text is scrubbed of `password=…`-style pairs, HTTP
credentials (`Bearer …`, `Basic …`) and the password of a URL (`scheme://user:…@host`), which
is how a protocol library's own message (a connection string, a request) would leak one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from typing import Any, Final

REDACTED: Final = "[redacted]"
MAX_DEPTH: Final = 4

SECRET_FIELD: Final = re.compile(
    r"(?:^|[_\-.])(?:password|passwd|pwd|passphrase|secret|token|api_?key|authorization|"
    r"credentials?|private_?key|pgpassword)(?:$|[_\-.])",
    re.IGNORECASE,
)
SECRET_PAIR: Final = re.compile(
    r"(?i)\b(password|passwd|pwd|passphrase|secret|token|api[_-]?key|pgpassword)"
    r"(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&)]+)"
)
HTTP_CREDENTIALS: Final = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=\-]{6,}")
URL_PASSWORD: Final = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@]*:)[^@\s/]+(@)")


def scrub_text(text: str) -> str:
    """`text` with every recognisable secret in it replaced by `[redacted]`."""
    text = URL_PASSWORD.sub(rf"\g<1>{REDACTED}\g<2>", text)
    text = SECRET_PAIR.sub(rf"\g<1>\g<2>{REDACTED}", text)
    return HTTP_CREDENTIALS.sub(rf"\g<1>\g<2>{REDACTED}", text)


def is_secret_field(name: str) -> bool:
    return SECRET_FIELD.search(name) is not None


def redact_value(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if depth >= MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {
            key: REDACTED
            if isinstance(key, str) and is_secret_field(key) and item is not None
            else redact_value(item, depth + 1)
            for key, item in value.items()
        }
    if type(value) is list:
        return [redact_value(item, depth + 1) for item in value]
    if type(value) is tuple:
        return tuple(redact_value(item, depth + 1) for item in value)
    return value


def redact_secrets(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: run it after every processor that adds fields, before rendering."""
    for key, value in list(event_dict.items()):
        if key != "event" and is_secret_field(key) and value is not None:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = redact_value(value)
    return event_dict
