"""GS1 dates: day 00, the century window, formatting."""

from __future__ import annotations

from datetime import date

import pytest

from serialization.errors import CodeFormatError
from serialization.gs1.dates import format_date, full_year, parse_date

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("270500", date(2027, 5, 31)),
        ("270531", date(2027, 5, 31)),
        ("240200", date(2024, 2, 29)),
        ("250200", date(2025, 2, 28)),
        ("251200", date(2025, 12, 31)),
        ("000229", date(2000, 2, 29)),
    ],
)
def test_parse_date_with_day_zero(value: str, expected: date) -> None:
    assert parse_date(value, ai="17", today=TODAY) == expected


@pytest.mark.parametrize("ai", ["11", "12", "13", "15", "16", "17"])
def test_day_zero_allowed_in_yymmd0_ais(ai: str) -> None:
    assert parse_date("270500", ai=ai, today=TODAY) == date(2027, 5, 31)


def test_day_zero_refused_elsewhere() -> None:
    with pytest.raises(CodeFormatError, match="day 00") as caught:
        parse_date("2705001200", ai="7003", today=TODAY)
    assert caught.value.position == 4
    assert parse_date("2705311200", ai="7003", today=TODAY) == date(2027, 5, 31)


@pytest.mark.parametrize(
    ("today", "yy", "year"),
    [
        (date(2026, 11, 22), 76, 2076),
        (date(2026, 11, 22), 77, 1977),
        (date(2026, 11, 22), 0, 2000),
        (date(2026, 11, 22), 99, 1999),
        (date(2050, 1, 1), 0, 2100),
        (date(2049, 1, 1), 0, 2000),
        (date(2099, 6, 1), 49, 2149),
        (date(2099, 6, 1), 50, 2050),
        (date(2001, 1, 1), 51, 2051),
        (date(2001, 1, 1), 52, 1952),
    ],
)
def test_century_window_49_back_50_ahead(today: date, yy: int, year: int) -> None:
    assert full_year(yy, today=today) == year
    assert today.year - 49 <= year <= today.year + 50


def test_feb_29_depends_on_the_century() -> None:
    assert parse_date("000229", ai="17", today=date(2049, 1, 1)) == date(2000, 2, 29)
    with pytest.raises(CodeFormatError, match="no day 29"):
        parse_date("000229", ai="17", today=date(2050, 1, 1))


@pytest.mark.parametrize(
    ("value", "position"), [("271300", 2), ("270000", 2), ("270631", 4), ("2706", 0), ("27O631", 0)]
)
def test_invalid_dates(value: str, position: int) -> None:
    with pytest.raises(CodeFormatError) as caught:
        parse_date(value, ai="17", today=TODAY)
    assert caught.value.position == position
    assert caught.value.field == "(17)"
    assert caught.value.hint


def test_parse_date_needs_a_date_ai() -> None:
    with pytest.raises(CodeFormatError, match="not a date"):
        parse_date("270500", ai="10")


def test_format_date() -> None:
    assert format_date(date(2027, 5, 31)) == "270531"
    assert format_date(date(2027, 5, 31), day_zero=True) == "270500"
    assert format_date(date(2024, 2, 29), day_zero=True) == "240200"
    assert format_date(date(2030, 1, 5)) == "300105"
    with pytest.raises(CodeFormatError, match="not the last day"):
        format_date(date(2027, 5, 30), day_zero=True)
