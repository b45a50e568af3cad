"""ISO/IEC 7064 check characters for serials and plant-specific codes.

Three systems, selected by name:

- ``mod11_10``: hybrid MOD 11,10 over the digits, one check digit.
- ``mod37_36``: hybrid MOD 37,36 over ``0-9A-Z``, one check character.
- ``mod97_10``: pure MOD 97-10 over ``0-9A-Z`` (letters count as 10..35, as in IBAN and LEI),
  two check digits.

A hybrid MOD (M+1, M) system catches every single substitution only when M is even (the
doubling step is then a bijection modulo the odd M+1); `hybrid_check` therefore refuses an
alphabet of odd length.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple, Protocol

from serialization.errors import CheckCharacterError, CodeFormatError

DIGITS = string.digits
ALPHANUMERIC = string.digits + string.ascii_uppercase


def _locate_bad_char(body: str, alphabet: str, *, field: str | None, offset: int) -> None:
    for index, char in enumerate(body):
        if char not in alphabet:
            if char.islower() and char.upper() in alphabet:
                hint = f"write {char!r} in upper case"
            elif alphabet == DIGITS:
                hint = "this check system takes digits only"
            else:
                hint = "this check system takes digits and upper-case letters A-Z only"
            raise CodeFormatError(
                f"{char!r} cannot be part of a checked code",
                field=field,
                position=offset + index,
                hint=hint,
            )


def _require_body(body: str, alphabet: str, *, field: str | None, offset: int) -> None:
    if not body:
        raise CodeFormatError(
            "nothing to compute a check character over",
            field=field,
            position=offset,
            hint="give at least one character before the check character",
        )
    _locate_bad_char(body, alphabet, field=field, offset=offset)


def hybrid_check(body: str, alphabet: str, *, field: str | None = None, offset: int = 0) -> str:
    """Check character of `body` in the hybrid system MOD (M+1, M), M = ``len(alphabet)``.

    A character's value is its index in `alphabet`. `field` and `offset` locate errors when
    `body` is a slice of a longer input.
    """
    modulus = len(alphabet)
    if modulus < 2 or modulus % 2 or len(set(alphabet)) != modulus:
        raise CodeFormatError(
            f"alphabet {alphabet!r} cannot carry a hybrid ISO/IEC 7064 check",
            field="alphabet",
            hint="use an even number (at least 2) of distinct characters, e.g. 0-9 or 0-9A-Z",
        )
    _require_body(body, alphabet, field=field, offset=offset)
    product = modulus
    for char in body:
        total = (product + alphabet.index(char)) % modulus or modulus
        product = (2 * total) % (modulus + 1)
    return alphabet[(modulus + 1 - product) % modulus]


def mod11_10_check(body: str, *, field: str | None = None, offset: int = 0) -> str:
    """ISO/IEC 7064 MOD 11,10 check digit of a string of digits."""
    return hybrid_check(body, DIGITS, field=field, offset=offset)


def mod37_36_check(body: str, *, field: str | None = None, offset: int = 0) -> str:
    """ISO/IEC 7064 MOD 37,36 check character of a string over ``0-9A-Z``."""
    return hybrid_check(body, ALPHANUMERIC, field=field, offset=offset)


def mod97_10_check(body: str, *, field: str | None = None, offset: int = 0) -> str:
    """ISO/IEC 7064 MOD 97-10 check digits (always two) of a string over ``0-9A-Z``.

    Letters stand for 10..35, so ``7Q2XK9PZ4M`` is read as the number 7262332092535422.
    """
    _require_body(body, ALPHANUMERIC, field=field, offset=offset)
    remainder = 0
    for char in body:
        value = ALPHANUMERIC.index(char)
        remainder = (remainder * (100 if value >= 10 else 10) + value) % 97
    return f"{98 - remainder * 100 % 97:02d}"


class CheckFunction(Protocol):
    def __call__(self, body: str, *, field: str | None = ..., offset: int = ...) -> str: ...


class CheckSystem(NamedTuple):
    compute: CheckFunction
    """Check character(s) of a body."""
    length: int
    """Number of check characters the system appends."""
    alphabet: str
    """Characters a body may contain."""


CHECK_SYSTEMS: Mapping[str, CheckSystem] = MappingProxyType(
    {
        "mod11_10": CheckSystem(mod11_10_check, 1, DIGITS),
        "mod37_36": CheckSystem(mod37_36_check, 1, ALPHANUMERIC),
        "mod97_10": CheckSystem(mod97_10_check, 2, ALPHANUMERIC),
    }
)


def check_system(name: str) -> CheckSystem:
    """The system called `name`, or a `CodeFormatError` listing the known names."""
    try:
        return CHECK_SYSTEMS[name]
    except KeyError:
        raise CodeFormatError(
            f"unknown check system {name!r}",
            field="check",
            hint=f"use one of {', '.join(sorted(CHECK_SYSTEMS))}",
        ) from None


def compute(body: str, system: str, *, field: str | None = None, offset: int = 0) -> str:
    """Check character(s) of `body` in the system called `system`."""
    return check_system(system).compute(body, field=field, offset=offset)


def validate(code: str, system: str, *, field: str | None = None, offset: int = 0) -> None:
    """Raise unless `code` ends with the correct check character(s) for the rest of it."""
    length = check_system(system).length
    if len(code) <= length:
        raise CodeFormatError(
            f"{code!r} is too short to carry a body and {length} check character(s)",
            field=field,
            position=offset + len(code),
            hint="give the body followed by its check character(s)",
        )
    body, found = code[:-length], code[-length:]
    expected = compute(body, system, field=field, offset=offset)
    if found != expected:
        raise CheckCharacterError(
            f"{system} check should be {expected}, not {found}",
            expected=expected,
            found=found,
            field=field,
            position=offset + len(body),
            hint=f"re-read or re-type the code; with a correct check it reads {body}{expected}",
        )


def is_valid(code: str, system: str) -> bool:
    try:
        validate(code, system)
    except CodeFormatError:
        return False
    return True
