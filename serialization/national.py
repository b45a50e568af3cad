"""National important-product trace code (国家重要产品追溯体系编码规则(试行), 2017, §五(三)).

``(统一社会信用代码).(产品分类与代码).(产地代码).(属性标识符).(属性码)``:

==================  ===========================================================================
uscc                GB 32100 unified social credit code, 18 characters, check character verified
product_class       GB/T 7635.1 product class: six levels, 1+1+1+1+1+3 digits, so a complete
                    code has 8 digits and a higher-level class 1-5 (written without the ``·``)
origin              place of origin: GB/T 2260 county code (6 digits), or a GB/T 10114
                    below-county code (9 digits for a township, 12 for a village)
attribute_id        one digit 1-6 saying what the attribute code is (`AttributeId`)
attribute_code      the value: the only part that changes from unit to unit
==================  ===========================================================================

The 2017 text fixes the origin at 6 digits; longer GB/T 10114 codes are accepted because its
normative references include that standard. The trial rules are superseded by GB/T 44583-2024,
whose text was not available: every width and the delimiter live in `NationalCodeFormat` so a
plant can follow its platform without a code change.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from enum import IntEnum

from serialization.codes import SchemeName, TraceCode
from serialization.errors import CodeFormatError
from serialization.uscc import validate_uscc

QR_SYMBOLOGY = "]Q1"
SEGMENTS = ("uscc", "product_class", "origin", "attribute_id", "attribute_code")


class AttributeId(IntEnum):
    """属性标识符: what the attribute code identifies. Only the standards body may add more."""

    TRADE_UNIT = 1
    SERIAL = 2
    INPUT_BATCH = 3
    FINISHED_BATCH = 4
    SHIPPING_BATCH = 5
    LOGISTIC_UNIT = 6

    @property
    def label_zh(self) -> str:
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _LABELS[self][1]


_LABELS = {
    AttributeId.TRADE_UNIT: ("交易单元编码", "trade unit"),
    AttributeId.SERIAL: ("产品序列号", "serial number"),
    AttributeId.INPUT_BATCH: ("投入品批次编码", "input batch"),
    AttributeId.FINISHED_BATCH: ("成品批次编码", "finished-product batch"),
    AttributeId.SHIPPING_BATCH: ("出厂批次编码", "shipping batch"),
    AttributeId.LOGISTIC_UNIT: ("物流单元编码", "logistic unit"),
}


def _format_error(message: str, hint: str) -> CodeFormatError:
    return CodeFormatError(message, field="format", hint=hint)


@dataclass(frozen=True, slots=True)
class NationalCodeFormat:
    """The layout of a national trace code: delimiter and the accepted segment lengths."""

    delimiter: str = "."
    product_class_lengths: tuple[int, ...] = (1, 2, 3, 4, 5, 8)
    origin_lengths: tuple[int, ...] = (6, 9, 12)
    attribute_code_alphabet: str = string.digits + string.ascii_uppercase
    attribute_code_length: tuple[int, int] = (1, 32)
    """Shortest and longest attribute code, inclusive."""

    def __post_init__(self) -> None:
        if not self.delimiter:
            raise _format_error("the delimiter is empty", "use a delimiter such as '.'")
        overlap = set(self.delimiter) & set(
            string.ascii_letters + string.digits + self.attribute_code_alphabet
        )
        if overlap:
            raise _format_error(
                f"delimiter {self.delimiter!r} shares {''.join(sorted(overlap))!r} with the "
                "segments",
                "pick a delimiter made of characters no segment can contain, such as '.'",
            )
        for name, lengths in (
            ("product_class_lengths", self.product_class_lengths),
            ("origin_lengths", self.origin_lengths),
        ):
            if not lengths or min(lengths) < 1:
                raise _format_error(f"{name} is {lengths!r}", "give one or more positive lengths")
        shortest, longest = self.attribute_code_length
        if not 1 <= shortest <= longest:
            raise _format_error(
                f"attribute_code_length is {self.attribute_code_length!r}",
                "give (shortest, longest) with 1 <= shortest <= longest",
            )
        if not self.attribute_code_alphabet or not self.attribute_code_alphabet.isprintable():
            raise _format_error(
                "attribute_code_alphabet is empty or has unprintable characters",
                "list the characters an attribute code may use, e.g. 0-9 and A-Z",
            )


DEFAULT_FORMAT = NationalCodeFormat()


@dataclass(frozen=True, slots=True)
class NationalCode:
    uscc: str
    product_class: str
    origin: str
    attribute_id: AttributeId
    attribute_code: str
    delimiter: str = "."
    warnings: tuple[str, ...] = ()
    """Soft findings, e.g. a USCC whose organisation code fails its own GB 11714 check."""

    @property
    def text(self) -> str:
        return self.delimiter.join(
            (
                self.uscc,
                self.product_class,
                self.origin,
                str(self.attribute_id.value),
                self.attribute_code,
            )
        )


def _lengths_text(lengths: tuple[int, ...]) -> str:
    *others, last = map(str, sorted(set(lengths)))
    return f"{', '.join(others)} or {last}" if others else last


def _check_digits(name: str, value: str, lengths: tuple[int, ...], offset: int, why: str) -> None:
    for index, char in enumerate(value):
        if not "0" <= char <= "9":
            hint = f"{why}; digits only"
            if char == "·":
                hint = "write the GB/T 7635.1 code without its middle dot, e.g. 01111010"
            raise CodeFormatError(
                f"{char!r} is not a digit", field=name, position=offset + index, hint=hint
            )
    if len(value) not in lengths:
        raise CodeFormatError(
            f"{name} has {len(value)} digits; it takes {_lengths_text(lengths)}",
            field=name,
            position=offset,
            hint=why,
        )


def _check_attribute_id(value: str, offset: int) -> AttributeId:
    if len(value) != 1 or not "1" <= value <= "6":
        raise CodeFormatError(
            f"attribute identifier {value!r} is not one of 1-6",
            field="attribute_id",
            position=offset,
            hint="1 trade unit, 2 serial, 3 input batch, 4 finished batch, 5 shipping batch, "
            "6 logistic unit",
        )
    return AttributeId(int(value))


def _check_attribute_code(value: str, fmt: NationalCodeFormat, offset: int) -> None:
    for index, char in enumerate(value):
        if char not in fmt.attribute_code_alphabet:
            hint = "use only the configured characters"
            if char.islower() and char.upper() in fmt.attribute_code_alphabet:
                hint = f"write {char!r} in upper case"
            raise CodeFormatError(
                f"{char!r} cannot appear in the attribute code",
                field="attribute_code",
                position=offset + index,
                hint=hint,
            )
    shortest, longest = fmt.attribute_code_length
    if not shortest <= len(value) <= longest:
        raise CodeFormatError(
            f"attribute code has {len(value)} characters; it takes {shortest} to {longest}",
            field="attribute_code",
            position=offset + min(len(value), longest),
            hint="check the serial or batch number that was put into the code",
        )


def _check_segments(
    segments: tuple[str, str, str, str, str], offsets: tuple[int, ...], fmt: NationalCodeFormat
) -> NationalCode:
    uscc, product_class, origin, attribute_id, attribute_code = segments
    warnings = validate_uscc(uscc, field="uscc", offset=offsets[0])
    _check_digits(
        "product_class",
        product_class,
        fmt.product_class_lengths,
        offsets[1],
        "a GB/T 7635.1 product class code",
    )
    _check_digits(
        "origin",
        origin,
        fmt.origin_lengths,
        offsets[2],
        "a GB/T 2260 county code (6 digits) or GB/T 10114 below-county code",
    )
    parsed_id = _check_attribute_id(attribute_id, offsets[3])
    _check_attribute_code(attribute_code, fmt, offsets[4])
    return NationalCode(
        uscc=uscc,
        product_class=product_class,
        origin=origin,
        attribute_id=parsed_id,
        attribute_code=attribute_code,
        delimiter=fmt.delimiter,
        warnings=tuple(warnings),
    )


def build_national_code(
    uscc: str,
    product_class: str,
    origin: str,
    attribute_id: int,
    attribute_code: str,
    *,
    fmt: NationalCodeFormat = DEFAULT_FORMAT,
) -> str:
    """The trace code for these segments, after validating each one.

    Error positions count from the start of the offending segment, since that is the input.
    """
    if isinstance(attribute_id, bool) or attribute_id not in tuple(AttributeId):
        raise CodeFormatError(
            f"attribute identifier {attribute_id!r} is not one of 1-6",
            field="attribute_id",
            position=0,
            hint="1 trade unit, 2 serial, 3 input batch, 4 finished batch, 5 shipping batch, "
            "6 logistic unit",
        )
    segments = (uscc, product_class, origin, str(int(attribute_id)), attribute_code)
    return _check_segments(segments, (0,) * len(SEGMENTS), fmt).text


def parse_national_code(text: str, fmt: NationalCodeFormat = DEFAULT_FORMAT) -> NationalCode:
    """Split and validate a trace code; error positions index into `text`."""
    parts = text.split(fmt.delimiter)
    offsets = []
    start = 0
    for part in parts:
        offsets.append(start)
        start += len(part) + len(fmt.delimiter)
    layout = "the code reads (USCC).(product class).(origin).(attribute id).(attribute code)"
    if len(parts) < len(SEGMENTS):
        raise CodeFormatError(
            f"the code ends before its {SEGMENTS[len(parts)]} segment",
            field=SEGMENTS[len(parts)],
            position=len(text),
            hint=f"{layout}, separated by {fmt.delimiter!r}",
        )
    if len(parts) > len(SEGMENTS):
        raise CodeFormatError(
            f"{fmt.delimiter!r} after the attribute code starts a sixth segment",
            field="attribute_code",
            position=offsets[len(SEGMENTS)] - len(fmt.delimiter),
            hint=f"{layout}; no segment may contain {fmt.delimiter!r}",
        )
    uscc, product_class, origin, attribute_id, attribute_code = parts
    segments = (uscc, product_class, origin, attribute_id, attribute_code)
    return _check_segments(segments, tuple(offsets), fmt)


def national_trace_code(parsed: NationalCode) -> TraceCode:
    """The code as a `TraceCode` for a QR symbol: the whole code is key, data and printed text."""
    text = parsed.text
    return TraceCode(
        scheme=SchemeName.NATIONAL,
        key=text,
        data=text,
        hri=text,
        fields=(
            ("uscc", parsed.uscc),
            ("product_class", parsed.product_class),
            ("origin", parsed.origin),
            ("attribute_id", str(parsed.attribute_id.value)),
            ("attribute_code", parsed.attribute_code),
        ),
        symbology=QR_SYMBOLOGY,
    )
