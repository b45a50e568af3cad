"""Value types of the site file: each checks itself and says in words what is wrong.

Validators raise `InvalidValue` or let a `serialization` error through; both are `ValueError`s
that pydantic wraps, and `config.translate` unwraps them back into a message and a hint.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from collections.abc import Sequence
from functools import cache
from typing import Annotated, Final

from pydantic import AfterValidator, BaseModel, ConfigDict

from config.problems import InvalidValue
from serialization.gs1.checkdigit import validate_check_digit
from serialization.uscc import validate_uscc

_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class StrictModel(BaseModel):
    """Base of every section: a misspelled key is an error, a number is not text, and so on."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _identifier(value: str) -> str:
    if not _ID_PATTERN.fullmatch(value):
        raise InvalidValue(
            f"{value!r} is not a valid id",
            hint="an id is 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit",
        )
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise InvalidValue("must not be empty")
    return value.strip()


def require_digits(value: str, lengths: tuple[int, ...], what: str) -> str:
    """Digits only, in one of `lengths`; full-width digits and spaces get their own hint."""
    for index, char in enumerate(value):
        if not "0" <= char <= "9":
            hint = "digits only"
            if "０" <= char <= "９":
                hint = "a full-width digit: type half-width (ASCII) digits"
            elif char.isspace() or char in "-.":
                hint = "remove spaces and separators"
            raise InvalidValue(f"{char!r} at character {index + 1} of the {what}", hint=hint)
    if len(value) not in lengths:
        expected = " or ".join(str(n) for n in lengths)
        if len(lengths) > 2 and lengths == tuple(range(lengths[0], lengths[-1] + 1)):
            expected = f"{lengths[0]} to {lengths[-1]}"
        raise InvalidValue(f"a {what} has {expected} digits, not {len(value)}")
    return value


def _gtin(value: str) -> str:
    require_digits(value, (8, 12, 13, 14), "GTIN")
    validate_check_digit(value)
    return value


def _gln(value: str) -> str:
    require_digits(value, (13,), "GLN")
    validate_check_digit(value)
    return value


def _company_prefix(value: str) -> str:
    return require_digits(value, tuple(range(6, 13)), "GS1 company prefix")


def _nmpa_drug_id(value: str) -> str:
    return require_digits(value, (7,), "NMPA drug identification code (药品标识码)")


def _uscc(value: str) -> str:
    validate_uscc(value, field="uscc")
    return value


_CHINA_ZONE_WORDS: Final = ("beijing", "china", "prc", "cst", "+8", "+08", "gmt8", "utc8")


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        names = _zone_names()
        if not names:
            raise InvalidValue(
                f"unknown time zone {value!r}: this computer has no time zone database",
                hint="install the tzdata package",
            ) from None
        if any(word in value.lower() for word in _CHINA_ZONE_WORDS):
            hint = "mainland China uses Asia/Shanghai (UTC+8)"
        else:
            close = difflib.get_close_matches(value, names, n=1)
            hint = f"did you mean {close[0]}?" if close else "use an IANA name, e.g. Asia/Shanghai"
        raise InvalidValue(f"unknown time zone {value!r}", hint=hint) from None
    return value


Identifier = Annotated[str, AfterValidator(_identifier)]
Text = Annotated[str, AfterValidator(_not_blank)]
Gtin = Annotated[str, AfterValidator(_gtin)]
Gln = Annotated[str, AfterValidator(_gln)]
CompanyPrefix = Annotated[str, AfterValidator(_company_prefix)]
NmpaDrugId = Annotated[str, AfterValidator(_nmpa_drug_id)]
Uscc = Annotated[str, AfterValidator(_uscc)]
TimeZoneName = Annotated[str, AfterValidator(_timezone)]


def close_match_hint(value: object, choices: Sequence[str]) -> str | None:
    """``did you mean 'gtin'?`` when `value` looks like a misspelling of one of `choices`."""
    if not isinstance(value, str):
        return None
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None
