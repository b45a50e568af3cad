"""Turning one fuzzer byte string into the pieces a harness needs, deterministically."""

from __future__ import annotations


def text_of(data: bytes) -> str:
    """`data` as text: UTF-8 where it is, U+FFFD for each undecodable byte."""
    return data.decode("utf-8", errors="replace")


def chunks(data: bytes) -> list[bytes]:
    """`data` cut into pieces whose sizes come from its first byte, to vary read boundaries."""
    if not data:
        return []
    step, body = data[0] % 17 + 1, data[1:]
    return [body[i : i + step] for i in range(0, len(body), step)]


def split_fields(data: bytes, count: int) -> list[bytes]:
    """`data` split at 0xFF bytes into exactly `count` fields (missing ones empty)."""
    parts = data.split(b"\xff", count - 1)
    return parts + [b""] * (count - len(parts))


class ContractViolationError(AssertionError):
    """The target broke its documented contract for this input."""


def require(condition: object, *detail: object) -> None:
    """Like `assert`, but kept under `python -O` and usable on a caught error."""
    if not condition:
        raise ContractViolationError(*detail)
