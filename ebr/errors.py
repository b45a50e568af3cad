"""Errors of the store, each saying what is wrong and how to put it right."""

from __future__ import annotations


class StoreError(Exception):
    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class NotFoundError(StoreError):
    pass


class AllocationError(StoreError):
    pass


class PoolExhaustedError(AllocationError):
    pass
