from __future__ import annotations

import pytest
from sqlalchemy import Engine

from ebr.allocation import CodeAllocator
from ebr.code_buffer import CodeBuffer
from ebr.code_states import CodeStates
from ebr.errors import AllocationError
from serialization.states import CodeState
from tests.ebr.fixtures_master import install_master_data, open_batch


@pytest.fixture
def buffer(engine: Engine) -> CodeBuffer:
    install_master_data(engine)
    return CodeBuffer(
        CodeAllocator(engine),
        CodeStates(engine),
        line_id="line-1",
        batch_id=open_batch(engine, "amox"),
        size=100,
        low_water=20,
    )


def test_refills_to_size_when_below_low_water(buffer: CodeBuffer, engine: Engine) -> None:
    taken = [buffer.take() for _ in range(81)]
    assert buffer.refills == 1
    assert buffer.remaining == 19
    taken.append(buffer.take())
    assert buffer.refills == 2
    assert buffer.remaining == 99
    assert len({code.key for code in taken}) == 82
    states = CodeStates(engine).statuses([code.key for code in taken])
    assert all(status.state is CodeState.ALLOCATED for status in states.values())


def test_release_returns_what_is_left(buffer: CodeBuffer, engine: Engine) -> None:
    first = buffer.take()
    released = buffer.release(reason="batch completed")
    assert len(released) == 99
    assert buffer.remaining == 0
    states = CodeStates(engine).statuses([first.key, *released])
    assert states[first.key].state is CodeState.ALLOCATED
    assert all(states[key].state is CodeState.UNALLOCATED for key in released)


def test_bad_marks_are_refused(engine: Engine) -> None:
    install_master_data(engine)
    with pytest.raises(AllocationError, match="low water 100 must be"):
        CodeBuffer(
            CodeAllocator(engine),
            CodeStates(engine),
            line_id="line-1",
            batch_id=1,
            size=100,
            low_water=100,
        )
