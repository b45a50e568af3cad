"""The pool manager's methods as plain calls on the store (no OPC UA here).

- `push_unallocated` (SNtoUnallocated): the collection becomes one import through
  `ebr.imports.CodeImporter`, with exactly the checks and all-or-nothing semantics of a file
  import; the line then allocates the pushed serials like any imported ones.
- `request` (SNRequestUnallocated, SNRequestAllocated): hands serials out of the pool, a page
  per call, `RequestToken` for the next page (`ebr.serial_exchange.SerialHandOut`).
- `return_allocated` (SNReturnAllocated): Allocated codes never used go back for the owner.

Every refusal is an `OpenScsError` raised before anything is written.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Engine

from ebr.audit.actor import Actor, utc_now
from ebr.audit.trail import AuditTrail
from ebr.imports import CodeImporter, ImportRejectedError
from ebr.serial_exchange import (
    HandOutRequest,
    SerialExchangeError,
    SerialHandOut,
    product_levels,
    site_owner,
)
from gateway.opcua_server.openscs_model import (
    KeyValues,
    OpenScsError,
    OpenScsSettings,
    Page,
    RequestToken,
    ReturnStatus,
    SnCollection,
    SnFormat,
    key_values,
)
from gateway.opcua_server.openscs_sid import SidClass, SidClassIndex, sid_class_for
from serialization.coding import CodeFactory, serial_key
from serialization.errors import SerializationError
from serialization.rules import LotData
from serialization.states import CodeState

SHOWN_PROBLEMS = 5
REQUEST_STATES = {
    "SNRequestUnallocated": (CodeState.UNASSIGNED, CodeState.UNALLOCATED),
    "SNRequestAllocated": (CodeState.ALLOCATED, CodeState.ALLOCATED),
}
"""Request method → (state in this gateway's store afterwards, state the requester gets)."""


def load_sid_classes(engine: Engine) -> SidClassIndex:
    """The store's product levels as SID classes, read afresh on every call."""
    owner = site_owner(engine)
    return SidClassIndex(
        sid_class_for(info.product, info.level, info.rule, owner) for info in product_levels(engine)
    )


class PoolService:
    def __init__(
        self,
        engine: Engine,
        *,
        settings: OpenScsSettings,
        audit: AuditTrail | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._audit = audit
        self._clock = clock

    def sid_classes(self) -> SidClassIndex:
        return load_sid_classes(self._engine)

    def push_unallocated(
        self, collection: SnCollection, criteria: KeyValues, sn_format: str, actor: Actor
    ) -> int:
        """Import the collection's serial numbers as Unallocated; returns how many."""
        fmt = SnFormat.parse(sn_format)
        sid = self._pooled(key_values(criteria), collection.pool_id)
        sid.check_format(fmt, reading=True)
        values = self._read_serials(sid, fmt, collection.serial_numbers)
        kind = "codes" if fmt is SnFormat.LITERAL else "serials"
        document = {"product": sid.product.id, "level": sid.level.value, kind: values}
        name = f"openscs-SNtoUnallocated-{_safe(collection.id) or 'collection'}.json"
        importer = CodeImporter(self._engine, clock=self._clock, audit=self._audit, actor=actor)
        try:
            summaries = importer.import_bytes(name, json.dumps(document).encode())
        except ImportRejectedError as error:
            raise _rejected(
                "nothing was imported",
                [
                    (_argument_location(p.location), str(p).removeprefix(f"{p.location}: "))
                    for p in error.problems
                ],
                hint=error.hint,
            ) from None
        return sum(summary.rows for summary in summaries)

    def request(
        self,
        method: str,
        *,
        collection_id: str,
        count: int,
        sn_format: str,
        criteria: KeyValues,
        token: str,
        actor: Actor,
    ) -> Page:
        handout = SerialHandOut(self._engine, clock=self._clock, audit=self._audit, actor=actor)
        if token:
            return self._next_page(handout, method, RequestToken.decode(token))
        to_state, _ = REQUEST_STATES[method]
        fmt = SnFormat.parse(sn_format)
        sid = self._pooled(key_values(criteria), collection_id)
        sid.check_format(fmt, reading=False, codes_have_data=False)
        limit = self._settings.max_sn_requestable
        if not 1 <= count <= limit:
            raise OpenScsError(
                ReturnStatus.UNDEFINED,
                f"Count {count} is outside 1..{limit} (MaxSNRequestable)",
                argument="Count",
                hint=f"ask for 1 to {limit} serial numbers per request",
                call_status="BadOutOfRange",
            )
        request = handout.hand_out(
            request_id=secrets.token_hex(16),
            method=method,
            product_id=sid.product.id,
            level=sid.level,
            count=count,
            to_state=to_state,
            details={
                "sid_class": sid.id,
                "sn_format": fmt.value,
                "collection_id": collection_id,
            },
        )
        if request.handed_out == 0:
            return Page(ReturnStatus.INSUFFICIENT_SERIAL_NUMBERS, self._collection(sid, method, []))
        page = self._page(handout, request, sid, fmt, after=0)
        if request.handed_out < count:
            return Page(ReturnStatus.INSUFFICIENT_SERIAL_NUMBERS, page.collection, page.next_token)
        return page

    def return_allocated(
        self, collection: SnCollection, criteria: KeyValues, sn_format: str, actor: Actor
    ) -> int:
        fmt = SnFormat.parse(sn_format)
        sid = self._pooled(key_values(criteria), collection.pool_id)
        sid.check_format(fmt, reading=True)
        numbers = collection.serial_numbers
        if len(numbers) > self._settings.max_sn_returnable:
            raise _too_many(len(numbers), self._settings.max_sn_returnable, "MaxSNReturnable")
        values = self._read_serials(sid, fmt, numbers)
        keys = []
        problems = []
        for i, value in enumerate(values):
            try:
                keys.append(_key(sid, fmt, value))
            except SerializationError as error:
                problems.append((f"SerialNumbers[{i}]", str(error)))
        if problems:
            raise _rejected("nothing was returned", problems)
        handout = SerialHandOut(self._engine, clock=self._clock, audit=self._audit, actor=actor)
        try:
            handout.take_back(keys, reason=f"OPEN-SCS SNReturnAllocated by {actor.username}")
        except SerialExchangeError as error:
            where = {key: f"SerialNumbers[{i}]" for i, key in enumerate(keys)}
            raise _rejected(
                "nothing was returned",
                [(where.get(key, key), message) for key, message in error.problems],
                hint=error.hint,
            ) from None
        return len(keys)

    def _pooled(self, criteria: dict[str, str], fallback: str) -> SidClass:
        sid = self.sid_classes().select(criteria, fallback)
        if not sid.pooled:
            spec = sid.rule.serial
            raise OpenScsError(
                ReturnStatus.INVALID_SELECTION_CRITERIA,
                f"SID class {sid.id} generates its own serials "
                f"({spec.generator.value if spec else 'none'}); it has no pool to exchange",
                argument="PoolSelectionCriteria",
                hint="set the level's coding rule to `generator: imported` in the site file "
                "to take serial numbers from the enterprise",
            )
        return sid

    def _read_serials(self, sid: SidClass, fmt: SnFormat, numbers: Sequence[str]) -> list[str]:
        if not numbers:
            raise OpenScsError(
                ReturnStatus.INVALID_SERIAL_NUMBER_COLLECTION,
                "the collection has no serial numbers",
                argument="SNCollection",
                hint="send at least one serial number",
            )
        if len(numbers) > self._settings.max_sn_pushable:
            raise _too_many(len(numbers), self._settings.max_sn_pushable, "MaxSNPushable")
        values, problems = [], []
        for i, text in enumerate(numbers):
            try:
                values.append(sid.read(fmt, text)[1])
            except SerializationError as error:
                problems.append((f"SerialNumbers[{i}]", str(error)))
        if problems:
            raise _rejected("nothing was imported", problems)
        return values

    def _next_page(self, handout: SerialHandOut, method: str, token: RequestToken) -> Page:
        request = handout.request(token.request_id)
        if request is None or request.method != method:
            raise OpenScsError(
                ReturnStatus.INVALID_REQUEST_TOKEN,
                f"no {method} request {token.request_id} on this server",
                argument="RequestToken",
                hint="pass back the ReturnedRequestToken of this method's previous answer",
            )
        sid = self.sid_classes().get(str(request.details.get("sid_class", "")))
        if sid is None:
            raise OpenScsError(
                ReturnStatus.INVALID_REQUEST_TOKEN,
                f"the SID class of request {token.request_id} is no longer configured",
                argument="RequestToken",
                hint="its serial numbers are out of this gateway's pool; see the audit trail "
                f"(object openscs_request {token.request_id}) for them",
            )
        fmt = SnFormat(request.details.get("sn_format", SnFormat.SERIAL_ONLY.value))
        return self._page(handout, request, sid, fmt, after=token.after)

    def _page(
        self,
        handout: SerialHandOut,
        request: HandOutRequest,
        sid: SidClass,
        fmt: SnFormat,
        *,
        after: int,
    ) -> Page:
        codes, next_after = handout.page(request, after=after, limit=self._settings.page_size)
        serials = [sid.write(fmt, key=c.key, serial=c.serial, data=c.data) for c in codes]
        token = "" if next_after is None else RequestToken(request.request_id, next_after).encode()
        collection_id = str(request.details.get("collection_id") or "") or sid.id
        return Page(
            ReturnStatus.NO_ERROR,
            self._collection(sid, request.method, serials, collection_id),
            token,
        )

    @staticmethod
    def _collection(
        sid: SidClass, method: str, serials: list[str], collection_id: str = ""
    ) -> SnCollection:
        return SnCollection(
            id=collection_id or sid.id,
            description=sid.description,
            state=int(REQUEST_STATES[method][1]),
            pool_id=sid.id,
            serial_numbers=tuple(serials),
        )


def _key(sid: SidClass, fmt: SnFormat, value: str) -> str:
    if fmt is SnFormat.LITERAL:
        return CodeFactory(sid.rule, sid.product, LotData(lot="0")).from_data(value).key
    return serial_key(sid.rule, sid.product, value)


def _argument_location(location: str) -> str:
    """An importer's row (`serials[3]`) as the method argument's element."""
    return re.sub(r"^(serials|codes)\[", "SerialNumbers[", location)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:100]


def _too_many(count: int, limit: int, name: str) -> OpenScsError:
    return OpenScsError(
        ReturnStatus.INVALID_SERIAL_NUMBER_COLLECTION,
        f"{count} serial numbers in one call; this server takes at most {limit} ({name})",
        argument="SNCollection",
        hint=f"split the collection into calls of at most {limit}",
    )


def _rejected(
    outcome: str, problems: Sequence[tuple[str, str]], *, hint: str | None = None
) -> OpenScsError:
    shown = "; ".join(f"{where}: {message}" for where, message in problems[:SHOWN_PROBLEMS])
    more = len(problems) - SHOWN_PROBLEMS
    return OpenScsError(
        ReturnStatus.INVALID_SERIAL_NUMBER_COLLECTION,
        f"{len(problems)} problem(s), {outcome}: {shown}"
        + (f"; and {more} more" if more > 0 else ""),
        argument="SNCollection",
        hint=hint or "correct the listed serial numbers and send the whole collection again",
    )
