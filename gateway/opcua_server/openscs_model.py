"""OPC 30260 (OPEN-SCS) as plain data: node ids, return codes, serial number formats, the
structures exchanged by the methods, the request token, and the error a method answers with.

No asyncua here: `openscs_types.py` converts between these and asyncua's generated classes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum

NAMESPACE_URI = "http://opcfoundation.org/UA/OPENSCS-SER/"

KeyValues = tuple[tuple[str, str], ...]
"""`OPENSCSKeyValueDataType[]` as (Key, Value) pairs, in order."""


class TypeId(IntEnum):
    """Numeric node ids in the OPEN-SCS namespace (`NodeIds.csv` of the nodeset)."""

    POOL_MANAGER_TYPE = 15032
    EVENT_MANAGER_TYPE = 15062
    AGGREGATION_MANAGER_TYPE = 15094
    SID_CLASS_TYPE = 15102
    AGGREGATION = 3002
    LABEL = 3003
    RETURN_ENUM = 15001
    COLLECTION = 15005
    LABEL_COLLECTION = 15006
    SN_COLLECTION = 15008
    KEY_VALUE = 15010


class ReturnStatus(IntEnum):
    """`OPENSCSReturnEnum`: the outcome every OPEN-SCS method reports in `ReturnStatus`."""

    UNDEFINED = 0
    NO_ERROR = 1
    INVALID_SERIAL_NUMBER_COLLECTION = 2
    INSUFFICIENT_SERIAL_NUMBERS = 3
    INVALID_SERIAL_NUMBERS_FORMAT = 4
    INVALID_REQUEST_TOKEN = 5
    INVALID_SELECTION_CRITERIA = 6
    UNABLE_TO_ACCEPT_SERIAL_NUMBER_EVENTS = 7
    UNABLE_TO_ACCEPT_LABEL_EVENTS = 8
    UNABLE_TO_ACCEPT_SID_EVENTS = 9
    UNKNOWN_AGGREGATION_SID = 10
    INSUFFICIENT_PRIVILEGE_TO_EXECUTE = 11


class SnFormat(StrEnum):
    """Serial number formats of the OPEN-SCS PSS that tracegate reads and writes."""

    SERIAL_ONLY = "SERIALONLY"
    """The serial alone, e.g. the GS1 AI (21) value; the SID class supplies the rest."""
    LITERAL = "LITERAL"
    """The whole code as printed (element string, NMPA 20 digits, national code, template)."""
    EPC_URI = "EPCURI"
    """GS1 EPC pure-identity URI, `urn:epc:id:sgtin:…` (SGTIN SID classes only)."""

    @classmethod
    def parse(cls, text: str | None, *, argument: str = "SNFormat") -> SnFormat:
        """An empty format means SERIALONLY, the one every OPEN-SCS server must support."""
        value = (text or "").strip().upper() or cls.SERIAL_ONLY.value
        try:
            return cls(value)
        except ValueError:
            raise OpenScsError(
                ReturnStatus.INVALID_SERIAL_NUMBERS_FORMAT,
                f"unknown serial number format {text!r}",
                argument=argument,
                hint=f"use one of {', '.join(f.value for f in cls)}",
            ) from None


class OpenScsError(Exception):
    """A method call refused: the OPEN-SCS return status, the input argument at fault, what is
    wrong and how to fix it. Raised before anything is written."""

    def __init__(
        self,
        status: ReturnStatus,
        message: str,
        *,
        argument: str | None = None,
        hint: str | None = None,
        call_status: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.argument = argument
        self.hint = hint
        self.call_status = call_status
        """An OPC UA status name (e.g. `BadOutOfRange`) when no OPEN-SCS return status fits:
        the call then fails with it instead of answering with `status`."""

    def __str__(self) -> str:
        where = f"{self.argument}: " if self.argument else ""
        fix = f" (fix: {self.hint})" if self.hint else ""
        return f"{where}{self.message}{fix}"


@dataclass(frozen=True, slots=True)
class SnCollection:
    """`OPENSCSSNCollectionDataType`."""

    id: str = ""
    description: str = ""
    state: int = 0
    """`OPENSCSSerialNumberStateEnum` (= `serialization.states.CodeState`)."""
    pool_id: str = ""
    """`AssociatedPoolID`; tracegate puts the SID class id here."""
    serial_numbers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Label:
    """`OPENSCSLabelDataType`: one serial number with its properties."""

    id: str
    properties: KeyValues = ()


@dataclass(frozen=True, slots=True)
class LabelCollection:
    """`OPENSCSLabelCollectionDataType`: a collection whose serials are also given as labels."""

    id: str = ""
    description: str = ""
    state: int = 0
    pool_id: str = ""
    serial_numbers: tuple[str, ...] = ()
    labels: tuple[Label, ...] = ()
    properties: KeyValues | None = None


@dataclass(frozen=True, slots=True)
class Aggregation:
    """`OPENSCSAggregationDataType`: a parent and the elements packed in it."""

    parent: Label
    children: LabelCollection


@dataclass(frozen=True, slots=True)
class OpenScsSettings:
    """What the pool manager announces and enforces (`MaxSN…` properties) and its page size."""

    max_sn_pushable: int = 100_000
    max_sn_requestable: int = 100_000
    max_sn_returnable: int = 100_000
    page_size: int = 1_000
    """Serial numbers per `SNRequest…` answer; the rest follows with `ReturnedRequestToken`."""

    def __post_init__(self) -> None:
        for name in ("max_sn_pushable", "max_sn_requestable", "max_sn_returnable", "page_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"OPEN-SCS {name} must be at least 1, not {getattr(self, name)}")


_TOKEN = re.compile(r"([0-9a-f]{32})\.(0|[1-9][0-9]{0,18})")


@dataclass(frozen=True, slots=True)
class RequestToken:
    """`RequestToken` of the `SNRequest…` methods: the request and where its next page starts.

    It names durable state (the request's record in the store), so it stays valid across
    gateway restarts and sessions, and asking again with the same token returns the same page.
    """

    request_id: str
    after: int = 0

    def encode(self) -> str:
        return f"{self.request_id}.{self.after}"

    @classmethod
    def decode(cls, text: str) -> RequestToken:
        match = _TOKEN.fullmatch(text)
        if match is None:
            raise OpenScsError(
                ReturnStatus.INVALID_REQUEST_TOKEN,
                f"{text[:80]!r} is not a request token of this server",
                argument="RequestToken",
                hint="pass back the ReturnedRequestToken of the previous answer unchanged, "
                "or an empty token to start a new request",
            )
        return cls(match.group(1), int(match.group(2)))


def key_values(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Criteria as a mapping; a key given twice is refused rather than silently overwritten."""
    result: dict[str, str] = {}
    for key, value in pairs:
        if key in result:
            raise OpenScsError(
                ReturnStatus.INVALID_SELECTION_CRITERIA,
                f"key {key!r} is given twice",
                argument="PoolSelectionCriteria",
                hint="give each key once",
            )
        result[key] = value
    return result


@dataclass(frozen=True, slots=True)
class Page:
    """One answer of a `SNRequest…` call."""

    status: ReturnStatus
    collection: SnCollection
    next_token: str = ""
