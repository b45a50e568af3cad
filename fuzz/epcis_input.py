"""Harnesses for EPCIS validation: a document either passes or raises `InvalidDocumentError`
listing its problems; no other exception, whatever the JSON or XML holds."""

from __future__ import annotations

import json

from fuzz.bytes_input import require
from gateway.epcis.validate import InvalidDocumentError, validate_jsonld, validate_xml


def fuzz_epcis_jsonld(data: bytes) -> None:
    """Any JSON object as an EPCIS JSON-LD document (JSON that is no object is not a document)."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return
    if isinstance(document, dict):
        _validate(lambda: validate_jsonld(document))


def fuzz_epcis_xml(data: bytes) -> None:
    _validate(lambda: validate_xml(data))


def _validate(check: object) -> None:
    assert callable(check)
    try:
        check()
    except InvalidDocumentError as error:
        require(error.problems, error)
        require(error.hint, error)
