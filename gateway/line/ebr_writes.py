"""The feed's writes into the batch record, kept in the record's step order until each is done.

The line learns things in its own order (the challenge passes before the first unit is
accepted, which is the set-up specimen), while the record takes its steps in a fixed order. So
every write names its step; a flush runs the pending writes by step, then in the order they
came, and stops at the first one whose step cannot start yet (a step before it is not done:
materials issued by hand, say) or that waits for a person (a verifier's signature):
everything after it waits too.
A write the record refuses for its content is dropped and reported, since it would be refused
again; a database that cannot be reached stops the flush and is tried again at the next one.
Flushes run in a worker thread, never on the event loop, and leave a gap after each write
for the line's own commits.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from ebr.errors import StoreError
from ebr.execution.errors import SequenceError
from ebr.execution.kinds import Step

log = logging.getLogger("tracegate.line.ebr")
STEPS = tuple(Step)
WRITE_GAP_S = 0.05
"""Pause after each write: on SQLite a write holds the database's one write lock, and the
production journal, whose commit an accepted unit waits for, retries a lock it finds taken
after sleeps that grow to tens of milliseconds; writes back to back would keep it out."""


class Waiting(Exception):  # noqa: N818 - not an error: the write waits
    """The write waits for something only a person can do; the message says what."""


@dataclass(frozen=True, slots=True)
class Write:
    step: Step
    what: str
    run: Callable[[], Any]
    then: Callable[[Any], None] | None = None
    """Called on the event loop with what `run` returned, once it ran."""


@dataclass
class Flushed:
    done: list[tuple[Write, Any]] = field(default_factory=list)
    waiting: str | None = None
    """Why the remaining writes wait, when they do."""
    dropped: list[tuple[Write, str]] = field(default_factory=list)
    """Writes the record refused for their content, with its reason."""
    error: str | None = None
    """What stopped the flush (the database), to be tried again."""


class WriteQueue:
    def __init__(self, gap_s: float = WRITE_GAP_S) -> None:
        self._gap_s = gap_s
        self._pending: list[tuple[int, int, Write]] = []
        self._numbers = itertools.count()
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        """One flush at a time: a flush left running by a cancelled task finishes first."""

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def add(self, write: Write) -> None:
        with self._lock:
            self._pending.append((STEPS.index(write.step), next(self._numbers), write))

    def flush(self, missing: Callable[[Step], Step | None] = lambda step: None) -> Flushed:
        """Run the pending writes in order; `missing` names the step a write's step must wait
        for, so the record is not asked (and does not audit a refusal) while it waits."""
        with self._flushing:
            return self._flush(missing)

    def _flush(self, missing: Callable[[Step], Step | None]) -> Flushed:
        with self._lock:
            ordered = sorted(self._pending, key=lambda item: item[:2])
        result = Flushed()
        for item in ordered:
            write = item[2]
            before = missing(write.step)
            if before is not None:
                result.waiting = f"{write.what}: waits for step {before.value}"
                break
            try:
                outcome = write.run()
            except (SequenceError, Waiting) as waiting:
                result.waiting = f"{write.what}: {waiting}"
                break
            except StoreError as refused:
                log.error("batch record refused %s: %s", write.what, refused)
                result.dropped.append((write, str(refused)))
            except SQLAlchemyError as error:
                log.warning("batch record not reachable for %s: %s", write.what, error)
                result.error = f"{write.what}: {type(error).__name__}: {error}".splitlines()[0]
                break
            else:
                result.done.append((write, outcome))
            with self._lock:
                self._pending.remove(item)
            time.sleep(self._gap_s)
        return result
