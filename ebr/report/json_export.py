"""The batch report as JSON shaped after the ISA-88 batch production record (BatchML,
`BatchProductionRecord`), sealed with `RecordHash`.

`RecordHash` is the SHA-256 of the canonical JSON of every other member (keys sorted, no
white space, UTF-8, non-ASCII kept as is): anyone can recompute it with a JSON library, and
`verify_record_hash` does. It plays the part of BatchML's `ChangeIndicator`. The same record
hash is printed on every page of the PDF, so a printed report and a JSON file can be matched.

Mapping from `BatchReport` to the JSON (BatchML's element in brackets where BatchML has the
concept; the others are extensions of ours):

- header: `ID` = record id [ID], `Description` = product name [Description], `EquipmentScope`
  = site [EquipmentScope], `EquipmentID` = line [EquipmentID], `BatchID` [BatchID], `LotID`
  [LotID], `MaterialDefinitionID` = product id [MaterialDefinitionID], `CreationDate`
  [CreationDate]; the rest (site and line names, GTIN, expiry, quantity, order number, batch
  status) in `Header` (extension).
- control recipe: `ControlRecipes[]` with ID, Name, Version, Hash [ControlRecipes].
- steps: `Events[]` with EventType `Procedural Execution`, EventSubType `State Change`,
  `ProceduralElementReference` = the step, PersonID, TimeStamp [Event].
- exceptions: `Events[]` with EventType `Alarm`, `AlarmData` {AlarmType = kind, Priority =
  severity}, `MessageText` = subject, `RecordReference` = what it refers to [Event,
  AlarmData]; their acknowledgements: `Comments[]` with ExceptionID, CommentText, PersonID,
  TimeStamp [Comment].
- sections: `DataSets[]` with ID = section and `Entries[]`, one per recorded value: EntryID,
  Name, Value, UnitOfMeasure, LowLimit, HighLimit, InLimits, DataSource = source, PersonID,
  TimeStamp, Reason, Evidence, Supersedes, SupersededBy, ChangedAfterFirstEntry [DataSet,
  TagSpecification, DataValue].
- corrections: `ChangeHistory[]` with RecordReference = the correction, PreChangeRecordReference
  and PreChangeData = the entry replaced and its value, Reason [ChangeHistory, Change].
- in-process checks: `SampleTests[]` with TestName, DueTime, EntryID, Results, InLimits
  [SampleTest].
- signatures: `Signatures[]` with Name = printed name, PersonID = user name, Meaning, Action,
  RecordReference = `<object type>:<object id>`, TimeStamp, ChangeIndication = the SHA-256 of
  the record version signed [PersonnelIdentificationManifest].
- persons: `PersonnelIdentification[]` with PersonID and Name [PersonnelIdentification].
- deviations: `Deviations[]`, the QMS reference as ExternalReference (extension).
- counts: `Counts`, `JournalVerified`; reconciliation: `Reconciliation`; release: `Release`
  and `RecordStatus` [RecordStatus] (extensions but RecordStatus).

Values keep their JSON type (a number stays a number). `CLASSIFICATION_KEYS` are the members
that hold BatchML's fixed vocabulary rather than recorded data.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any, Final

from ebr.report.errors import ReportError
from ebr.report.model import BatchReport, EntryRecord, ReportHeader

HASH_KEY: Final = "RecordHash"
CLASSIFICATION_KEYS: Final = frozenset({"EventType", "EventSubType"})
STEP_EVENT: Final = {"EventType": "Procedural Execution", "EventSubType": "State Change"}
EXCEPTION_EVENT: Final = {"EventType": "Alarm"}


def render_json(report: BatchReport) -> dict[str, Any]:
    body = _record(report)
    return {**body, HASH_KEY: record_hash(body)}


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def record_hash(body: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of `body`, which must not hold `RecordHash`."""
    try:
        text = canonical_json(dict(body))
    except (TypeError, ValueError) as error:
        raise ReportError(
            f"the batch record holds a value JSON cannot carry: {error}",
            hint="values must be JSON: text, numbers (not NaN or infinity), true/false, lists, "
            "objects",
        ) from error
    return hashlib.sha256(text).hexdigest()


def verify_record_hash(doc: Mapping[str, Any]) -> bool:
    """True when `RecordHash` is the hash of everything else in `doc` (as read back from a
    file: `json.loads` keeps every value the canonical form needs)."""
    stated = doc.get(HASH_KEY)
    if not isinstance(stated, str):
        return False
    body = {key: value for key, value in doc.items() if key != HASH_KEY}
    return hmac.compare_digest(stated, record_hash(body))


def _record(report: BatchReport) -> dict[str, Any]:
    header = report.header
    return {
        "ID": header.record_id,
        "Description": header.product.name,
        "EquipmentScope": header.site_id,
        "EquipmentID": header.line_id,
        "BatchID": str(header.batch_id),
        "LotID": header.lot,
        "MaterialDefinitionID": header.product.id,
        "CreationDate": header.created_at,
        "RecordStatus": report.release.status,
        "Header": _header(header),
        "ControlRecipes": _control_recipes(header),
        "Events": _events(report),
        "Comments": _comments(report),
        "DataSets": [
            {"ID": section.name, "Entries": [_entry(entry) for entry in section.entries]}
            for section in report.sections
        ],
        "ChangeHistory": _changes(report),
        "SampleTests": _sample_tests(report),
        "Signatures": [
            {
                "Name": signature.printed_name,
                "PersonID": signature.username,
                "Meaning": signature.meaning,
                "Action": signature.action,
                "RecordReference": f"{signature.object_type}:{signature.object_id}",
                "TimeStamp": signature.signed_at,
                "ChangeIndication": signature.record_hash,
            }
            for signature in report.signatures
        ],
        "PersonnelIdentification": [
            {"PersonID": person.username, "Name": person.full_name} for person in report.persons
        ],
        "Deviations": [
            {
                "ID": deviation.id,
                "Severity": deviation.severity,
                "Title": deviation.title,
                "Description": deviation.description,
                "Reason": deviation.reason,
                "ExternalReference": deviation.qms_reference,
                "EntryID": deviation.entry_id,
                "Status": deviation.status,
                "OpenedBy": deviation.opened_by,
                "OpenedAt": deviation.opened_at,
                "ClosedBy": deviation.closed_by,
                "ClosedAt": deviation.closed_at,
                "CloseReason": deviation.close_reason,
            }
            for deviation in report.deviations
        ],
        "Counts": dict(report.counts),
        "JournalVerified": report.journal_verified,
        "Reconciliation": _reconciliation(report),
        "Release": {
            "Status": report.release.status,
            "PersonID": report.release.decided_by,
            "TimeStamp": report.release.decided_at,
            "Reason": report.release.reason,
        },
    }


def _header(header: ReportHeader) -> dict[str, Any]:
    return {
        "SiteName": header.site_name,
        "LineName": header.line_name,
        "ProductName": header.product.name,
        "GTIN": header.product.gtin,
        "Expiry": header.expiry,
        "ProductionDate": header.production_date,
        "PlannedQuantity": header.planned_quantity,
        "OrderID": header.order_number,
        "BatchStatus": header.batch_status,
    }


def _control_recipes(header: ReportHeader) -> list[dict[str, Any]]:
    recipe = header.control_recipe
    if recipe is None:
        return []
    return [
        {
            "ID": recipe.recipe_id,
            "Name": recipe.name,
            "Version": recipe.version,
            "Hash": recipe.hash,
        }
    ]


def _events(report: BatchReport) -> list[dict[str, Any]]:
    steps = [
        {
            **STEP_EVENT,
            "ProceduralElementReference": step.step,
            "PersonID": step.done_by,
            "TimeStamp": step.done_at,
        }
        for step in report.steps
    ]
    exceptions = [
        {
            **EXCEPTION_EVENT,
            "ID": exception.id,
            "AlarmData": {"AlarmType": exception.kind, "Priority": exception.severity},
            "MessageText": exception.subject,
            "RecordReference": exception.reference,
            "TimeStamp": exception.raised_at,
            "Acknowledged": exception.acknowledged_at is not None,
        }
        for exception in report.exceptions
    ]
    return steps + exceptions


def _comments(report: BatchReport) -> list[dict[str, Any]]:
    return [
        {
            "ExceptionID": exception.id,
            "CommentText": exception.comment,
            "PersonID": exception.acknowledged_by,
            "TimeStamp": exception.acknowledged_at,
        }
        for exception in report.exceptions
        if exception.acknowledged_at is not None
    ]


def _entry(entry: EntryRecord) -> dict[str, Any]:
    return {
        "EntryID": entry.id,
        "Name": entry.name,
        "Value": entry.value,
        "UnitOfMeasure": entry.unit,
        "LowLimit": entry.low,
        "HighLimit": entry.high,
        "InLimits": entry.in_limits,
        "DataSource": entry.source,
        "PersonID": entry.recorded_by,
        "TimeStamp": entry.recorded_at,
        "Reason": entry.reason,
        "Evidence": entry.evidence,
        "Supersedes": entry.supersedes,
        "SupersededBy": entry.superseded_by,
        "ChangedAfterFirstEntry": entry.changed_after_first_entry,
    }


def _changes(report: BatchReport) -> list[dict[str, Any]]:
    changes = []
    for section in report.sections:
        for entry in section.entries:
            if entry.supersedes is None:
                continue
            before = report.entry(entry.supersedes)
            changes.append(
                {
                    "RecordReference": entry.id,
                    "PreChangeRecordReference": entry.supersedes,
                    "PreChangeData": None if before is None else before.value,
                    "Reason": entry.reason,
                    "PersonID": entry.recorded_by,
                    "TimeStamp": entry.recorded_at,
                }
            )
    return changes


def _sample_tests(report: BatchReport) -> list[dict[str, Any]]:
    tests = []
    for check in report.checks:
        result = None if check.entry_id is None else report.entry(check.entry_id)
        tests.append(
            {
                "TestName": check.name,
                "DueTime": check.due_at,
                "EntryID": check.entry_id,
                "Results": None if result is None else result.value,
                "InLimits": None if result is None else result.in_limits,
            }
        )
    return tests


def _reconciliation(report: BatchReport) -> dict[str, Any] | None:
    done = report.reconciliation
    if done is None:
        return None
    return {
        "Balanced": done.balanced,
        "Counts": dict(done.counts),
        "JournalVerified": done.journal_verified,
        "PersonID": done.recorded_by,
        "TimeStamp": done.recorded_at,
    }
