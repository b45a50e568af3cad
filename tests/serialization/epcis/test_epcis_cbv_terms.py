"""The CBV vocabulary constants are what the official ontology CBV.ttl says, and the generated
module is up to date with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.generate_cbv_terms import (
    CBV_TTL,
    MODULE,
    TurtleError,
    cbv_terms,
    parse_turtle,
    render_module,
)
from serialization.epcis import cbv_terms as constants

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = ROOT / "gateway" / "epcis" / "standard" / "EPCIS-JSON-Schema.json"


def test_the_constants_are_the_terms_of_cbv_ttl() -> None:
    terms = cbv_terms(CBV_TTL.read_text(encoding="utf-8"))
    assert set(terms) == set(constants.CLASS_OF)
    for name, values in terms.items():
        assert getattr(constants, name) == frozenset(values), name
    assert {"commissioning", "decommissioning", "packing", "unpacking", "sampling",
            "destroying", "shipping", "inspecting"} <= constants.BIZ_STEPS  # fmt: skip
    assert {"active", "inactive", "destroyed", "in_transit"} <= constants.DISPOSITIONS
    assert {"owning_party", "possessing_party", "location"} == constants.SOURCE_DESTINATION_TYPES


def test_the_generated_module_is_up_to_date() -> None:
    expected = render_module(cbv_terms(CBV_TTL.read_text(encoding="utf-8")))
    assert MODULE.read_text(encoding="utf-8") == expected, (
        "run .venv/bin/python scripts/generate_cbv_terms.py"
    )


def test_the_official_json_schema_lists_the_same_terms() -> None:
    definitions = json.loads(SCHEMA.read_text(encoding="utf-8"))["definitions"]
    for schema_name, terms in (
        ("bizStep", constants.BIZ_STEPS),
        ("disposition", constants.DISPOSITIONS),
        ("bizTransaction-type", constants.BIZ_TRANSACTION_TYPES),
        ("source-dest-type", constants.SOURCE_DESTINATION_TYPES),
    ):
        enum = next(part["enum"] for part in definitions[schema_name]["anyOf"] if "enum" in part)
        assert set(enum) == terms, schema_name


def test_the_reader_reads_what_turtle_says() -> None:
    text = """@prefix ex: <https://example.org/> .
    # a comment
    ex:A-b a ex:A ; ex:label "x; y."@en , \"\"\"two
    lines\"\"\" ;
      ex:n "1"^^<http://www.w3.org/2001/XMLSchema#int> .
    """
    triples = parse_turtle(text)
    assert ("https://example.org/A-b", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
            "https://example.org/A") in triples  # fmt: skip
    assert ("https://example.org/A-b", "https://example.org/label", "x; y.") in triples
    assert ("https://example.org/A-b", "https://example.org/label", "two\n    lines") in triples
    assert ("https://example.org/A-b", "https://example.org/n", "1") in triples


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("@prefix ex: <https://e/> .\nex:a ex:b [ ex:c ex:d ] .", r"line 2: cannot read '\["),
        ("zz:a zz:b zz:c .", "undeclared prefix 'zz'"),
        ("@prefix ex: <https://e/> .\nex:a ex:b ex:c", "expected punct, found 'the end'"),
    ],
)
def test_the_reader_refuses_what_it_does_not_understand(text: str, message: str) -> None:
    with pytest.raises(TurtleError, match=message):
        parse_turtle(text)


def test_a_deprecated_term_stops_the_generator() -> None:
    killing = "owl:sameAs        <urn:epcglobal:cbv:bizstep:killing> ;\n        sw:term_status"
    text = CBV_TTL.read_text(encoding="utf-8").replace(
        f'{killing}    "stable"', f'{killing}    "deprecated"'
    )
    assert text != CBV_TTL.read_text(encoding="utf-8")
    with pytest.raises(TurtleError, match="BizStep-killing has term status 'deprecated'"):
        cbv_terms(text)
