"""GS1: element strings, HRI, Digital Link, DataMatrix codewords, EPC URIs and SGTIN-96.

Pure functions over strings; every error is a `serialization.errors.CodeFormatError` (or its
`CheckCharacterError`) carrying the field, the character position and a hint.
"""

from serialization.gs1.ai import AIDefinition, ai_at, lookup
from serialization.gs1.checkdigit import check_digit, gtin14, is_valid_key, validate_check_digit
from serialization.gs1.datamatrix import datamatrix_codewords, datamatrix_payload
from serialization.gs1.dates import format_date, parse_date
from serialization.gs1.digital_link import parse_digital_link, to_digital_link
from serialization.gs1.element import (
    GS,
    GS1_SYMBOLOGY_IDENTIFIERS,
    Element,
    GS1Message,
    encode,
    parse,
    parse_hri,
    to_hri,
    validate_element,
)
from serialization.gs1.epc import (
    EpcIdentity,
    decode_sgtin96,
    parse_epc_uri,
    pure_identity_uri,
    sgtin96_hex,
    sgtin_uri,
    sscc_uri,
)
from serialization.gs1.scan import Scan, parse_scan

__all__ = [
    "GS",
    "GS1_SYMBOLOGY_IDENTIFIERS",
    "AIDefinition",
    "Element",
    "EpcIdentity",
    "GS1Message",
    "Scan",
    "ai_at",
    "check_digit",
    "datamatrix_codewords",
    "datamatrix_payload",
    "decode_sgtin96",
    "encode",
    "format_date",
    "gtin14",
    "is_valid_key",
    "lookup",
    "parse",
    "parse_date",
    "parse_digital_link",
    "parse_epc_uri",
    "parse_hri",
    "parse_scan",
    "pure_identity_uri",
    "sgtin96_hex",
    "sgtin_uri",
    "sscc_uri",
    "to_digital_link",
    "to_hri",
    "validate_check_digit",
    "validate_element",
]
