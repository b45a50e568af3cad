"""Validation of one AI value: characters, length, check digit, date and time.

Each AI gets two validators built once from its definition: a fast yes/no used by the
parsers on every scan, and `check_value`, which explains the first problem it finds. The
parsers call `check_value` only after the fast one said no, so a valid code costs a few
string operations and an invalid one gets a located, explained error.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType

from serialization.errors import CodeFormatError
from serialization.gs1.ai import CSET82, DEFINITIONS, AIDefinition, lookup
from serialization.gs1.checkdigit import check_digit_ok, validate_check_digit
from serialization.gs1.dates import full_year, parse_date

_CSET82_CLASS = '[!"%-?A-Z_a-z]'
_DIGITS = frozenset("0123456789")
_CSET82_TEXT = "!\"%&'()*+,-./0-9:;<=>?A-Z_a-z"

_HOURS = frozenset(f"{h:02d}" for h in range(24))
_MINUTES = frozenset(f"{m:02d}" for m in range(60))
_MONTH_DAYS = frozenset(
    f"{m:02d}{d:02d}" for m in range(1, 13) for d in range(1, calendar.monthrange(2001, m)[1] + 1)
)
"""Every valid `mmdd` except 0229, which depends on the year."""
_MONTH_DAYS_OR_ZERO = _MONTH_DAYS | {f"{m:02d}00" for m in range(1, 13)}
_CACHE_SIZE = 1024

FastValidator = Callable[[str], object]
"""Returns a true value when its argument is an entirely valid value of its AI."""


def _numeric_validator(d: AIDefinition) -> FastValidator:
    """A yes/no validator for an N field, remembering the last valid values it saw.

    On a packaging line the GTIN, dates and other fixed fields repeat from one code to the
    next, so a small set of values already proven valid skips the check-digit and calendar
    work for nearly every scan. Feb 29 is never remembered: it depends on the century.
    """
    low, high = d.min_length, d.max_length
    check, date, time = d.check_digit, d.date, d.time
    month_days = _MONTH_DAYS_OR_ZERO if d.day_zero else _MONTH_DAYS
    valid: set[str] = set()

    def numeric_ok(value: str) -> bool:
        if value in valid:
            return True
        if not (low <= len(value) <= high and value.isdigit() and value.isascii()):
            return False
        if check and not check_digit_ok(value):
            return False
        if date and value[2:6] not in month_days:
            if value[2:6] != "0229" or not calendar.isleap(full_year(int(value[:2]))):
                return False
            return not time or _time_ok(value)
        if time and not _time_ok(value):
            return False
        if len(valid) >= _CACHE_SIZE:
            valid.clear()
        valid.add(value)
        return True

    return numeric_ok


def _time_ok(value: str) -> bool:
    return value[6:8] in _HOURS and value[8:10] in _MINUTES


def _fast_validator(d: AIDefinition) -> FastValidator:
    if d.numeric:
        return _numeric_validator(d)
    return re.compile(f"{_CSET82_CLASS}{{{d.min_length},{d.max_length}}}").fullmatch


FAST_VALIDATORS: Mapping[str, FastValidator] = MappingProxyType(
    {ai: _fast_validator(d) for ai, d in DEFINITIONS.items()}
)
"""Per AI: a yes/no validator that agrees with `check_value` on every input."""


def _character_error(d: AIDefinition, char: str, position: int) -> CodeFormatError:
    field = f"({d.ai})"
    if char == "\x1d":
        return CodeFormatError(
            f"a GS separator cannot stand inside the value of {field}",
            field=field,
            position=position,
            hint=f"{field} {d.title} takes "
            + (f"exactly {d.min_length}" if d.fixed_length else f"up to {d.max_length}")
            + " characters before any separator",
        )
    if d.numeric:
        return CodeFormatError(
            f"{char!r} is not a digit",
            field=field,
            position=position,
            hint=f"{field} {d.title} holds digits only",
        )
    return CodeFormatError(
        f"{char!r} is not allowed in {field}",
        field=field,
        position=position,
        hint=f"GS1 CSET 82 allows only {_CSET82_TEXT} (no space, #, $, @, etc.)",
    )


def check_value(d: AIDefinition, value: str, offset: int = 0) -> None:
    """Raise the first problem of `value` as the value of AI `d`, located at `offset` + index."""
    field = f"({d.ai})"
    if not value:
        raise CodeFormatError(
            f"{field} has no value",
            field=field,
            position=offset,
            hint=f"{field} {d.title} needs at least {d.min_length} characters",
        )
    if len(value) > d.max_length:
        raise CodeFormatError(
            f"{field} is {len(value)} characters long, at most {d.max_length} allowed",
            field=field,
            position=offset + d.max_length,
            hint="shorten the value"
            + ("" if d.predefined_length else ", or add the missing GS separator after it"),
        )
    allowed = _DIGITS if d.numeric else CSET82
    for index, char in enumerate(value):
        if char not in allowed:
            raise _character_error(d, char, offset + index)
    if len(value) < d.min_length:
        raise CodeFormatError(
            f"{field} is {len(value)} characters long, needs "
            + (f"exactly {d.min_length}" if d.fixed_length else f"at least {d.min_length}"),
            field=field,
            position=offset + len(value),
            hint="keep leading zeros; a GTIN in (01) is always 14 digits"
            if d.ai == "01"
            else f"{field} {d.title} is {d.min_length} characters",
        )
    if d.check_digit:
        validate_check_digit(value, field=field, offset=offset)
    if d.date:
        try:
            parse_date(value, ai=d.ai)
        except CodeFormatError as error:
            raise CodeFormatError(
                error.message,
                field=field,
                position=offset + (error.position or 0),
                hint=error.hint,
            ) from None
    if d.time:
        _check_time(d, value, offset)


def _check_time(d: AIDefinition, value: str, offset: int) -> None:
    field = f"({d.ai})"
    if value[6:8] not in _HOURS:
        raise CodeFormatError(
            f"hour {value[6:8]} does not exist",
            field=field,
            position=offset + 6,
            hint="the time is hhmm with hours 00-23",
        )
    if value[8:10] not in _MINUTES:
        raise CodeFormatError(
            f"minute {value[8:10]} does not exist",
            field=field,
            position=offset + 8,
            hint="the time is hhmm with minutes 00-59",
        )


def validate_element(ai: str, value: str) -> None:
    """Raise `CodeFormatError` (or `CheckCharacterError`) unless `value` is valid for `ai`.

    Positions in the error are indexes into `value`.
    """
    check_value(lookup(ai), value)
