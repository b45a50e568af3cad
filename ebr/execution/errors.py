"""Errors of the executed batch record: each says what was refused, where, and how to proceed."""

from __future__ import annotations

from collections.abc import Sequence

from ebr.errors import StoreError


class ExecutionError(StoreError):
    pass


class SequenceError(ExecutionError):
    """A step, or an entry of a section, before the steps it follows are done."""

    def __init__(self, message: str, *, missing: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.missing = missing


class VerificationRequiredError(ExecutionError):
    """A manual value out of its limits without a reason and a second person's signature."""


class ReleaseBlockedError(ExecutionError):
    """The batch cannot be released yet; `reasons` lists every one of them."""

    def __init__(self, batch_id: int, reasons: Sequence[str]) -> None:
        self.batch_id = batch_id
        self.reasons = tuple(reasons)
        super().__init__(
            f"batch {batch_id} cannot be released: " + "; ".join(self.reasons),
            hint="handle each reason, then release again",
        )
