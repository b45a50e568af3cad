"""The EPCIS Event Hash ID (CBV 2.0 §8.9): `ni:///sha-256;{hex}?ver=CBV2.0`.

The SHA-256 is taken of a canonical pre-hash string built from the event's JSON-LD object,
so the ID does not depend on the order of JSON keys or of list elements, nor on how a value
is spelled (bare CBV term, Web URI or URN; EPC URI or Digital Link; time offset):

- the fields in the canonical property order, each `key=value`, concatenated with no
  separator; a list's name appears once, followed by its elements sorted by their strings;
- times in UTC with milliseconds (`…T10:00:30.000Z`);
- standard vocabulary values as CBV Web URIs (`https://ref.gs1.org/cbv/BizStep-…`);
- EPC URIs (SGTIN, SSCC, SGLN, PGLN) as constrained canonical GS1 Digital Links;
- a business transaction, source or destination as `type=…` followed by its identifier;
- ILMD elements as `{namespace}localName=value`, sorted.

recordTime, eventID, errorDeclaration and certificationInfo do not enter the hash. Fields this
module does not implement (quantities, sensor data, persistentDisposition, user extensions;
tracegate writes none of them) are refused rather than hashed wrongly. Unlike the GS1
reference implementation, values that merely look numeric (a lot `0123`) are kept as written:
only quantities would lose trailing zeros, and tracegate writes none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from serialization.epcis.document import CBVMDA
from serialization.epcis.errors import EpcisError
from serialization.epcis.identifiers import canonical_digital_link
from serialization.epcis.vocabulary import Vocabulary

HASH_ID_PREFIX = "ni:///sha-256;"
HASH_ID_VERSION = "?ver=CBV2.0"
IGNORED = frozenset({"@context", "type", "recordTime", "eventID", "errorDeclaration",
                     "certificationInfo"})  # fmt: skip
CURIE_NAMESPACES = {"cbvmda": CBVMDA}
"""ILMD key prefixes and the namespace each stands for (the XML namespace, no trailing ':')."""


def event_hash_id(event: Mapping[str, Any]) -> str:
    digest = hashlib.sha256(pre_hash_string(event).encode("utf-8")).hexdigest()
    return f"{HASH_ID_PREFIX}{digest}{HASH_ID_VERSION}"


def pre_hash_string(event: Mapping[str, Any]) -> str:
    """The canonical pre-hash string of one event given as its JSON-LD object."""
    event_type = event.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise EpcisError("the event has no type", field="type", hint="e.g. ObjectEvent")
    parts = [f"eventType={event_type}"]
    for key, render in _ORDER:
        if key in event:
            parts.append(render(key, event[key]))
    unknown = sorted(set(event) - IGNORED - {key for key, _ in _ORDER})
    if unknown:
        raise EpcisError(
            f"the event hash of tracegate does not implement {', '.join(unknown)}",
            field=unknown[0],
            hint="tracegate writes ObjectEvents and AggregationEvents without extensions",
        )
    return "".join(parts)


def _text(value: object, key: str) -> str:
    if not isinstance(value, str):
        raise EpcisError(f"{key} must be text, not {value!r}", field=key, hint="see EPCIS 2.0")
    return value.strip()


def _time(key: str, value: object) -> str:
    text = _text(value, key)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise EpcisError(
            f"{text!r} is not an ISO 8601 time", field=key, hint="e.g. 2026-11-22T08:00:00+08:00"
        ) from None
    if moment.utcoffset() is None:
        raise EpcisError(f"{text!r} has no UTC offset", field=key, hint="add e.g. +08:00")
    utc = moment.astimezone(UTC)
    return f"{key}={utc.strftime('%Y-%m-%dT%H:%M:%S')}.{utc.microsecond // 1000:03d}Z"


def _plain(key: str, value: object) -> str:
    return f"{key}={_text(value, key)}"


def _identifier(key: str, value: object) -> str:
    return f"{key}={canonical_digital_link(_text(value, key))}"


def _identifiers(item: str) -> Callable[[str, object], str]:
    def render(key: str, value: object) -> str:
        if not isinstance(value, list):
            raise EpcisError(f"{key} must be a list", field=key, hint='e.g. ["urn:epc:id:…"]')
        return _listed(key, [_identifier(item, element) for element in value])

    return render


def _term(vocabulary: Vocabulary) -> Callable[[str, object], str]:
    def render(key: str, value: object) -> str:
        return f"{key}={_web_uri(vocabulary, _text(value, key))}"

    return render


def _web_uri(vocabulary: Vocabulary, value: str) -> str:
    if value in vocabulary.terms:
        return vocabulary.web_uri(value)
    urn = vocabulary.urn("")
    if value.startswith(urn):
        return vocabulary.web_uri(value.removeprefix(urn))
    return value


def _location(key: str, value: object) -> str:
    if not isinstance(value, Mapping) or set(value) != {"id"}:
        raise EpcisError(
            f"{key} must be an object with only an id",
            field=key,
            hint='{"id": "urn:epc:id:sgln:…"}',
        )
    return key + _identifier("id", value["id"])


def _typed_list(item: str) -> Callable[[str, object], str]:
    def render(key: str, value: object) -> str:
        if not isinstance(value, list):
            raise EpcisError(f"{key} must be a list", field=key, hint="see EPCIS 2.0")
        elements = []
        for element in value:
            if not isinstance(element, Mapping) or not set(element) <= {"type", item}:
                raise EpcisError(
                    f"an element of {key} must be an object with {item} and type",
                    field=key,
                    hint="see EPCIS 2.0",
                )
            text = ""
            if "type" in element:
                vocabulary = (
                    Vocabulary.BIZ_TRANSACTION_TYPE
                    if item == "bizTransaction"
                    else Vocabulary.SOURCE_DESTINATION_TYPE
                )
                text = f"type={_web_uri(vocabulary, _text(element['type'], key))}"
            elements.append(text + _identifier(item, element.get(item)))
        return _listed(key, elements)

    return render


def _ilmd(key: str, value: object) -> str:
    if not isinstance(value, Mapping):
        raise EpcisError("ilmd must be an object", field=key, hint="see EPCIS 2.0")
    elements = []
    for name, element in value.items():
        prefix, colon, local = str(name).partition(":")
        if not colon or prefix not in CURIE_NAMESPACES or not isinstance(element, str):
            raise EpcisError(
                f"ILMD element {name!r} is not a cbvmda: attribute with a text value",
                field="ilmd",
                hint="tracegate writes cbvmda:lotNumber and cbvmda:itemExpirationDate",
            )
        elements.append(f"{{{CURIE_NAMESPACES[prefix]}}}{local}={element.strip()}")
    return _listed(key, elements)


def _listed(key: str, elements: list[str]) -> str:
    """A list's name once, then its elements sorted; an empty list is left out (rule 4)."""
    return key + "".join(sorted(elements)) if elements else ""


_ORDER: tuple[tuple[str, Callable[[str, object], str]], ...] = (
    ("eventTime", _time),
    ("eventTimeZoneOffset", _plain),
    ("epcList", _identifiers("epc")),
    ("parentID", _identifier),
    ("childEPCs", _identifiers("epc")),
    ("action", _plain),
    ("bizStep", _term(Vocabulary.BIZ_STEP)),
    ("disposition", _term(Vocabulary.DISPOSITION)),
    ("readPoint", _location),
    ("bizLocation", _location),
    ("bizTransactionList", _typed_list("bizTransaction")),
    ("sourceList", _typed_list("source")),
    ("destinationList", _typed_list("destination")),
    ("ilmd", _ilmd),
)
"""The canonical property order, restricted to the fields tracegate writes."""
