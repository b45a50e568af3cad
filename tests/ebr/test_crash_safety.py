"""SIGKILL a process that allocates and marks codes, again and again (R-CODE-1).

After every restart: no code was ever handed out twice, and every code handed out is still
Allocated or in a later state.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from ebr.db import make_engine
from ebr.models import Code
from serialization.states import CodeState

TRIALS = 22
ROOT = Path(__file__).resolve().parents[2]
HANDED_OUT_STATES = {
    CodeState.ALLOCATED,
    CodeState.ENCODED,
    CodeState.COMMISSIONED,
    CodeState.SN_INVALID,
}


def _start(url: str, log: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.ebr.crash_child", url, str(log)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    if line.strip() != "ready":
        child.kill()
        child.communicate()
        pytest.fail(f"crash child did not start: {line!r}; run tests/ebr/crash_child.py by hand")
    return child


def _handed_out(log: Path) -> list[str]:
    content = log.read_text(encoding="ascii") if log.exists() else ""
    complete = content if content.endswith("\n") else content[: content.rfind("\n") + 1]
    return complete.splitlines()


def _check_invariants(engine: Engine, log: Path) -> int:
    keys = _handed_out(log)
    assert len(keys) == len(set(keys)), "a code was handed out twice"
    with engine.connect() as conn:
        states = dict(conn.execute(select(Code.key, Code.state)).all())
    missing = [key for key in keys if key not in states]
    assert not missing, f"{len(missing)} handed-out codes are not in the store: {missing[:3]}"
    wrong = [key for key in keys if CodeState(states[key]) not in HANDED_OUT_STATES]
    assert not wrong, f"handed-out codes went back: {wrong[:3]}"
    return len(keys)


@pytest.mark.slow
def test_sigkill_at_random_moments_never_issues_a_code_twice(db_url: str, tmp_path: Path) -> None:
    log = tmp_path / "handed-out.log"
    rng = random.Random(20261122)
    engine = make_engine(db_url)
    try:
        for _trial in range(TRIALS):
            child = _start(db_url, log)
            time.sleep(rng.uniform(0.02, 0.6))
            os.kill(child.pid, signal.SIGKILL)
            child.communicate()
            _check_invariants(engine, log)
        final = _start(db_url, log)
        final.terminate()
        final.communicate()
        handed_out = _check_invariants(engine, log)
        assert handed_out > 1000, "the child handed out too few codes for a meaningful test"
        with engine.connect() as conn:
            still_allocated = conn.execute(
                select(func.count()).select_from(Code).where(Code.state == int(CodeState.ALLOCATED))
            ).scalar_one()
            if engine.dialect.name == "sqlite":
                assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        assert still_allocated == 0, "restart reconciliation left codes unresolved"
    finally:
        engine.dispose()
