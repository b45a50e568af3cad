from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from ebr.allocation import CodeAllocator
from ebr.code_states import RESTART_REASON, CodeStates
from ebr.errors import NotFoundError
from ebr.models import CodeTransition
from serialization.errors import IllegalTransitionError
from serialization.states import CodeState
from tests.ebr.fixtures_master import install_master_data, open_batch


@pytest.fixture
def codes(engine: Engine) -> list[str]:
    install_master_data(engine)
    batch = open_batch(engine, "amox")
    return [c.key for c in CodeAllocator(engine).allocate("line-1", batch, 10)]


def test_legal_moves_are_recorded_with_reason(engine: Engine, codes: list[str]) -> None:
    states = CodeStates(engine)
    states.mark(codes[:3], CodeState.ENCODED)
    states.mark(codes[:2], CodeState.COMMISSIONED, reason="verified by camera")
    found = states.statuses(codes[:4])
    assert [found[k].state for k in codes[:4]] == [
        CodeState.COMMISSIONED,
        CodeState.COMMISSIONED,
        CodeState.ENCODED,
        CodeState.ALLOCATED,
    ]
    assert found[codes[0]].line_id == "line-1"
    with engine.connect() as conn:
        reasons = conn.execute(select(CodeTransition.reason)).scalars().all()
    assert reasons.count("verified by camera") == 2


def test_one_illegal_move_changes_nothing(engine: Engine, codes: list[str]) -> None:
    states = CodeStates(engine)
    states.mark(codes[:1], CodeState.ENCODED)
    with pytest.raises(IllegalTransitionError, match="Allocated to Commissioned") as error:
        states.mark(codes[:3], CodeState.COMMISSIONED)
    assert error.value.field == codes[1]
    assert "Encoded" in str(error.value)
    assert states.statuses(codes[:1])[codes[0]].state is CodeState.ENCODED


def test_unknown_and_repeated_codes_are_refused(engine: Engine, codes: list[str]) -> None:
    states = CodeStates(engine)
    with pytest.raises(NotFoundError, match="unknown code"):
        states.mark(["0109501101530003" + "21NOPE"], CodeState.ENCODED)
    with pytest.raises(IllegalTransitionError, match="named twice"):
        states.mark([codes[0], codes[0]], CodeState.ENCODED)


def test_returned_codes_are_never_allocated_again(engine: Engine, codes: list[str]) -> None:
    states = CodeStates(engine)
    states.return_unused(codes[5:], reason="batch closed")
    assert states.statuses(codes[5:])[codes[5]].state is CodeState.UNALLOCATED
    batch = open_batch(engine, "amox", lot="L2")
    fresh = CodeAllocator(engine).allocate("line-1", batch, 50)
    assert not {c.key for c in fresh} & set(codes)


def test_restart_reconciliation(engine: Engine, codes: list[str]) -> None:
    states = CodeStates(engine)
    states.mark(codes[:2], CodeState.ENCODED)
    assert states.unconfirmed("line-1") == codes[2:]
    invalid = states.reconcile_after_restart("line-1", seen=[codes[2]])
    assert invalid == codes[3:]
    found = states.statuses(codes)
    assert found[codes[2]].state is CodeState.ENCODED
    assert all(found[k].state is CodeState.SN_INVALID for k in codes[3:])
    assert states.unconfirmed("line-1") == []
    with engine.connect() as conn:
        assert RESTART_REASON in conn.execute(select(CodeTransition.reason)).scalars().all()
