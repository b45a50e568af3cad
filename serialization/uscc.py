"""GB 32100-2015 unified social credit code (统一社会信用代码, USCC).

Eighteen characters: registering department (1), entity type (2), GB/T 2260 region code
(3-8, digits), GB 11714 organisation code (9-17) and a check character (18), all from the
31-character alphabet ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (no I, O, S, V, Z).

The check character is hard: a wrong one means a mistyped or forged code. The organisation
code's own GB 11714 check and the department code are only warned about, because published,
genuine codes are the final word and the registers behind them are not ours to second-guess.
"""

from __future__ import annotations

import string

from serialization.errors import CheckCharacterError, CodeFormatError

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
LENGTH = 18
WEIGHTS = tuple(pow(3, i, 31) for i in range(LENGTH - 1))
"""Wᵢ = 3^(i-1) mod 31: 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28."""

REGISTERING_DEPARTMENTS = {
    "1": "机构编制 (establishment office)",
    "2": "外交 (foreign affairs)",
    "3": "司法行政 (justice)",
    "4": "文化 (culture)",
    "5": "民政 (civil affairs)",
    "6": "旅游 (tourism)",
    "7": "宗教 (religious affairs)",
    "8": "工会 (trade unions)",
    "9": "工商 (industry and commerce)",
    "A": "中央军委改革和编制办公室 (military establishment office)",
    "N": "农业 (agriculture)",
    "Y": "其他 (other)",
}

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VALUES = string.digits + string.ascii_uppercase
_REGION = slice(2, 8)
_ORGANISATION = slice(8, 17)


def _part(index: int) -> str:
    if index == 0:
        return "registering_department"
    if index == 1:
        return "entity_type"
    if index < _REGION.stop:
        return "region"
    if index < _ORGANISATION.stop:
        return "organisation_code"
    return "check"


def _check_alphabet(text: str, *, field: str, offset: int) -> None:
    for index, char in enumerate(text):
        if char in ALPHABET:
            continue
        if char.islower() and char.upper() in ALPHABET:
            hint = f"write {char!r} in upper case"
        elif char.upper() in "IOSVZ":
            hint = "GB 32100 uses no I, O, S, V or Z; check for 1, 0, 5, U or 2"
        else:
            hint = f"a USCC uses only {ALPHABET}"
        raise CodeFormatError(
            f"{char!r} cannot appear in a unified social credit code",
            field=f"{field}.{_part(index)}",
            position=offset + index,
            hint=hint,
        )


def uscc_check_char(body17: str, *, field: str = "uscc", offset: int = 0) -> str:
    """The 18th character for the first 17: ``ALPHABET[(31 - Σ vᵢ·Wᵢ mod 31) mod 31]``."""
    if len(body17) != LENGTH - 1:
        raise CodeFormatError(
            f"a USCC body has 17 characters, not {len(body17)}",
            field=field,
            position=offset + min(len(body17), LENGTH - 1),
            hint="give the first 17 characters of the code, without the check character",
        )
    _check_alphabet(body17, field=field, offset=offset)
    total = sum(ALPHABET.index(char) * weight for char, weight in zip(body17, WEIGHTS, strict=True))
    return ALPHABET[-total % 31]


def organisation_code_check(body8: str) -> str:
    """GB 11714 check of an 8-character organisation code body: 11 - Σ mod 11, 10 → X, 11 → 0."""
    total = sum(_ORG_VALUES.index(char) * w for char, w in zip(body8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def validate_uscc(code: str, *, field: str = "uscc", offset: int = 0) -> list[str]:
    """Raise on a malformed USCC or a wrong check character; return warnings about the rest.

    `field` names the code in errors (``uscc.region``, ``uscc.check``…) and `offset` is where
    the code starts in a longer input, so positions point into that input.
    """
    if len(code) != LENGTH:
        raise CodeFormatError(
            f"a unified social credit code has 18 characters, not {len(code)}",
            field=field,
            position=offset + min(len(code), LENGTH),
            hint="copy the code again from the business licence; it has 18 characters",
        )
    _check_alphabet(code, field=field, offset=offset)
    for index in range(_REGION.start, _REGION.stop):
        if not code[index].isdigit():
            raise CodeFormatError(
                f"{code[index]!r} in the region code (characters 3-8)",
                field=f"{field}.region",
                position=offset + index,
                hint="characters 3-8 are a GB/T 2260 region code: digits only",
            )
    expected = uscc_check_char(code[:-1], field=field, offset=offset)
    if code[-1] != expected:
        raise CheckCharacterError(
            f"check character should be {expected}, not {code[-1]}",
            expected=expected,
            found=code[-1],
            field=f"{field}.check",
            position=offset + LENGTH - 1,
            hint="re-read the code from the business licence; one of its characters is wrong",
        )
    warnings = []
    if code[0] not in REGISTERING_DEPARTMENTS:
        warnings.append(
            f"{field}: registering department code {code[0]!r} is not one GB 32100 lists "
            f"({', '.join(REGISTERING_DEPARTMENTS)})"
        )
    organisation = code[_ORGANISATION]
    org_check = organisation_code_check(organisation[:-1])
    if organisation[-1] != org_check:
        warnings.append(
            f"{field}: organisation code {organisation} fails its GB 11714 check "
            f"(expected {org_check} as character 17, found {organisation[-1]})"
        )
    return warnings


def is_valid_uscc(code: str) -> bool:
    try:
        validate_uscc(code)
    except CodeFormatError:
        return False
    return True
