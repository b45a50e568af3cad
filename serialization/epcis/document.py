"""An EPCISDocument: the events and when the document was made; what both bindings share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from serialization.epcis.errors import EpcisError
from serialization.epcis.events import EpcisEvent

SCHEMA_VERSION = "2.0"
CBVMDA = "urn:epcglobal:cbv:mda"
"""The CBV master data namespace (XML namespace; JSON-LD prefix `cbvmda:`)."""


@dataclass(frozen=True, slots=True)
class EpcisDocument:
    events: Sequence[EpcisEvent]
    creation_date: datetime

    def __post_init__(self) -> None:
        if self.creation_date.utcoffset() is None:
            raise EpcisError(
                "the document's creation date has no UTC offset",
                field="creationDate",
                hint="pass an aware datetime, e.g. datetime.now(UTC)",
            )


def event_time_text(moment: datetime) -> str:
    """An event time as written: the site's offset, milliseconds."""
    return moment.isoformat(timespec="milliseconds")


def creation_date_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
