"""What is this code? Reads any form a person or a reader may hand over and says, in words,
which scheme it follows, what its fields are, and which checks passed.

Forms read: a GS1 element string (with or without its symbology identifier), GS1 HRI with
parentheses, a GS1 Digital Link URI, an EPC pure-identity URI (SGTIN, SSCC), the NMPA
20-digit code, the national important-product trace code, and any configured template.
A string may fit more than one scheme (20 digits can be both an NMPA code and a GS1 element
string): every reading that holds is returned, the likeliest first.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date

from serialization.codes import Check, ParsedCode, SchemeName, TraceCode
from serialization.errors import CheckCharacterError, CodeFormatError
from serialization.gs1.ai import lookup
from serialization.gs1.dates import parse_date
from serialization.gs1.digital_link import parse_digital_link, to_digital_link
from serialization.gs1.element import GS1_SYMBOLOGY_IDENTIFIERS, GS1Message, encode, parse_hri
from serialization.gs1.epc import parse_epc_uri
from serialization.gs1.hri import to_hri
from serialization.gs1.message import Element
from serialization.gs1.scan import parse_scan
from serialization.national import DEFAULT_FORMAT, NationalCodeFormat, parse_national_code
from serialization.national import national_trace_code as _national_trace_code
from serialization.nmpa import nmpa_trace_code
from serialization.template import CodeTemplate, template_trace_code

GS_ALIASES = ("<GS>", "\\x1d", "\\x1D", "{GS}", "␝")


@dataclass(frozen=True, slots=True)
class RecognitionContext:
    """What the site knows that helps to read a code: drug IDs, template formats."""

    drug_ids: Collection[str] | None = None
    templates: Sequence[tuple[str, CodeTemplate]] = ()
    national_formats: Sequence[NationalCodeFormat] = (DEFAULT_FORMAT,)
    today: date | None = None


@dataclass(frozen=True, slots=True)
class Recognition:
    text: str
    readings: tuple[ParsedCode, ...]
    rejections: tuple[tuple[str, CodeFormatError], ...] = field(default=())
    """Schemes the text looked like but failed, with the located reason."""

    @property
    def best(self) -> ParsedCode | None:
        return self.readings[0] if self.readings else None


def unalias_gs(text: str) -> str:
    """Typed stand-ins for the invisible GS separator (`<GS>`, `\\x1d`, …) as the real byte."""
    for alias in GS_ALIASES:
        text = text.replace(alias, "\x1d")
    return text


def recognize(text: str, context: RecognitionContext | None = None) -> Recognition:
    """Every reading of `text` that holds; blanks around it (never part of a code) are ignored."""
    context = context or RecognitionContext()
    code = text.strip(" \t\r\n")
    readings: list[ParsedCode] = []
    rejections: list[tuple[str, CodeFormatError]] = []
    for name, reader in _readers_for(code, context):
        try:
            readings.append(reader(code, context))
        except CodeFormatError as error:
            rejections.append((name, error))
    return Recognition(text, tuple(readings), tuple(rejections))


Reader = Callable[[str, RecognitionContext], ParsedCode]


def _readers_for(text: str, context: RecognitionContext) -> list[tuple[str, Reader]]:
    if text.startswith("urn:epc:id:"):
        return [("EPC URI", _read_epc)]
    symbology = text[:3] if text.startswith("]") else None
    if (text[3:] if symbology else text).lower().startswith(("http://", "https://")):
        return [("GS1 Digital Link", _read_digital_link)]
    if text.startswith("("):
        return [("GS1 HRI", _read_hri)]
    if symbology in GS1_SYMBOLOGY_IDENTIFIERS:
        return [("GS1 element string", _read_element_string)]
    body = text[3:] if symbology else text
    readers: list[tuple[str, Reader]] = []
    if len(body) == 20 and body.isdigit():
        readers.append(("NMPA 20-digit code", _read_nmpa))
    for fmt in dict.fromkeys(context.national_formats):
        if fmt.delimiter in body:
            readers.append(("national trace code", _national_reader(fmt)))
    readers.extend((f"template {name}", _template_reader(t)) for name, t in context.templates)
    if symbology is None:
        readers.append(("GS1 element string", _read_element_string))
    return readers or [("GS1 element string", _read_element_string)]


def _read_element_string(text: str, context: RecognitionContext) -> ParsedCode:
    scan = parse_scan(text)
    if scan.message is None:
        raise scan.error or CodeFormatError("not GS1 data", hint="give a GS1 element string")
    return _gs1_reading(scan.message, scan.symbology or "]d2", context, form="element string")


def _read_hri(text: str, context: RecognitionContext) -> ParsedCode:
    return _gs1_reading(parse_hri(text), "]d2", context, form="HRI")


def _read_digital_link(text: str, context: RecognitionContext) -> ParsedCode:
    symbology = text[:3] if text.startswith("]") else "]Q1"
    uri = text[3:] if text.startswith("]") else text
    return _gs1_reading(parse_digital_link(uri), symbology, context, form="Digital Link URI")


def _read_epc(text: str, context: RecognitionContext) -> ParsedCode:
    identity = parse_epc_uri(text)
    elements: tuple[Element, ...]
    if identity.kind == "sgtin":
        elements = (Element("01", identity.gtin or ""), Element("21", identity.serial or ""))
    else:
        elements = (Element("00", identity.sscc or ""),)
    reading = _gs1_reading(GS1Message(elements), "]d2", context, form="EPC URI")
    note = Check(
        "EPC company prefix",
        True,
        f"{identity.company_prefix_length} digits, as the URI gives it",
    )
    return ParsedCode(reading.code, (*reading.checks, note), reading.warnings)


def _gs1_reading(
    message: GS1Message, symbology: str, context: RecognitionContext, *, form: str
) -> ParsedCode:
    elements = tuple(message.elements)
    data = encode(elements)
    checks = [
        Check(
            "GS1 syntax", True, f"read as a GS1 {form}; every AI, length and character set is valid"
        )
    ]
    warnings: list[str] = []
    for element in elements:
        definition = lookup(element.ai)
        if definition.check_digit:
            checks.append(
                Check(f"({element.ai}) check digit", True, f"{element.value[-1]} is correct")
            )
        if definition.date:
            day = parse_date(element.value, ai=element.ai, today=context.today)
            note = " (day 00: the last day of the month)" if element.value[4:6] == "00" else ""
            checks.append(
                Check(f"({element.ai}) {definition.title}", True, f"{day.isoformat()}{note}")
            )
    gtin, serial, sscc = message.value("01"), message.value("21"), message.value("00")
    if gtin and serial:
        key = f"01{gtin}21{serial}"
        scheme = SchemeName.GS1
    elif sscc:
        key = f"00{sscc}"
        scheme = SchemeName.SSCC
    else:
        key = data
        scheme = SchemeName.GS1
        warnings.append("no serial: this code identifies a product or lot, not one unit")
    try:
        link = to_digital_link(elements)
    except CodeFormatError:
        link = None
    fields = [(f"({e.ai}) {lookup(e.ai).title}", e.value) for e in elements]
    if link:
        fields.append(("Digital Link", link))
    code = TraceCode(
        scheme=scheme,
        key=key,
        data=data,
        hri=to_hri(elements),
        fields=tuple(fields),
        symbology=symbology,
    )
    return ParsedCode(code, tuple(checks), tuple(warnings))


def _read_nmpa(text: str, context: RecognitionContext) -> ParsedCode:
    body = text[3:] if text.startswith("]") else text
    code = nmpa_trace_code(body, drug_ids=context.drug_ids)
    checks = [Check("shape", True, "20 digits: 7-digit drug ID, 9-digit serial, 4 check digits")]
    if context.drug_ids is not None:
        checks.append(Check("drug ID", True, f"{body[:7]} is in the product master data"))
    warnings = ("the 4 check digits cannot be verified: the issuer's algorithm is not public",)
    return ParsedCode(code, tuple(checks), warnings)


def _national_reader(fmt: NationalCodeFormat) -> Reader:
    return lambda text, _context: _read_national(text, fmt)


def _read_national(text: str, fmt: NationalCodeFormat) -> ParsedCode:
    body = text[3:] if text.startswith("]") else text
    parsed = parse_national_code(body, fmt)
    code = _national_trace_code(parsed)
    checks = (
        Check("USCC check character", True, f"{parsed.uscc[-1]} is correct (GB 32100)"),
        Check(
            "attribute identifier",
            True,
            f"{parsed.attribute_id.value}: {parsed.attribute_id.label_en} "
            f"({parsed.attribute_id.label_zh})",
        ),
    )
    return ParsedCode(code, checks, parsed.warnings)


def _template_reader(template: CodeTemplate) -> Reader:
    def read(text: str, context: RecognitionContext) -> ParsedCode:
        body = text[3:] if text.startswith("]") else text
        code = template_trace_code(template, body)
        checks = [Check("template", True, f"matches {template.source}")]
        if template.check:
            checks.append(Check(f"{template.check} check character", True, "correct"))
        return ParsedCode(code, tuple(checks))

    return read


def describe_error(error: CodeFormatError) -> str:
    """One line for a person: what is wrong, where, and how to fix it."""
    text = str(error)
    if isinstance(error, CheckCharacterError):
        text += f" [expected {error.expected}, found {error.found}]"
    return text
