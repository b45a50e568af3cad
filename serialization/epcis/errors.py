"""Errors of EPCIS events: a value outside the CBV, a malformed event, a broken sequence rule."""

from __future__ import annotations

from serialization.errors import SerializationError


class EpcisError(SerializationError):
    """An EPCIS event or document that tracegate refuses to write."""


class VocabularyError(EpcisError):
    """A bizStep, disposition, business transaction type or source/destination type that is
    not a CBV 2.0 term."""


class SequenceError(EpcisError):
    """An event that breaks a rule over the sequence of events for the same EPCs.

    `rule` is the rule's name (see `serialization.epcis.sequence.Rule`), `event` says which
    event (its type, business step and time), `epc` which identifier broke it.
    """

    def __init__(self, rule: str, event: str, epc: str, message: str, *, hint: str) -> None:
        super().__init__(f"rule '{rule}' refuses {event} for {epc}: {message}", hint=hint)
        self.rule = rule
        self.event = event
        self.epc = epc
