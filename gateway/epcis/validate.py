"""Validation of EPCIS documents against the official GS1 artefacts and our CBV checks.

JSON-LD documents are validated with the official EPCIS 2.0 JSON schema (draft 7, formats
checked: `uri` and `date-time`), XML documents with the official EPCIS 2.0 XSD; both then
with `serialization.epcis.vocabulary`, because the schema takes a misspelled business step for a
private vocabulary URI. The artefacts are kept unchanged in `gateway/epcis/standard/`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, FormatChecker
from lxml import etree

from serialization.epcis.errors import VocabularyError
from serialization.epcis.vocabulary import Vocabulary, cbv_term

STANDARD = Path(__file__).resolve().parent / "standard"
JSON_SCHEMA = STANDARD / "EPCIS-JSON-Schema.json"
XSD = STANDARD / "XSD" / "EPCglobal-epcis-2_0.xsd"
SHOWN = 5
"""How many problems an error message lists."""
FIX_THE_DOCUMENT = "correct each problem listed; the GS1 EPCIS 2.0 standard defines the fields"

_FIELDS = (("bizStep", Vocabulary.BIZ_STEP), ("disposition", Vocabulary.DISPOSITION))
_TYPED_LISTS = (
    ("bizTransactionList", Vocabulary.BIZ_TRANSACTION_TYPE),
    ("sourceList", Vocabulary.SOURCE_DESTINATION_TYPE),
    ("destinationList", Vocabulary.SOURCE_DESTINATION_TYPE),
)


class InvalidDocumentError(Exception):
    """A document that breaks the official schema or the CBV; `problems` lists every one."""

    def __init__(self, what: str, problems: list[str], *, hint: str) -> None:
        shown = "; ".join(problems[:SHOWN])
        more = f" (and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
        super().__init__(f"{what}: {len(problems)} problem(s): {shown}{more}")
        self.message = str(self)
        self.problems = problems
        self.hint = hint


@functools.cache
def _json_validator() -> Draft7Validator:
    schema = json.loads(JSON_SCHEMA.read_text(encoding="utf-8"))
    return Draft7Validator(schema, format_checker=FormatChecker())


@functools.cache
def _xml_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def jsonld_problems(document: Mapping[str, Any]) -> list[str]:
    """Every problem of a JSON-LD document: the official schema's, then the CBV's."""
    problems = [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(document)'}: {error.message}"
        for error in _json_validator().iter_errors(document)
    ]
    body = document.get("epcisBody")
    events = body.get("eventList", []) if isinstance(body, Mapping) else []
    for index, event in enumerate(events if isinstance(events, list) else []):
        if isinstance(event, Mapping):
            problems += [
                f"epcisBody/eventList/{index}/{where}: {error}"
                for where, error in _vocabulary_errors(event)
            ]
    return problems


def _vocabulary_errors(event: Mapping[str, Any]) -> Iterator[tuple[str, VocabularyError]]:
    for name, vocabulary in _FIELDS:
        if name in event:
            try:
                cbv_term(vocabulary, event[name])
            except VocabularyError as error:
                yield name, error
    for name, vocabulary in _TYPED_LISTS:
        items = event.get(name)
        for index, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, Mapping) and "type" in item:
                try:
                    cbv_term(vocabulary, item["type"])
                except VocabularyError as error:
                    yield f"{name}/{index}/type", error


def xml_problems(data: bytes) -> list[str]:
    """Every problem of an XML document: well-formedness, the official XSD's, the CBV's."""
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as error:
        return [f"not well-formed XML: {error}"]
    schema = _xml_schema()
    problems = []
    if not schema.validate(root):
        problems = [f"line {e.line}: {e.message}" for e in schema.error_log]  # type: ignore[attr-defined]
    checks = [("bizStep", Vocabulary.BIZ_STEP), ("disposition", Vocabulary.DISPOSITION)]
    for tag, vocabulary in checks:
        for element in root.iter(tag):
            problems += _xml_term(element, vocabulary, element.text)
    typed = (
        ("bizTransaction", Vocabulary.BIZ_TRANSACTION_TYPE),
        ("source", Vocabulary.SOURCE_DESTINATION_TYPE),
        ("destination", Vocabulary.SOURCE_DESTINATION_TYPE),
    )
    for tag, vocabulary in typed:
        for element in root.iter(tag):
            if element.get("type") is not None:
                problems += _xml_term(element, vocabulary, element.get("type"))
    return problems


def _xml_term(element: Any, vocabulary: Vocabulary, value: str | None) -> list[str]:
    try:
        cbv_term(vocabulary, (value or "").strip())
    except VocabularyError as error:
        return [f"line {element.sourceline}: {error}"]
    return []


def validate_jsonld(document: Mapping[str, Any], *, hint: str = FIX_THE_DOCUMENT) -> None:
    problems = jsonld_problems(document)
    if problems:
        raise InvalidDocumentError("the EPCIS JSON-LD document is invalid", problems, hint=hint)


def validate_xml(data: bytes, *, hint: str = FIX_THE_DOCUMENT) -> None:
    problems = xml_problems(data)
    if problems:
        raise InvalidDocumentError("the EPCIS XML document is invalid", problems, hint=hint)
