"""The line's code buffer: durable codes ready, refilled in the background, never blocking."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Engine

from ebr.allocation import CodeAllocator
from ebr.code_states import CodeStates
from gateway.line.buffer import LineCodeBuffer
from serialization.states import CodeState
from tests.ebr.fixtures_master import install_master_data, open_batch


def _buffer(engine: Engine, *, size: int = 100, low_water: int = 20) -> LineCodeBuffer:
    install_master_data(engine)
    return LineCodeBuffer(
        CodeAllocator(engine),
        line_id="line-1",
        batch_id=open_batch(engine, "amox"),
        size=size,
        low_water=low_water,
    )


async def test_refills_in_the_background_below_low_water(engine: Engine) -> None:
    buffer = _buffer(engine)
    await buffer.fill()
    assert buffer.remaining == 100
    taken = [buffer.take() for _ in range(81)]
    assert buffer.remaining == 19
    while buffer.allocating or buffer.refills < 2:
        await asyncio.sleep(0.01)
    assert buffer.remaining == 100
    keys = [code.key for code in taken if code is not None]
    assert len(set(keys)) == 81
    assert not set(keys) & buffer.keys
    states = CodeStates(engine).statuses([*keys, *buffer.keys])
    assert all(status.state is CodeState.ALLOCATED for status in states.values())
    await buffer.close()


async def test_an_empty_buffer_gives_no_code_instead_of_waiting(engine: Engine) -> None:
    buffer = _buffer(engine, size=2, low_water=1)
    assert buffer.take() is None
    await buffer.close()
    drained = buffer.drain()
    assert buffer.remaining == 0
    assert len(drained) <= 2


def test_bad_marks_are_refused(engine: Engine) -> None:
    install_master_data(engine)
    with pytest.raises(ValueError, match="low water 100 must be"):
        LineCodeBuffer(CodeAllocator(engine), line_id="line-1", batch_id=1, size=100, low_water=100)
