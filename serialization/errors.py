"""Errors of the serialization domain.

Every error says *what* is wrong, *where* (a field name and/or a character position in the
input) and *how to fix it*, so that the CLI, the config checker and importers can show it to
a person unchanged.
"""

from __future__ import annotations


class SerializationError(ValueError):
    """Base class of every error raised by `serialization`."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        position: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.position = position
        self.hint = hint

    def __str__(self) -> str:
        where = []
        if self.field is not None:
            where.append(self.field)
        if self.position is not None:
            where.append(f"at character {self.position + 1}")
        text = f"{' '.join(where)}: {self.message}" if where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class CodeFormatError(SerializationError):
    """A code, or a part of one, does not follow its scheme's format."""


class CheckCharacterError(CodeFormatError):
    """A code's check digit or check character does not match its body."""

    def __init__(
        self,
        message: str,
        *,
        expected: str,
        found: str,
        field: str | None = None,
        position: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, field=field, position=position, hint=hint)
        self.expected = expected
        self.found = found


class SerialPolicyError(SerializationError):
    """A serial number configuration is unsafe (guessable, too small, wrong alphabet)."""


class IllegalTransitionError(SerializationError):
    """A code was asked to move between two states the state machine does not connect."""
