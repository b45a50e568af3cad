"""EPC pure-identity URIs (GS1 Tag Data Standard) for SGTIN and SSCC, and SGTIN-96 tags.

The split of a GTIN or SSCC into GS1 company prefix and reference cannot be read from the
key itself: the prefix length comes from master data (GS1 membership) and is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from serialization.errors import CodeFormatError
from serialization.gs1.checkdigit import check_digit, gtin14, validate_check_digit
from serialization.gs1.validate import validate_element

SGTIN_PREFIX = "urn:epc:id:sgtin:"
SSCC_PREFIX = "urn:epc:id:sscc:"
SGTIN96_TAG_PREFIX = "urn:epc:tag:sgtin-96:"

_ESCAPES = {'"': "%22", "%": "%25", "&": "%26", "/": "%2F", "<": "%3C", ">": "%3E", "?": "%3F"}
"""Serial characters that TDS requires percent-escaped in an EPC URI; all others stay as is."""
_UNESCAPES = {code: char for char, code in _ESCAPES.items()}
_SERIAL_TRANSLATION = str.maketrans(_ESCAPES)

SGTIN96_MAX_SERIAL = 2**38 - 1
_SGTIN96_HEADER = 0x30
_PARTITIONS = ((40, 12, 4, 1), (37, 11, 7, 2), (34, 10, 10, 3), (30, 9, 14, 4),
               (27, 8, 17, 5), (24, 7, 20, 6), (20, 6, 24, 7))  # fmt: skip
"""SGTIN partition table: company prefix bits and digits, item reference bits and digits."""


@dataclass(frozen=True, slots=True)
class EpcIdentity:
    kind: Literal["sgtin", "sscc"]
    company_prefix_length: int
    gtin: str | None = None
    """14 digits, check digit recomputed (the URI does not carry it)."""
    sscc: str | None = None
    """18 digits, check digit recomputed."""
    serial: str | None = None
    """The SGTIN serial, unescaped."""


def _check_prefix_length(company_prefix_length: int) -> None:
    if not 6 <= company_prefix_length <= 12:
        raise CodeFormatError(
            f"a GS1 company prefix has 6 to 12 digits, not {company_prefix_length}",
            field="company_prefix_length",
            hint="take the prefix length from the GS1 membership record of the brand owner",
        )


def _escape_serial(serial: str) -> str:
    validate_element("21", serial)
    return serial.translate(_SERIAL_TRANSLATION)


def sgtin_uri(gtin: str, serial: str, company_prefix_length: int) -> str:
    """`urn:epc:id:sgtin:{prefix}.{indicator}{item ref}.{serial}` for a GTIN and serial."""
    _check_prefix_length(company_prefix_length)
    key = gtin14(gtin, field="gtin")
    prefix_end = 1 + company_prefix_length
    return (
        f"{SGTIN_PREFIX}{key[1:prefix_end]}.{key[0]}{key[prefix_end:13]}.{_escape_serial(serial)}"
    )


def sscc_uri(sscc: str, company_prefix_length: int) -> str:
    """`urn:epc:id:sscc:{prefix}.{extension}{serial ref}` for an 18-digit SSCC."""
    _check_prefix_length(company_prefix_length)
    if len(sscc) != 18:
        raise CodeFormatError(
            f"an SSCC has 18 digits, not {len(sscc)}",
            field="sscc",
            hint="keep leading zeros",
        )
    validate_check_digit(sscc, field="sscc")
    prefix_end = 1 + company_prefix_length
    return f"{SSCC_PREFIX}{sscc[1:prefix_end]}.{sscc[0]}{sscc[prefix_end:17]}"


def _digits(text: str, what: str, position: int, lengths: range) -> None:
    if not (text.isascii() and text.isdigit()) or len(text) not in lengths:
        raise CodeFormatError(
            f"the {what} must be {lengths.start}"
            + (f" to {lengths.stop - 1}" if len(lengths) > 1 else "")
            + f" digits, not {text!r}",
            field=what,
            position=position,
            hint="check the URI against the GS1 Tag Data Standard",
        )


def parse_epc_uri(uri: str) -> EpcIdentity:
    """Read an SGTIN or SSCC pure-identity URI back into GS1 keys."""
    if uri.startswith(SGTIN_PREFIX):
        return _parse_sgtin(uri)
    if uri.startswith(SSCC_PREFIX):
        return _parse_sscc(uri)
    raise CodeFormatError(
        "not an SGTIN or SSCC pure-identity URI",
        position=0,
        hint=f"expected {SGTIN_PREFIX}… or {SSCC_PREFIX}…",
    )


def _parts(uri: str, start: int, count: int) -> list[tuple[str, int]]:
    texts = uri[start:].split(".", count - 1)
    if len(texts) != count:
        raise CodeFormatError(
            f"expected {count} parts separated by '.'",
            position=len(uri),
            hint="check the URI against the GS1 Tag Data Standard",
        )
    parts = []
    position = start
    for text in texts:
        parts.append((text, position))
        position += len(text) + 1
    return parts


def _parse_sgtin(uri: str) -> EpcIdentity:
    (prefix, at), (reference, reference_at), (raw_serial, serial_at) = _parts(
        uri, len(SGTIN_PREFIX), 3
    )
    _digits(prefix, "company prefix", at, range(6, 13))
    _digits(
        reference,
        "indicator and item reference",
        reference_at,
        range(13 - len(prefix), 14 - len(prefix)),
    )
    body = reference[0] + prefix + reference[1:]
    serial = _unescape_serial(raw_serial, serial_at)
    return EpcIdentity("sgtin", len(prefix), gtin=body + check_digit(body), serial=serial)


def _parse_sscc(uri: str) -> EpcIdentity:
    (prefix, at), (reference, reference_at) = _parts(uri, len(SSCC_PREFIX), 2)
    _digits(prefix, "company prefix", at, range(6, 13))
    _digits(
        reference,
        "extension and serial reference",
        reference_at,
        range(17 - len(prefix), 18 - len(prefix)),
    )
    body = reference[0] + prefix + reference[1:]
    return EpcIdentity("sscc", len(prefix), sscc=body + check_digit(body))


def _unescape_serial(raw: str, at: int) -> str:
    chars = []
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == "%":
            escaped = _UNESCAPES.get(raw[index : index + 3].upper())
            if escaped is None:
                raise CodeFormatError(
                    f"{raw[index : index + 3]!r} is not an escape the Tag Data Standard allows",
                    field="serial",
                    position=at + index,
                    hint="only %22 %25 %26 %2F %3C %3E %3F appear in an EPC URI serial",
                )
            chars.append(escaped)
            index += 3
            continue
        if char in _ESCAPES:
            raise CodeFormatError(
                f"{char!r} must be percent-escaped in an EPC URI",
                field="serial",
                position=at + index,
                hint=f"write it as {_ESCAPES[char]}",
            )
        chars.append(char)
        index += 1
    serial = "".join(chars)
    try:
        validate_element("21", serial)
    except CodeFormatError as error:
        raise CodeFormatError(error.message, field="serial", position=at, hint=error.hint) from None
    return serial


def _sgtin96_serial(serial: str) -> int:
    if not (serial.isascii() and serial.isdigit()) or (len(serial) > 1 and serial[0] == "0"):
        raise CodeFormatError(
            f"SGTIN-96 cannot carry the serial {serial!r}",
            field="serial",
            hint="SGTIN-96 takes digits without leading zeros; use SGTIN-198 for "
            "alphanumeric serials or serials with leading zeros",
        )
    number = int(serial)
    if number > SGTIN96_MAX_SERIAL:
        raise CodeFormatError(
            f"the serial {serial} is larger than SGTIN-96's {SGTIN96_MAX_SERIAL}",
            field="serial",
            hint="use SGTIN-198 for serials this large",
        )
    return number


def sgtin96_hex(gtin: str, serial: str, company_prefix_length: int, filter_value: int = 1) -> str:
    """The 96-bit SGTIN-96 EPC as 24 uppercase hex digits."""
    _check_prefix_length(company_prefix_length)
    if not 0 <= filter_value <= 7:
        raise CodeFormatError(
            f"the filter value is 0 to 7, not {filter_value}",
            field="filter_value",
            hint="1 is a point-of-sale trade item",
        )
    key = gtin14(gtin, field="gtin")
    number = _sgtin96_serial(serial)
    partition = 12 - company_prefix_length
    prefix_bits, _, reference_bits, _ = _PARTITIONS[partition]
    prefix_end = 1 + company_prefix_length
    value = _SGTIN96_HEADER
    value = (value << 3) | filter_value
    value = (value << 3) | partition
    value = (value << prefix_bits) | int(key[1:prefix_end])
    value = (value << reference_bits) | int(key[0] + key[prefix_end:13])
    value = (value << 38) | number
    return f"{value:024X}"


def decode_sgtin96(hex_epc: str) -> str:
    """The tag URI `urn:epc:tag:sgtin-96:F.P.IR.S` of a 96-bit SGTIN-96 EPC in hex."""
    if len(hex_epc) != 24 or not all(c in "0123456789abcdefABCDEF" for c in hex_epc):
        raise CodeFormatError(
            "an SGTIN-96 EPC is 24 hex digits",
            field="epc",
            hint="read the EPC bank from bit 20h, 96 bits",
        )
    value = int(hex_epc, 16)
    if value >> 88 != _SGTIN96_HEADER:
        raise CodeFormatError(
            f"header {hex_epc[:2]} is not SGTIN-96 (30)",
            field="epc",
            position=0,
            hint="this tag carries another EPC scheme",
        )
    filter_value = (value >> 85) & 0b111
    partition = (value >> 82) & 0b111
    if partition >= len(_PARTITIONS):
        raise CodeFormatError(
            f"partition {partition} does not exist",
            field="epc",
            position=2,
            hint="SGTIN partitions are 0 to 6",
        )
    prefix_bits, prefix_digits, reference_bits, reference_digits = _PARTITIONS[partition]
    serial = value & SGTIN96_MAX_SERIAL
    reference = (value >> 38) & ((1 << reference_bits) - 1)
    prefix = (value >> (38 + reference_bits)) & ((1 << prefix_bits) - 1)
    if prefix >= 10**prefix_digits or reference >= 10**reference_digits:
        raise CodeFormatError(
            "the company prefix or item reference is too large for its partition",
            field="epc",
            hint="the tag was not encoded per the GS1 Tag Data Standard",
        )
    return (
        f"{SGTIN96_TAG_PREFIX}{filter_value}.{prefix:0{prefix_digits}d}"
        f".{reference:0{reference_digits}d}.{serial}"
    )


def pure_identity_uri(tag_uri: str) -> str:
    """The pure-identity URI of an SGTIN-96 tag URI (drops the filter value)."""
    if not tag_uri.startswith(SGTIN96_TAG_PREFIX):
        raise CodeFormatError(
            "not an SGTIN-96 tag URI",
            position=0,
            hint=f"expected {SGTIN96_TAG_PREFIX}F.P.IR.S",
        )
    _, _, identity = tag_uri[len(SGTIN96_TAG_PREFIX) :].partition(".")
    return SGTIN_PREFIX + identity
