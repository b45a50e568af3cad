"""The live reconciliation against a real store: balanced from counts while the ledger
partitions, and a drift named by its codes (after a second look) when it does not."""

from __future__ import annotations

from sqlalchemy import Engine

from ebr.allocation import CodeAllocator
from gateway.line.buffer import LineCodeBuffer
from gateway.line.ledger import CodeLedger
from gateway.line.reconciler import LiveReconciler
from serialization.reconciliation import Reconciliation
from tests.ebr.fixtures_master import install_master_data, open_batch


async def _line(engine: Engine) -> tuple[LiveReconciler, LineCodeBuffer, list[Reconciliation]]:
    install_master_data(engine)
    buffer = LineCodeBuffer(
        CodeAllocator(engine),
        line_id="line-1",
        batch_id=open_batch(engine, "amox"),
        size=20,
        low_water=2,
    )
    await buffer.fill()
    drifts: list[Reconciliation] = []
    reconciler = LiveReconciler(
        engine,
        batch_id=buffer.batch_id,
        line_id="line-1",
        ledger=CodeLedger(),
        buffer=buffer,
        on_drift=drifts.append,
        on_balanced=lambda _: None,
    )
    return reconciler, buffer, drifts


def _take(buffer: LineCodeBuffer) -> str:
    code = buffer.take()
    assert code is not None
    return code.key


async def test_a_partitioned_ledger_balances_from_counts(engine: Engine) -> None:
    reconciler, buffer, drifts = await _line(engine)
    keys = [_take(buffer) for _ in range(5)]
    for key in keys:
        reconciler.ledger.issue(key)
    reconciler.ledger.accept(keys[0])
    reconciler.ledger.reject(keys[1])
    reconciler.ledger.sample(keys[2])
    result = await reconciler.check()
    assert result is not None
    assert result.balanced
    assert result.ledger is None, "no sets built while the counts add up"
    assert dict(result.counts) == {
        "allocated": 20,
        "buffered": 15,
        "issued": 5,
        "accepted": 1,
        "rejected": 1,
        "sampled": 1,
        "destroyed": 0,
        "in_flight": 2,
    }
    assert "allocated = issued + buffered (20 = 20)" in result.describe()
    assert not drifts
    await buffer.close()


async def test_a_code_in_two_outcomes_is_named_on_the_second_look(engine: Engine) -> None:
    reconciler, buffer, drifts = await _line(engine)
    key = _take(buffer)
    reconciler.ledger.issue(key)
    reconciler.ledger.reject(key)
    reconciler.ledger.sample(key)
    first = await reconciler.check()
    assert first is not None
    assert not first.balanced
    assert not drifts
    await reconciler.check()
    assert len(drifts) == 1
    assert drifts[0].double_counted == {key}
    assert f"{key} (in allocated, issued, rejected, sampled)" in drifts[0].describe()
    await buffer.close()


async def test_a_code_taken_but_never_issued_is_unaccounted(engine: Engine) -> None:
    reconciler, buffer, drifts = await _line(engine)
    lost = _take(buffer)
    reconciler.ledger.issue(_take(buffer))
    await reconciler.check()
    await reconciler.check()
    assert [drift.unaccounted for drift in drifts] == [{lost}]
    await buffer.close()
