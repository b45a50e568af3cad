"""GS1 Digital Link URIs: `https://id.gs1.org/01/{gtin}/10/{lot}/21/{serial}?17=270500`.

The primary key (01) or (00) and, for (01), the key qualifiers (22), (10), (21) in that order
make up the path; every other element is a query parameter. Values are percent-encoded
except for the URI-unreserved characters, so `/`, `%`, `&` and the like survive.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from urllib.parse import quote

from serialization.errors import CodeFormatError, SerializationError
from serialization.gs1.ai import DEFINITIONS
from serialization.gs1.element import encode
from serialization.gs1.message import Element, GS1Message
from serialization.gs1.validate import check_value

CANONICAL_DOMAIN = "https://id.gs1.org"

QUALIFIERS: dict[str, tuple[str, ...]] = {"01": ("22", "10", "21"), "00": ()}
"""The primary keys tracegate writes and reads, with their path qualifiers in order."""

_URI_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=%")
_BAD_DOMAIN_CHARACTERS = frozenset("_~?#@!$&'()*+,;=%")
_HEX = frozenset(string.hexdigits)


def _escape(value: str) -> str:
    return quote(value, safe="")


def to_digital_link(elements: Iterable[Element], *, domain: str = CANONICAL_DOMAIN) -> str:
    """The GS1 Digital Link URI of a message, validated like `encode`.

    `domain` is the URI stem: scheme, host and an optional path prefix.
    Query parameters keep the message's order; a repeated element is written once.
    """
    items = list(elements)
    encode(items)
    stem = _checked_stem(domain)
    keys = sorted({ai for ai, _ in items if ai in QUALIFIERS})
    if len(keys) != 1:
        raise CodeFormatError(
            "a Digital Link needs exactly one primary key, (01) or (00); "
            + ("found none" if not keys else "found " + " and ".join(f"({k})" for k in keys)),
            field="(01)" if not keys else f"({keys[-1]})",
            hint="carry a GTIN (01) for a trade item or an SSCC (00) for a logistic unit",
        )
    key = keys[0]
    values = dict(reversed(items))
    in_path = (key, *QUALIFIERS[key])
    path = "".join(f"/{ai}/{_escape(values[ai])}" for ai in in_path if ai in values)
    written: set[str] = set(in_path)
    query: list[str] = []
    for ai, value in items:
        if ai not in written:
            written.add(ai)
            query.append(f"{ai}={_escape(value)}")
    return stem + path + ("?" + "&".join(query) if query else "")


def _checked_stem(domain: str) -> str:
    stem = domain.rstrip("/")
    for scheme in ("https://", "http://"):
        if stem.startswith(scheme):
            host = stem[len(scheme) :].split("/", 1)[0]
            if host and not _BAD_DOMAIN_CHARACTERS.intersection(host):
                return stem
    raise CodeFormatError(
        f"{domain!r} is not a URI stem",
        field="domain",
        hint="give scheme and host, e.g. https://id.gs1.org or https://example.com/prefix",
    )


def parse_digital_link(uri: str) -> GS1Message:
    """Parse and validate a GS1 Digital Link URI. Positions in errors index into `uri`.

    Any domain and path prefix may precede the primary key. Non-numeric query parameters
    (such as `linkType`) and the fragment are ignored; numeric ones must be known AIs.
    """
    for index, char in enumerate(uri):
        if char not in _URI_CHARACTERS:
            raise CodeFormatError(
                f"{char!r} cannot appear in a URI",
                position=index,
                hint="percent-encode it, e.g. a space as %20",
            )
    host_start = _host_start(uri)
    path_start = uri.find("/", host_start)
    if path_start <= host_start:
        raise CodeFormatError(
            "the URI has no domain or no path",
            position=host_start,
            hint="expected https://domain/01/{gtin}…",
        )
    for index in range(host_start, path_start):
        if uri[index] in _BAD_DOMAIN_CHARACTERS:
            raise CodeFormatError(
                f"{uri[index]!r} cannot appear in a domain name",
                position=index,
                hint="check the host part of the URI",
            )
    fragment = uri.find("#", path_start)
    data_end = len(uri) if fragment < 0 else fragment
    query_start = uri.find("?", path_start, data_end)
    path_end = data_end if query_start < 0 else query_start

    pairs = _path_pairs(uri, path_start, path_end)
    elements = [_element(ai, raw, at, query=False) for ai, raw, at in pairs]
    if query_start >= 0:
        in_path = {ai for ai, _, _ in pairs}
        elements += _query_elements(uri, query_start + 1, data_end, pairs[0][0], in_path)
    return GS1Message(tuple(elements))


def _host_start(uri: str) -> int:
    for scheme in ("https://", "HTTPS://", "http://", "HTTP://"):
        if uri.startswith(scheme):
            return len(scheme)
    raise CodeFormatError(
        "a GS1 Digital Link starts with https:// or http://",
        position=0,
        hint="give the whole URI, scheme included",
    )


def _segments(uri: str, start: int, end: int) -> list[tuple[str, int]]:
    segments = []
    position = start + 1
    for segment in uri[start + 1 : end].split("/"):
        segments.append((segment, position))
        position += len(segment) + 1
    return segments


def _path_pairs(uri: str, start: int, end: int) -> list[tuple[str, str, int]]:
    """The (AI, raw value, value position) pairs from the primary key to the path's end.

    The path is read backwards two segments at a time until a primary key is found, so
    that anything before it (a resolver's own path prefix) is ignored.
    """
    segments = _segments(uri, start, end)
    root = len(segments) - 2
    while root >= 0 and segments[root][0] in DEFINITIONS:
        if segments[root][0] in QUALIFIERS:
            break
        root -= 2
    if root < 0 or segments[root][0] not in QUALIFIERS:
        raise CodeFormatError(
            "no primary key (01) or (00) found in the path",
            position=start,
            hint="the path must end with /01/{gtin}[/22/…][/10/{lot}][/21/{serial}] or /00/{sscc}",
        )
    key = segments[root][0]
    allowed = QUALIFIERS[key]
    pairs = [(key, segments[root + 1][0], segments[root + 1][1])]
    last = -1
    for index in range(root + 2, len(segments), 2):
        ai, ai_position = segments[index]
        order = allowed.index(ai) if ai in allowed else -1
        if order < 0:
            raise CodeFormatError(
                f"({ai}) cannot follow ({key}) in a Digital Link path",
                field=f"({ai})",
                position=ai_position,
                hint=f"the path after ({key}) may hold "
                + (", ".join(f"({q})" for q in allowed) or "nothing")
                + f"; put ({ai}) in the query string as ?{ai}=…",
            )
        if order <= last:
            raise CodeFormatError(
                f"({ai}) must come before ({allowed[last]}) in a Digital Link path"
                if order < last
                else f"({ai}) appears twice in the path",
                field=f"({ai})",
                position=ai_position,
                hint="the path order is /" + "/".join(f"{q}/…" for q in (key, *allowed)),
            )
        last = order
        pairs.append((ai, segments[index + 1][0], segments[index + 1][1]))
    return pairs


def _query_elements(uri: str, start: int, end: int, key: str, in_path: set[str]) -> list[Element]:
    elements = []
    seen = set(in_path)
    position = start
    for parameter in uri[start:end].split("&"):
        at = position
        position += len(parameter) + 1
        name, equals, raw = parameter.partition("=")
        if not equals or not (name.isascii() and name.isdigit()):
            continue
        field = f"({name})"
        if name not in DEFINITIONS:
            raise CodeFormatError(
                f"unknown Application Identifier {field} in the query string",
                field=field,
                position=at,
                hint="numeric query parameters must be GS1 AIs",
            )
        if name in QUALIFIERS:
            raise CodeFormatError(
                f"{field} is a primary key and cannot be a query parameter",
                field=field,
                position=at,
                hint=f"a Digital Link has one primary key, here ({key})",
            )
        if name in QUALIFIERS[key]:
            raise CodeFormatError(
                f"{field} belongs in the path, not the query string",
                field=field,
                position=at,
                hint=f"write …/{key}/…/{name}/{{value}} in the path order "
                + "/".join(QUALIFIERS[key]),
            )
        if name in seen:
            raise CodeFormatError(
                f"{field} appears twice",
                field=field,
                position=at,
                hint="give each AI once",
            )
        seen.add(name)
        elements.append(_element(name, raw, at + len(name) + 1, query=True))
    return elements


def _element(ai: str, raw: str, at: int, *, query: bool) -> Element:
    value, positions = _unescape(raw, at, query=query)
    try:
        check_value(DEFINITIONS[ai], value)
    except SerializationError as error:
        index = error.position or 0
        error.position = positions[index] if index < len(positions) else at + len(raw)
        raise
    return Element(ai, value)


def _unescape(raw: str, at: int, *, query: bool) -> tuple[str, list[int]]:
    """Percent-decode `raw` (and `+` as space in a query), with each character's position."""
    chars: list[str] = []
    positions: list[int] = []
    index = 0
    while index < len(raw):
        char = raw[index]
        positions.append(at + index)
        if char == "%":
            digits = raw[index + 1 : index + 3]
            if len(digits) < 2 or not _HEX.issuperset(digits):
                raise CodeFormatError(
                    "'%' must start a percent-escape %XX",
                    position=at + index,
                    hint="write a literal % as %25",
                )
            chars.append(chr(int(digits, 16)))
            index += 3
            continue
        chars.append(" " if query and char == "+" else char)
        index += 1
    return "".join(chars), positions
