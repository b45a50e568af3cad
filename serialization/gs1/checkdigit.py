"""GS1 mod-10 check digit: GTIN-8/12/13/14, SSCC, GLN, and China's 药品本位码."""

from __future__ import annotations

from serialization.errors import CheckCharacterError, CodeFormatError


def check_digit(body: str) -> str:
    """Check digit for the digits before it: weights 3, 1, 3, 1… from the right."""
    if not body.isascii() or not body.isdigit():
        raise CodeFormatError(f"{body!r} is not all digits", hint="a GS1 key is digits only")
    total = 0
    weight = 3
    for char in reversed(body):
        total += (ord(char) - 48) * weight
        weight = 4 - weight
    return str((10 - total % 10) % 10)


def validate_check_digit(key: str, *, field: str | None = None, offset: int = 0) -> None:
    """Raise `CheckCharacterError` unless the last digit of `key` is its check digit."""
    if len(key) < 2 or not key.isascii() or not key.isdigit():
        raise CodeFormatError(
            f"{key!r} is not a GS1 key", field=field, position=offset, hint="digits only"
        )
    expected = check_digit(key[:-1])
    if key[-1] != expected:
        raise CheckCharacterError(
            f"check digit should be {expected}, not {key[-1]}",
            expected=expected,
            found=key[-1],
            field=field,
            position=offset + len(key) - 1,
            hint=f"the key with a correct check digit is {key[:-1]}{expected}",
        )


def is_valid_key(key: str) -> bool:
    try:
        validate_check_digit(key)
    except CodeFormatError:
        return False
    return True


def gtin14(gtin: str, *, field: str | None = None) -> str:
    """A GTIN-8/12/13/14 as the 14 digits AI (01) takes, after checking its check digit."""
    if len(gtin) not in (8, 12, 13, 14):
        raise CodeFormatError(
            f"a GTIN has 8, 12, 13 or 14 digits, not {len(gtin)}",
            field=field,
            hint="write the GTIN as a string of digits, keeping its leading zeros",
        )
    validate_check_digit(gtin, field=field)
    return gtin.rjust(14, "0")


_TIMES_THREE = str.maketrans("0123456789", "0369258147")


def check_digit_ok(key: str) -> bool:
    """Whether the last digit of `key` is its check digit; the parsers' hot path.

    `key` must already be known to be ASCII digits, at least two of them. Multiplying by 3
    is done digit-wise modulo 10 through a translation table, so the whole sum runs in C.
    """
    tripled = key[-2::-2].translate(_TIMES_THREE)
    total = sum(tripled.encode()) + sum(key[-1::-2].encode()) - 48 * len(key)
    return total % 10 == 0
