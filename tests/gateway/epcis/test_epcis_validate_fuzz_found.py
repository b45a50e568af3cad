"""Regression (found by fuzz/): an EPCIS JSON document whose epcisBody is not an object raised
AttributeError instead of listing the schema's problems."""

from __future__ import annotations

import pytest

from gateway.epcis.validate import InvalidDocumentError, jsonld_problems, validate_jsonld


@pytest.mark.parametrize("body", [None, [], "text", 3])
def test_an_epcis_body_that_is_not_an_object_is_a_listed_problem(body: object) -> None:
    document = {"type": "EPCISDocument", "schemaVersion": "2.0", "epcisBody": body}
    assert any("epcisBody" in problem for problem in jsonld_problems(document))
    with pytest.raises(InvalidDocumentError, match="epcisBody"):
        validate_jsonld(document)
