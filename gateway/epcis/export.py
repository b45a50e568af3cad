"""One batch as a validated EPCIS 2.0 document, and writing it without ever leaving a half or
invalid file behind."""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import Engine

from ebr.batch_record import read_batch_record
from ebr.journal import Journal
from gateway.epcis.from_journal import ExportSettings, journal_to_epcis
from gateway.epcis.validate import validate_jsonld, validate_xml
from serialization.epcis import EpcisDocument, EpcisEvent, document_to_jsonld, document_to_xml

DEFECT = "nothing was written; an export that fails its own validation is a defect, report it"


class ExportFormat(StrEnum):
    JSONLD = "jsonld"
    XML = "xml"


@dataclass(frozen=True, slots=True)
class BatchExport:
    data: bytes
    events: list[EpcisEvent]

    def counts(self) -> dict[str, int]:
        """How many events of each business step, in order of first appearance."""
        return dict(Counter(event.biz_step or event.type_name for event in self.events))


def export_batch(
    engine: Engine,
    batch_id: int,
    fmt: ExportFormat,
    settings: ExportSettings,
    *,
    created: datetime,
) -> BatchExport:
    """The batch's EPCIS document in `fmt`, validated: `InvalidDocumentError` otherwise."""
    record = read_batch_record(engine, batch_id)
    events = journal_to_epcis(record, Journal(engine).entries(batch_id), settings)
    document = EpcisDocument(events, created)
    if fmt is ExportFormat.JSONLD:
        body = document_to_jsonld(document)
        validate_jsonld(body, hint=DEFECT)
        data = (json.dumps(body, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    else:
        data = document_to_xml(document)
        validate_xml(data, hint=DEFECT)
    return BatchExport(data, events)


def write_new_file(path: Path, data: bytes) -> None:
    """Write `data` to `path`, which must not exist: through a temporary file in the same
    folder, synced and renamed, so `path` holds the whole document or nothing."""
    if path.exists():
        raise FileExistsError(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, path)
    finally:
        os.unlink(temporary)
