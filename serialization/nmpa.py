"""China's NMPA drug traceability codes (NMPAB/T 1002-2019 药品追溯码编码要求).

The standard allows a trace code in one of two forms:

- **The 20-digit domestic code** (中国药品电子监管码 / 码上放心): a 7-digit 药品标识码 (drug
  identification code), a 9-digit 单件序列号 (serial) and a 4-digit 校验位 (check), printed in
  Code 128 set C with the digits beneath. The check comes from an unpublished algorithm, so
  the gateway cannot compute or verify it: codes are opaque numbers supplied by the issuer,
  and only their shape and the drug ID (against master data) are checked here. One source
  describes a leading "mark digit" instead of 7+9+4; the 7+9+4 reading is used.
- **The GS1 form** (coded per ISO international standards): a GS1 element string whose (01)
  GTIN is the 药品标识码 and whose (21) serial, with (10) batch and/or (17) expiry, forms the
  生产标识码 (production identification code). The GS1 scheme produces that form.

Also here: the 14-digit 药品本位码 (national drug code), ``86`` + category + company +
product + a GS1 mod-10 check digit.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from serialization.codes import SchemeName, TraceCode
from serialization.errors import CheckCharacterError, CodeFormatError
from serialization.gs1.checkdigit import check_digit

NMPA20_LENGTH = 20
DRUG_ID_LENGTH = 7
SERIAL_LENGTH = 9
CHECK_LENGTH = 4
DRUG_STANDARD_CODE_LENGTH = 14
CODE128_SYMBOLOGY = "]C0"

_SEGMENTS = (
    ("drug_id", 0, DRUG_ID_LENGTH),
    ("serial", DRUG_ID_LENGTH, DRUG_ID_LENGTH + SERIAL_LENGTH),
    ("check", DRUG_ID_LENGTH + SERIAL_LENGTH, NMPA20_LENGTH),
)
_SHOWN_DRUG_IDS = 10


@dataclass(frozen=True, slots=True)
class Nmpa20Code:
    drug_id: str
    serial: str
    check: str

    @property
    def code(self) -> str:
        return self.drug_id + self.serial + self.check


def _segment_at(index: int) -> str:
    return next(name for name, start, stop in _SEGMENTS if start <= index < stop)


def _digit_hint(char: str) -> str:
    if "０" <= char <= "９":
        return "a full-width digit: switch the keyboard or scanner to half-width (ASCII) digits"
    if char.isspace() or char in "-.":
        return "remove spaces and separators; the code is 20 digits with nothing between them"
    return "the 20-digit drug traceability code is digits only"


def _require_digits(code: str, segment_of: str | None) -> None:
    for index, char in enumerate(code):
        if not ("0" <= char <= "9"):
            raise CodeFormatError(
                f"{char!r} is not a digit",
                field=segment_of or _segment_at(index),
                position=index,
                hint=_digit_hint(char),
            )


def _known_drug_ids(drug_ids: Collection[str]) -> str:
    if not drug_ids:
        return "no drug IDs are configured"
    shown = sorted(drug_ids)[:_SHOWN_DRUG_IDS]
    more = len(drug_ids) - len(shown)
    return "configured drug IDs: " + ", ".join(shown) + (f" and {more} more" if more else "")


def parse_nmpa20(code: str, *, drug_ids: Collection[str] | None = None) -> Nmpa20Code:
    """Split a 20-digit drug traceability code, checking its shape and, if given, its drug ID.

    The four check digits are kept as they are: their algorithm is not public.
    """
    if len(code) != NMPA20_LENGTH:
        _require_digits(code[:NMPA20_LENGTH], None)
        raise CodeFormatError(
            f"the drug traceability code has 20 digits, not {len(code)}",
            field="nmpa20",
            position=min(len(code), NMPA20_LENGTH),
            hint="scan or copy the whole code: 7-digit drug ID, 9-digit serial, 4 check digits",
        )
    _require_digits(code, None)
    parsed = Nmpa20Code(
        drug_id=code[:DRUG_ID_LENGTH],
        serial=code[DRUG_ID_LENGTH : DRUG_ID_LENGTH + SERIAL_LENGTH],
        check=code[DRUG_ID_LENGTH + SERIAL_LENGTH :],
    )
    if drug_ids is not None and parsed.drug_id not in drug_ids:
        raise CodeFormatError(
            f"drug ID {parsed.drug_id} is not in the product master data",
            field="drug_id",
            position=0,
            hint=f"{_known_drug_ids(drug_ids)}; add the product or check the code",
        )
    return parsed


def nmpa_trace_code(
    code: str | Nmpa20Code, *, drug_ids: Collection[str] | None = None
) -> TraceCode:
    """The 20-digit code as a `TraceCode`: the whole code is key, data and printed text."""
    parsed = parse_nmpa20(code if isinstance(code, str) else code.code, drug_ids=drug_ids)
    digits = parsed.code
    return TraceCode(
        scheme=SchemeName.NMPA20,
        key=digits,
        data=digits,
        hri=digits,
        fields=(("drug_id", parsed.drug_id), ("serial", parsed.serial), ("check", parsed.check)),
        symbology=CODE128_SYMBOLOGY,
    )


def validate_drug_standard_code(code: str) -> list[str]:
    """Raise unless `code` is a well-formed 14-digit 药品本位码; return warnings.

    Structure: ``86`` (China) + ``9`` (drugs) + 5-digit company + 5-digit product + a GS1
    mod-10 check digit (GB 18937). Only the category digit is soft: it is documented by a
    single secondary source.
    """
    field = "drug_standard_code"
    if len(code) != DRUG_STANDARD_CODE_LENGTH:
        raise CodeFormatError(
            f"a 药品本位码 has 14 digits, not {len(code)}",
            field=field,
            position=min(len(code), DRUG_STANDARD_CODE_LENGTH),
            hint="copy the code from the NMPA drug database; it has 14 digits",
        )
    _require_digits(code, field)
    if not code.startswith("86"):
        mismatch = 0 if code[0] != "8" else 1
        raise CodeFormatError(
            f"a 药品本位码 starts with 86, not {code[:2]}",
            field=field,
            position=mismatch,
            hint="86 is China's country prefix; this may be a GTIN or another code",
        )
    expected = check_digit(code[:-1])
    if code[-1] != expected:
        raise CheckCharacterError(
            f"check digit should be {expected}, not {code[-1]}",
            expected=expected,
            found=code[-1],
            field=field,
            position=DRUG_STANDARD_CODE_LENGTH - 1,
            hint="re-read the code; one of its digits is wrong",
        )
    if code[2] != "9":
        return [f"{field}: category digit is {code[2]}, not 9 (drugs)"]
    return []
