"""Every fuzz target (fuzz/registry.py) with a small hypothesis budget: raw bytes and edited
valid inputs never make a parser raise anything but its documented error, and codecs round-trip.
The examples are derandomized, so `make test` is reproducible; `make fuzz` runs the same
harnesses with large random budgets (docs/fuzzing.md)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from fuzz.registry import TARGETS, Harness
from fuzz.strategies import STRATEGIES

EXAMPLES = 200


def test_every_target_has_a_strategy() -> None:
    assert set(STRATEGIES) == set(TARGETS)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_target_holds_its_contract(target: str) -> None:
    harness: Harness = TARGETS[target]
    ran: list[bytes] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(STRATEGIES[target])
    def check(data: bytes) -> None:
        ran.append(data)
        harness(data)

    check()
    assert len(ran) >= EXAMPLES // 2
