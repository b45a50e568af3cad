"""The Records and Orders methods as plain data: names, argument and result types, who may
call them.

The address space is built from these (`gateway.opcua_server.model`), and docs/opcua.md
describes the same table, so a non-Python client knows what to send.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

DataType = Literal["Int64", "UInt32", "String", "String[]", "Boolean"]


@dataclass(frozen=True, slots=True)
class Argument:
    name: str
    data_type: DataType
    description: str


@dataclass(frozen=True, slots=True)
class MethodSpec:
    name: str
    description: str
    inputs: tuple[Argument, ...]
    outputs: tuple[Argument, ...]
    writes: bool = False
    """A method that changes something: only accounts with a write role may call it."""


GET_RECORDS: Final = MethodSpec(
    "GetRecords",
    "The records after a sequence, in order, one JSON object each.",
    (
        Argument(
            "sinceSequence",
            "Int64",
            "Records with a higher sequence are returned; -1: after the calling account's "
            "acknowledged cursor.",
        ),
        Argument("maxCount", "UInt32", "At most this many records (0 or above 10000: 10000)."),
    ),
    (
        Argument("records", "String[]", "One JSON object per record (docs/opcua.md)."),
        Argument("lastSequence", "Int64", "Ask from here next; acknowledge it once stored."),
        Argument("more", "Boolean", "More records are waiting after lastSequence."),
    ),
)
ACKNOWLEDGE: Final = MethodSpec(
    "Acknowledge",
    "The consumer holds every record up to the sequence; returns its cursor.",
    (
        Argument("consumer", "String", "Name of the consumer, 1-64 characters."),
        Argument("sequence", "Int64", "A lastSequence GetRecords returned."),
    ),
    (Argument("cursor", "Int64", "The consumer's acknowledged sequence afterwards."),),
    writes=True,
)
GET_BATCH_RECORD: Final = MethodSpec(
    "GetBatchRecord",
    "The batch's electronic record as JSON.",
    (Argument("batchId", "Int64", "The batch id."),),
    (Argument("record", "String", "JSON: batch, counts, reconciliation, verification, events."),),
)
GET_AGGREGATION: Final = MethodSpec(
    "GetAggregation",
    "What a code is packed in, and what is packed in it, as JSON.",
    (Argument("code", "String", "The code's key, as printed."),),
    (Argument("tree", "String", "JSON: the code, its ancestors and its tree of children."),),
)
TRACE_CODE: Final = MethodSpec(
    "TraceCode",
    "One code's history as JSON.",
    (Argument("code", "String", "The code's key, as printed."),),
    (Argument("trace", "String", "JSON: batch, parent, state changes and journal events."),),
)
RECORDS_METHODS: Final = (GET_RECORDS, ACKNOWLEDGE, GET_BATCH_RECORD, GET_AGGREGATION, TRACE_CODE)

DOWNLOAD_ORDER: Final = MethodSpec(
    "DownloadOrder",
    "A packaging order from the MES: creates its batch, or returns the batch it created before.",
    (
        Argument(
            "order",
            "String",
            "JSON object: product, lot, line, planned_quantity; optional expiry and "
            "production_date (YYYY-MM-DD) (docs/opcua.md).",
        ),
    ),
    (Argument("batchId", "Int64", "The order's batch."),),
    writes=True,
)
UPDATE_PRODUCT: Final = MethodSpec(
    "UpdateProduct",
    "Product master data from the MES, checked against the site file, which defines products.",
    (
        Argument(
            "product",
            "String",
            "JSON object: id and any of name, gtin, company_prefix, nmpa_drug_id, national, "
            "template_values (docs/opcua.md).",
        ),
    ),
    (Argument("matches", "Boolean", "True: the gateway codes the product with this data."),),
    writes=True,
)
ORDERS_METHODS: Final = (DOWNLOAD_ORDER, UPDATE_PRODUCT)
