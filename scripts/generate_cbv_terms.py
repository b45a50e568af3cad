"""Write `serialization/epcis/cbv_terms.py` from the official CBV 2.0 ontology (CBV.ttl).

Run from the repository root after replacing `gateway/epcis/standard/CBV.ttl`:

    .venv/bin/python scripts/generate_cbv_terms.py

The reader understands the part of Turtle that CBV.ttl uses (prefixes, IRIs, prefixed names,
`a`, string literals with a language or datatype, `;`, `,` and `.`), and fails loudly on
anything else, so a changed file cannot be half read. The test
`tests/serialization/epcis/test_epcis_cbv_terms.py` checks that the module is up to date.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CBV_TTL = ROOT / "gateway" / "epcis" / "standard" / "CBV.ttl"
MODULE = ROOT / "serialization" / "epcis" / "cbv_terms.py"

CBV = "https://ref.gs1.org/cbv/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
TERM_STATUS = "http://www.w3.org/2003/06/sw-vocab-status/ns#term_status"

VOCABULARIES = {
    "BIZ_STEPS": ("BizStep", "Business steps (`bizStep`)."),
    "DISPOSITIONS": ("Disp", "Dispositions (`disposition`, `persistentDisposition`)."),
    "BIZ_TRANSACTION_TYPES": ("BTT", "Business transaction types (`bizTransaction` type)."),
    "SOURCE_DESTINATION_TYPES": ("SDT", "Source and destination types."),
    "ERROR_REASONS": ("ER", "Error declaration reasons."),
    "SENSOR_COMPONENTS": ("Comp", "Sensor report components."),
}
"""Constant name in the module → (CBV class local name, what it lists)."""

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<iri><[^<>"{}|^`\\\s]*>)
  | (?P<long>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\")
  | (?P<short>"(?:[^"\\\n]|\\.)*")
  | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<datatype>\^\^)
  | (?P<pname>[A-Za-z][\w-]*:(?:[\w-]+(?:\.[\w-]+)*)?|:[\w-]+)
  | (?P<a>\ba\b)
  | (?P<punct>[;,.])
    """,
    re.VERBOSE,
)


class TurtleError(ValueError):
    """CBV.ttl holds something this reader does not understand."""


def _tokens(text: str) -> Iterator[tuple[str, str, int]]:
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            line = text.count("\n", 0, position) + 1
            raise TurtleError(f"line {line}: cannot read {text[position : position + 30]!r}")
        kind = match.lastgroup
        assert kind is not None
        if kind != "space":
            yield kind, match.group(), position
        position = match.end()


def _unescape(body: str) -> str:
    escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), body)


def parse_turtle(text: str) -> list[tuple[str, str, str]]:
    """The (subject, predicate, object) triples of `text`, IRIs expanded, literals as text."""
    tokens = list(_tokens(text))
    prefixes: dict[str, str] = {}
    triples: list[tuple[str, str, str]] = []
    index = 0

    def fail(message: str) -> TurtleError:
        at = tokens[min(index, len(tokens) - 1)][2]
        return TurtleError(f"line {text.count(chr(10), 0, at) + 1}: {message}")

    def take(*kinds: str) -> tuple[str, str]:
        nonlocal index
        if index >= len(tokens) or tokens[index][0] not in kinds:
            found = tokens[index][1] if index < len(tokens) else "the end"
            raise fail(f"expected {' or '.join(kinds)}, found {found!r}")
        kind, value, _ = tokens[index]
        index += 1
        return kind, value

    def peek() -> str:
        return tokens[index][1] if index < len(tokens) else ""

    def resource(kind: str, value: str) -> str:
        if kind == "iri":
            return value[1:-1]
        prefix, _, local = value.partition(":")
        if prefix not in prefixes:
            raise fail(f"undeclared prefix {prefix!r}")
        return prefixes[prefix] + local

    def term(kind: str, value: str) -> str:
        if kind in ("long", "short"):
            quote = 3 if kind == "long" else 1
            literal = _unescape(value[quote:-quote])
            if index < len(tokens) and tokens[index][0] == "lang":
                take("lang")
            elif index < len(tokens) and tokens[index][0] == "datatype":
                take("datatype")
                take("iri", "pname")
            return literal
        if kind == "a":
            return RDF_TYPE
        return resource(kind, value)

    while index < len(tokens):
        kind, value, _ = tokens[index]
        if kind == "lang" and value == "@prefix":
            index += 1
            _, name = take("pname")
            _, iri = take("iri")
            take("punct")
            prefixes[name.rstrip(":")] = iri[1:-1]
            continue
        subject = resource(*take("iri", "pname"))
        while True:
            predicate = term(*take("iri", "pname", "a"))
            while True:
                triples.append((subject, predicate, term(*take("iri", "pname", "long", "short"))))
                if peek() != ",":
                    break
                index += 1
            _, punct = take("punct")
            if punct == ".":
                break
            if punct != ";":
                raise fail(f"expected ';' or '.', found {punct!r}")
            if peek() == ".":
                index += 1
                break
    return triples


def cbv_terms(text: str) -> dict[str, tuple[str, ...]]:
    """Each vocabulary's terms (the part after `Class-` in the CBV Web URI), sorted.

    A term is an individual whose rdf:type is the vocabulary's CBV class and whose
    term status is "stable"; any other status is an error, so that nothing slips in or out
    unnoticed when GS1 deprecates a term.
    """
    triples = parse_turtle(text)
    status = {s: o for s, p, o in triples if p == TERM_STATUS}
    terms: dict[str, tuple[str, ...]] = {}
    for name, (cls, _) in VOCABULARIES.items():
        members = sorted(s for s, p, o in triples if p == RDF_TYPE and o == CBV + cls)
        prefix = CBV + cls + "-"
        for member in members:
            if not member.startswith(prefix):
                raise TurtleError(f"{member} is a {cls} but not named {prefix}…")
            if status.get(member) != "stable":
                raise TurtleError(f"{member} has term status {status.get(member)!r}")
        terms[name] = tuple(member.removeprefix(prefix) for member in members)
    return terms


def render_module(terms: dict[str, tuple[str, ...]]) -> str:
    lines = [
        '"""The CBV 2.0 standard vocabularies, as the official ontology CBV.ttl lists them.',
        "",
        "Generated by scripts/generate_cbv_terms.py from gateway/epcis/standard/CBV.ttl; do not",
        "edit. Each term is the bare name EPCIS JSON-LD uses; its CBV Web URI is",
        "`https://ref.gs1.org/cbv/{Class}-{term}` (`CLASS_OF` gives the class).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Final",
        "",
    ]
    for name, values in terms.items():
        cls, what = VOCABULARIES[name]
        lines.append(f"{name}: Final = frozenset(")
        lines.append("    {")
        lines.extend(f'        "{value}",' for value in values)
        lines.append("    }")
        lines.append(")")
        lines.append(f'"""{what} CBV class `{cls}`."""')
        lines.append("")
    lines.append("CLASS_OF: Final = {")
    for name, (cls, _) in VOCABULARIES.items():
        lines.append(f'    "{name}": "{cls}",')
    lines.append("}")
    lines.append('"""The CBV class of each vocabulary, for its Web URIs."""')
    return "\n".join(lines) + "\n"


def main() -> int:
    text = CBV_TTL.read_text(encoding="utf-8")
    MODULE.write_text(render_module(cbv_terms(text)), encoding="utf-8")
    print(f"wrote {MODULE.relative_to(ROOT)} from {CBV_TTL.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
