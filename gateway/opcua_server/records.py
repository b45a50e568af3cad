"""The Records object's methods over the store: pull with acknowledgement, batch export,
aggregation and code history.

Every database read and write runs in a worker thread, so a slow query never stalls the event
loop the line runtime shares. Everything comes from the database: a restarted server continues
exactly where a consumer's acknowledged cursor (or the sequence it passes) says.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from asyncua.ua.status_codes import StatusCodes
from sqlalchemy import Engine

from ebr.record_cursors import AcknowledgementError, acknowledge, consumer_cursor
from ebr.records import aggregation_tree, batch_record, code_trace, record_page
from gateway.opcua_server.access import Caller
from gateway.opcua_server.calls import MethodCallError, bound_method
from gateway.opcua_server.methods import (
    ACKNOWLEDGE,
    GET_AGGREGATION,
    GET_BATCH_RECORD,
    GET_RECORDS,
    TRACE_CODE,
)
from gateway.opcua_server.settings import MAX_PAGE_BYTES, MAX_PAGE_RECORDS

FROM_CURSOR = -1


class RecordsService:
    def __init__(
        self,
        engine: Engine,
        *,
        max_page_records: int = MAX_PAGE_RECORDS,
        max_page_bytes: int = MAX_PAGE_BYTES,
    ) -> None:
        self._engine = engine
        self._max_records = max_page_records
        self._max_bytes = max_page_bytes

    def callbacks(self) -> Mapping[str, Callable[..., Awaitable[Any]]]:
        return {
            GET_RECORDS.name: bound_method(GET_RECORDS, self.get_records),
            ACKNOWLEDGE.name: bound_method(ACKNOWLEDGE, self.acknowledge),
            GET_BATCH_RECORD.name: bound_method(GET_BATCH_RECORD, self.get_batch_record),
            GET_AGGREGATION.name: bound_method(GET_AGGREGATION, self.get_aggregation),
            TRACE_CODE.name: bound_method(TRACE_CODE, self.trace_code),
        }

    async def get_records(self, caller: Caller, values: list[Any]) -> list[Any]:
        since, max_count = values
        if since == FROM_CURSOR:
            if caller.username is None:
                raise MethodCallError(
                    StatusCodes.BadInvalidArgument,
                    "GetRecords sinceSequence -1 reads the calling account's cursor, and an "
                    "anonymous session has none; pass a sequence (0 for everything)",
                    argument=0,
                )
            since = await asyncio.to_thread(consumer_cursor, self._engine, caller.username)
        elif since < 0:
            raise MethodCallError(
                StatusCodes.BadInvalidArgument,
                f"GetRecords sinceSequence {since} is negative; pass 0 or more, or -1 for "
                "the calling account's acknowledged cursor",
                argument=0,
            )
        count = self._max_records if max_count == 0 else min(max_count, self._max_records)
        page = await asyncio.to_thread(record_page, self._engine, since, count, self._max_bytes)
        return [page.records, page.last_sequence, page.more]

    async def acknowledge(self, caller: Caller, values: list[Any]) -> list[Any]:
        consumer, sequence = values
        try:
            cursor = await asyncio.to_thread(
                acknowledge, self._engine, consumer, sequence, username=caller.username
            )
        except AcknowledgementError as error:
            raise MethodCallError(
                StatusCodes.BadInvalidArgument,
                f"Acknowledge: {error}",
                argument=1 if "sequence" in error.message else 0,
            ) from None
        return [cursor]

    async def get_batch_record(self, caller: Caller, values: list[Any]) -> list[Any]:
        (batch_id,) = values
        record = await asyncio.to_thread(batch_record, self._engine, batch_id)
        if record is None:
            raise MethodCallError(
                StatusCodes.BadNotFound,
                f"GetBatchRecord: no batch {batch_id}; batch ids are in the records "
                "(batch_id) and in Site.Lines.<line>.CurrentBatch.BatchId",
                argument=0,
            )
        return [_json(record)]

    async def get_aggregation(self, caller: Caller, values: list[Any]) -> list[Any]:
        (code,) = values
        tree = await asyncio.to_thread(aggregation_tree, self._engine, code)
        if tree is None:
            raise MethodCallError(
                StatusCodes.BadNotFound, _unknown("GetAggregation", code), argument=0
            )
        return [_json(tree)]

    async def trace_code(self, caller: Caller, values: list[Any]) -> list[Any]:
        (code,) = values
        trace = await asyncio.to_thread(code_trace, self._engine, code)
        if trace is None:
            raise MethodCallError(StatusCodes.BadNotFound, _unknown("TraceCode", code), argument=0)
        return [_json(trace)]


def _unknown(method: str, code: str) -> str:
    shown = code if len(code) <= 100 else code[:100] + "…"
    return (
        f"{method}: no code {shown!r} in this gateway; give the code's key: 01<GTIN>21<serial> "
        "for a GS1 unit, 00<SSCC> for a case or pallet, the whole code for other schemes"
    )


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
