"""Recorded values and their limits, kept exactly: a decimal number is stored as its decimal
text and compared as a `Decimal`, never as a float, so "23.50" stays what was read and the
record hashes the same on every machine (canonical JSON has no floats)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ebr.audit.chain import CanonicalJsonError, canonical_plain
from ebr.execution.errors import ExecutionError

Number = int | float | Decimal | str
"""A number as given: an integer, a float, a Decimal or decimal text."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Inclusive limits; either side may be open."""

    low: Number | None = None
    high: Number | None = None


def decimal_text(number: Number, what: str) -> str:
    """The number as decimal text, or an error naming `what`."""
    parsed = as_decimal(number)
    if parsed is None:
        raise ExecutionError(
            f"{what} {number!r} is not a finite decimal number",
            hint="give an integer, a Decimal or decimal text such as '23.5'",
        )
    return format(parsed, "f")


def as_decimal(value: Any) -> Decimal | None:
    """The value as a finite Decimal, or None when it is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)
    if not isinstance(value, int | Decimal | str):
        return None
    try:
        parsed = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return parsed if parsed.is_finite() else None


def within(value: Any, low: str | None, high: str | None, where: str) -> bool | None:
    """Whether the value is within the limits; None when there are none."""
    if low is None and high is None:
        return None
    number = as_decimal(value)
    if number is None:
        raise ExecutionError(
            f"{where}: value {value!r} has limits but is not a number",
            hint="record a number, or leave the limits out for a text value",
        )
    if low is not None and high is not None and Decimal(low) > Decimal(high):
        raise ExecutionError(
            f"{where}: the low limit {low} is above the high limit {high}",
            hint="swap the limits",
        )
    return (low is None or number >= Decimal(low)) and (high is None or number <= Decimal(high))


def stored(value: Any, where: str) -> Any:
    """The value as stored: floats and Decimals become decimal text; the rest must be plain
    JSON (strings, integers, booleans, None, lists and mappings)."""
    converted = _converted(value)
    try:
        canonical_plain(converted)
    except CanonicalJsonError as error:
        raise ExecutionError(
            f"{where}: the value cannot be recorded: {error}",
            hint="record text, integers, decimals, booleans, lists or mappings of those",
        ) from None
    return converted


def _converted(value: Any) -> Any:
    if isinstance(value, float | Decimal):
        return decimal_text(value, "value")
    if isinstance(value, Mapping):
        return {key: _converted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_converted(item) for item in value]
    return value
