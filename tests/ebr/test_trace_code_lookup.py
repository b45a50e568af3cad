"""A code named in any printed form, or by its key, is found; anything else gets a clear error."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from ebr.code_lookup import UnknownCodeError, find_code_key
from ebr.models import Code
from tests.ebr.trace_fixtures import TracedBatch, traced_batch


@pytest.fixture
def traced(engine: Engine) -> TracedBatch:
    return traced_batch(engine)


def _data(engine: Engine, key: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(select(Code.data).where(Code.key == key)).scalar_one())


def test_every_printed_form_finds_the_code(traced: TracedBatch) -> None:
    unit = traced.units[0]
    serial = unit[18:]
    data = _data(traced.engine, unit)
    forms = [
        unit,
        f"  {unit}\n",
        data,
        data.replace("\x1d", "<GS>"),
        f"]d2{data}",
        f"(01)09501101530003(17)280131(10)L-1(21){serial}",
        f"https://id.gs1.org/01/09501101530003/21/{serial}",
        f"urn:epc:id:sgtin:9501101.053000.{serial}",
    ]
    for form in forms:
        assert find_code_key(traced.engine, form) == unit, form
    case = traced.cases[0]
    assert find_code_key(traced.engine, f"({case[:2]}){case[2:]}") == case


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(01)09501101530003(21)NEVERISSUED", "was never issued by this site"),
        ("hello world", "is not a code this site can read"),
        ("", "no code given"),
        ("0109501101530003\x0021A", "control characters"),
        ("9" * 600, "longer than 500"),
    ],
)
def test_what_is_no_code_of_this_site_is_named(
    traced: TracedBatch, text: str, message: str
) -> None:
    with pytest.raises(UnknownCodeError) as error:
        find_code_key(traced.engine, text)
    assert message in error.value.message
    assert error.value.hint
