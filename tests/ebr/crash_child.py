"""Child process of the crash-safety test: allocates and marks codes until it is killed.

Every code `allocate` returned is appended to the hand-out log (one key per line, fsynced)
*after* it returned. On start it reconciles what a previous life left Allocated.
"""

from __future__ import annotations

import os
import random
import sys

from sqlalchemy import select

from ebr.allocation import CodeAllocator
from ebr.code_states import CodeStates
from ebr.db import make_engine
from ebr.models import Batch
from ebr.schema import upgrade
from serialization.states import CodeState
from tests.ebr.fixtures_master import MASTER_KEY, install_master_data, open_batch


def main(url: str, log_path: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        batches = dict(conn.execute(select(Batch.product_id, Batch.id)).all())
    if not batches:
        install_master_data(engine)
        batches = {product: open_batch(engine, product) for product in ("amox", "ibu")}
    states = CodeStates(engine)
    states.reconcile_after_restart("line-1")
    allocator = CodeAllocator(engine, master_key=MASTER_KEY)
    rng = random.Random()
    drop_partial_line(log_path)
    with open(log_path, "a", encoding="ascii") as log:
        print("ready", flush=True)
        while True:
            product = rng.choice(("amox", "ibu"))
            codes = allocator.allocate("line-1", batches[product], rng.randint(1, 400))
            log.write("".join(code.key + "\n" for code in codes))
            log.flush()
            os.fsync(log.fileno())
            keys = [code.key for code in codes]
            printed = keys[: rng.randint(0, len(keys))]
            if printed:
                states.mark(printed, CodeState.ENCODED)
                states.mark(printed[: len(printed) // 2], CodeState.COMMISSIONED)
            if rng.random() < 0.2:
                states.invalidate(keys[len(printed) :], reason="test: label scrapped")


def drop_partial_line(log_path: str) -> None:
    """A life killed in the middle of a write leaves half a key at the log's end; the next
    key must not be glued to it."""
    if not os.path.exists(log_path):
        return
    with open(log_path, "r+b") as log:
        content = log.read()
        if content and not content.endswith(b"\n"):
            log.truncate(content.rfind(b"\n") + 1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
