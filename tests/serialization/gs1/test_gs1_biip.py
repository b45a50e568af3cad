"""Cross-check against biip, an independent GS1 parser: 10,000 seeded random element strings.

Both parsers must agree on validity (including check digits and dates) and, for valid
strings, on every AI and value. Invalid strings are made only in ways both parsers treat
alike: biip, for example, tolerates doubled GS separators and does not check dates' day 00
rule for (7003), so those are left out here and tested in test_gs1_element.py.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from urllib.parse import parse_qsl, urlsplit

import biip
import pytest

from serialization.errors import CodeFormatError
from serialization.gs1.ai import CSET82, DEFINITIONS
from serialization.gs1.checkdigit import check_digit
from serialization.gs1.dates import format_date
from serialization.gs1.digital_link import to_digital_link
from serialization.gs1.element import GS, Element, GS1Message, parse

SEED = 20261122
COUNT = 10_000
CSET82_ALPHABET = "".join(sorted(CSET82))
NOT_CSET82 = " #$@\\^`{|}~"
UNKNOWN_AIS = ["05", "06", "14", "18", "19", "236", "26", "38", "44", "50", "89", "3999", "419"]
CHECKED = {"00": 18, "01": 14, "02": 14, **dict.fromkeys(("410", "411", "414", "415", "417"), 13)}
YYMMD0 = ("11", "12", "13", "15", "16", "17")
TODAY = date.today()

Generator = Callable[[random.Random], str]


def _digits(rng: random.Random, size: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(size))


def _key(size: int) -> Generator:
    def make(rng: random.Random) -> str:
        body = _digits(rng, size - 1)
        return body + check_digit(body)

    return make


def _x(max_size: int) -> Generator:
    def make(rng: random.Random) -> str:
        size = rng.randint(1, max_size)
        return "".join(rng.choice(CSET82_ALPHABET) for _ in range(size))

    return make


def _date(rng: random.Random) -> str:
    day = TODAY + timedelta(days=rng.randint(-40 * 365, 40 * 365))
    if rng.random() < 0.3:
        return format_date(day)[:4] + "00"
    return format_date(day)


def _date_time(rng: random.Random) -> str:
    return (
        _date(rng)[:4] + f"{rng.randint(1, 28):02d}{rng.randint(0, 23):02d}{rng.randint(0, 59):02d}"
    )


GENERATORS: dict[str, Generator] = {
    **{ai: _key(size) for ai, size in CHECKED.items()},
    **dict.fromkeys(YYMMD0, _date),
    "7003": _date_time,
    "20": lambda rng: _digits(rng, 2),
    "30": lambda rng: _digits(rng, rng.randint(1, 8)),
    "37": lambda rng: _digits(rng, rng.randint(1, 8)),
    "242": lambda rng: _digits(rng, rng.randint(1, 6)),
    **{ai: _x(20) for ai in ("10", "21", "22", "243", "254", "420", "710", "715", "7240", "8012")},
    **{ai: _x(30) for ai in ("240", "241", "250", "251", "400", "403", "90")},
    **{ai: _x(90) for ai in ("91", "95", "99")},
}
COMMON = ["01", "00", "10", "11", "17", "21"]


def _elements(rng: random.Random) -> list[Element]:
    ais = rng.sample(COMMON, rng.randint(1, 4)) + rng.sample(sorted(GENERATORS), rng.randint(0, 3))
    ais = list(dict.fromkeys(ais))
    rng.shuffle(ais)
    return [Element(ai, GENERATORS[ai](rng)) for ai in ais]


def _join(elements: list[Element]) -> str:
    parts = []
    for index, (ai, value) in enumerate(elements):
        parts.append(ai + value)
        definition = DEFINITIONS.get(ai)
        if index < len(elements) - 1 and (definition is None or not definition.predefined_length):
            parts.append(GS)
    return "".join(parts)


def _mutate(rng: random.Random, elements: list[Element]) -> str:
    """The element string with one defect both parsers must reject."""
    index = rng.randrange(len(elements))
    ai, value = elements[index]
    definition = DEFINITIONS[ai]
    if ai in CHECKED:
        value = value[:-1] + str((int(value[-1]) + rng.randint(1, 9)) % 10)
    elif ai in YYMMD0 or ai == "7003":
        bad = rng.choice(["1300", "0001", "0232", "0230", "0431", "1131", "0932"])
        value = value[:2] + bad + value[6:]
    elif not definition.numeric and rng.random() < 0.5:
        at = rng.randrange(len(value))
        value = value[:at] + rng.choice(NOT_CSET82) + value[at:]
    elif not definition.numeric:
        value = value + "Z" * rng.randint(
            definition.max_length - len(value) + 1, definition.max_length
        )
    else:
        unknown = rng.choice(UNKNOWN_AIS)
        return _join([*elements[:index], Element(unknown, "1"), *elements[index:]])
    elements = [*elements[:index], Element(ai, value), *elements[index + 1 :]]
    data = _join(elements)
    if definition.predefined_length and rng.random() < 0.2:
        start = data.index(ai + value) + len(ai)
        at = start + rng.randint(1, len(value) - 1)
        data = data[:at] + GS + data[at:]
    return data


def _ours(data: str) -> GS1Message | None:
    try:
        return parse("]d2" + data)
    except CodeFormatError:
        return None


def _biips(data: str) -> list[tuple[str, str]] | None:
    result = biip.parse("]d2" + data)
    message = result.gs1_message
    if message is None:
        return None
    strings = message.element_strings
    if any(es.gtin_error or es.sscc_error or es.gln_error for es in strings):
        return None
    return [(es.ai.ai, es.value) for es in strings]


def _cases() -> list[tuple[str, bool]]:
    rng = random.Random(SEED)
    cases = []
    for _ in range(COUNT):
        elements = _elements(rng)
        if rng.random() < 0.35:
            cases.append((_mutate(rng, elements), False))
        else:
            cases.append((_join(elements), True))
    return cases


def test_biip_agrees_on_10000_element_strings() -> None:
    disagreements: list[tuple[str, object, object]] = []
    mutated_but_accepted: list[str] = []
    invalid = 0
    for data, meant_valid in _cases():
        ours = _ours(data)
        theirs = _biips(data)
        ours_pairs = None if ours is None else [(ai, value) for ai, value in ours.elements]
        if ours_pairs != theirs:
            disagreements.append((data, ours_pairs, theirs))
        if ours is None:
            invalid += 1
        elif not meant_valid:
            mutated_but_accepted.append(data)
    assert disagreements[:5] == []
    assert mutated_but_accepted[:5] == []
    assert 2_500 < invalid < 4_500


def _query(uri: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(uri)
    return parts.path, dict(parse_qsl(parts.query))


@pytest.mark.parametrize("seed", range(3))
def test_digital_link_agrees_with_biip(seed: int) -> None:
    rng = random.Random(SEED + seed)
    compared = 0
    for _ in range(400):
        elements = _elements(rng)
        ais = {ai for ai, _ in elements}
        if len(ais & {"00", "01"}) != 1 or ais & {"414", "415", "417"}:
            continue
        ours = to_digital_link(elements)
        theirs = biip.parse("]d2" + _join(elements)).gs1_message
        assert theirs is not None
        assert _query(ours) == _query(theirs.as_gs1_digital_link_uri().as_uri())
        compared += 1
    assert compared > 100
