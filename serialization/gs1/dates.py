"""GS1 six-digit dates (`yymmdd`), the day-00 convention and the century window.

Day `00` (allowed in the `yymmd0` AIs 11, 12, 13, 15, 16 and 17) means the last day of the
month. Keep the printed form as it is: `270500` and `270531` are the same date but not the
same string, and repositories compare strings (see docs on master-data matching).
"""

from __future__ import annotations

import calendar
from datetime import date

from serialization.errors import CodeFormatError
from serialization.gs1.ai import lookup


def full_year(yy: int, *, today: date | None = None) -> int:
    """The four-digit year of a two-digit GS1 year: at most 49 years back, 50 ahead.

    GS1 General Specifications §7.12: a difference of 51…99 to the current two-digit year
    means the previous century, −99…−50 the next one, anything else the current century.
    """
    current = (today or date.today()).year
    century, current_yy = divmod(current, 100)
    difference = yy - current_yy
    if 51 <= difference <= 99:
        return (century - 1) * 100 + yy
    if -99 <= difference <= -50:
        return (century + 1) * 100 + yy
    return century * 100 + yy


def parse_date(value: str, *, ai: str, today: date | None = None) -> date:
    """The date at the start of the value of date AI `ai` (`yymmdd`, or `yymmdd…` for 7003).

    Day `00` is accepted only where the AI allows it and gives the last day of the month.
    """
    definition = lookup(ai)
    field = f"({ai})"
    if not definition.date:
        raise CodeFormatError(
            f"({ai}) {definition.title} is not a date", field=field, hint="pass a date AI"
        )
    text = value[:6]
    if len(text) < 6 or not text.isascii() or not text.isdigit():
        raise CodeFormatError(
            f"{value!r} does not start with a date yymmdd",
            field=field,
            position=0,
            hint="write the date as six digits, e.g. 270531 for 31 May 2027",
        )
    month = int(text[2:4])
    if not 1 <= month <= 12:
        raise CodeFormatError(
            f"month {text[2:4]} does not exist",
            field=field,
            position=2,
            hint="the month is digits 3-4 of yymmdd, 01 to 12",
        )
    year = full_year(int(text[:2]), today=today)
    last_day = calendar.monthrange(year, month)[1]
    day = int(text[4:6])
    if day == 0:
        if not definition.day_zero:
            raise CodeFormatError(
                "day 00 is not allowed here",
                field=field,
                position=4,
                hint=f"only AIs 11-17 use day 00 for the end of the month; write {last_day:02d}",
            )
        day = last_day
    elif day > last_day:
        raise CodeFormatError(
            f"{year}-{month:02d} has no day {day}",
            field=field,
            position=4,
            hint=f"the last day of that month is {last_day:02d}",
        )
    return date(year, month, day)


def format_date(d: date, *, day_zero: bool = False) -> str:
    """`d` as `yymmdd`, or as `yymm00` when `day_zero` (then `d` must be a month's last day)."""
    if day_zero:
        if d.day != calendar.monthrange(d.year, d.month)[1]:
            raise CodeFormatError(
                f"{d.isoformat()} is not the last day of its month",
                hint="day 00 stands for the last day of the month; "
                "format other dates with day_zero=False",
            )
        return f"{d.year % 100:02d}{d.month:02d}00"
    return f"{d.year % 100:02d}{d.month:02d}{d.day:02d}"
