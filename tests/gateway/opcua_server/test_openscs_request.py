"""SNRequestUnallocated / SNRequestAllocated with RequestToken paging, SNReturnAllocated, and
what the pool manager refuses."""

from __future__ import annotations

from typing import Any

import pytest
from asyncua import ua
from sqlalchemy import Engine, select

from ebr.allocation import CodeAllocator
from ebr.audit.actor import Actor
from ebr.errors import PoolExhaustedError
from ebr.models import Code
from gateway.opcua_server.openscs_model import OpenScsSettings, ReturnStatus
from gateway.opcua_server.openscs_types import read_sn_collection
from serialization.states import CodeState
from tests.ebr.fixtures_master import MASTER_KEY, install_master_data, open_batch
from tests.gateway.opcua_server.openscs_fixtures import (
    Session,
    message_of,
    openscs_gateway,
    status_of,
)

PARA = (("SIDClassID", "urn:epc:idpat:sgtin:9501101.053002.*"),)
SMALL_PAGES = OpenScsSettings(page_size=40, max_sn_requestable=500)


def _pushed(n: int, prefix: str = "S") -> list[str]:
    return [f"{prefix}{i:011d}" for i in range(n)]


def _page(result: ua.CallMethodResult) -> tuple[int, list[str], str]:
    status, collection, token = result.OutputArguments
    return (
        int(status.Value),
        list(read_sn_collection(collection).serial_numbers),
        str(token.Value),
    )


def _states(engine: Engine) -> dict[str, tuple[int, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(Code.serial, Code.state, Code.allocation_id)).all()
    return {serial: (state, allocation) for serial, state, allocation in rows}


async def _all_pages(session: Session, method: str, count: int) -> tuple[int, list[list[str]]]:
    status, serials, token = _page(await session.request(method, count, PARA))
    pages = [serials]
    while token:
        again = _page(await session.request(method, count, PARA, token=token))
        assert again[0] == ReturnStatus.NO_ERROR
        pages.append(again[1])
        token = again[2]
    return status, pages


async def test_paging_survives_a_restart_and_a_page_asked_twice_is_the_same(
    engine: Engine,
) -> None:
    install_master_data(engine)
    pushed = _pushed(100)
    async with openscs_gateway(engine, settings=SMALL_PAGES) as (_handle, session):
        await session.push(pushed, PARA)
        status, first, token = _page(
            await session.request("SNRequestUnallocated", 90, PARA, collection_id="to-site-2")
        )
        assert (status, len(first), bool(token)) == (ReturnStatus.NO_ERROR, 40, True)
    async with openscs_gateway(engine, settings=SMALL_PAGES) as (_handle, session):
        second = _page(await session.request("SNRequestUnallocated", 90, PARA, token=token))
        again = _page(await session.request("SNRequestUnallocated", 90, PARA, token=token))
        assert second == again
        third = _page(await session.request("SNRequestUnallocated", 0, (), token=second[2]))
        result = await session.request("SNRequestUnallocated", 90, PARA, token=second[2])
        collection = read_sn_collection(result.OutputArguments[1])
    assert [len(second[1]), len(third[1]), third[2]] == [40, 10, ""]
    assert first + second[1] + third[1] == pushed[:90]
    assert (collection.id, collection.state, collection.pool_id) == (
        "to-site-2",
        int(CodeState.UNALLOCATED),
        "urn:epc:idpat:sgtin:9501101.053002.*",
    )
    states = _states(engine)
    assert {states[s][0] for s in pushed[:90]} == {int(CodeState.UNASSIGNED)}
    batch = open_batch(engine, "para")
    allocator = CodeAllocator(engine, master_key=MASTER_KEY)
    assert [code.serial for code in allocator.allocate("line-1", batch, 10)] == pushed[90:]
    with pytest.raises(PoolExhaustedError):
        allocator.allocate("line-1", batch, 1)


async def test_insufficient_serials_and_allocated_requests(engine: Engine) -> None:
    install_master_data(engine)
    pushed = _pushed(50)
    async with openscs_gateway(engine, settings=SMALL_PAGES) as (_handle, session):
        await session.push(pushed, PARA)
        allocated = await _all_pages(session, "SNRequestAllocated", 30)
        short = await _all_pages(session, "SNRequestUnallocated", 30)
        empty = _page(await session.request("SNRequestUnallocated", 5, PARA))
        refused = await session.push(
            allocated[1][0][:2], PARA, method="SNReturnAllocated", cid="back"
        )
    assert allocated[0] == ReturnStatus.NO_ERROR
    assert [s for page in allocated[1] for s in page] == pushed[:30]
    assert short[0] == ReturnStatus.INSUFFICIENT_SERIAL_NUMBERS
    assert [s for page in short[1] for s in page] == pushed[30:]
    assert empty == (ReturnStatus.INSUFFICIENT_SERIAL_NUMBERS, [], "")
    states = _states(engine)
    assert {states[s] for s in pushed[:30]} == {(int(CodeState.ALLOCATED), None)}
    assert status_of(refused) == ReturnStatus.INVALID_SERIAL_NUMBER_COLLECTION
    assert "SerialNumbers[0]: was handed out by an OPEN-SCS request" in message_of(refused)


async def test_codes_a_line_never_used_go_back_to_the_owner(engine: Engine) -> None:
    install_master_data(engine)
    pushed = _pushed(20)
    async with openscs_gateway(engine, settings=SMALL_PAGES) as (_handle, session):
        await session.push(pushed, PARA)
        batch = open_batch(engine, "para")
        codes = CodeAllocator(engine, master_key=MASTER_KEY).allocate("line-1", batch, 5)
        back = await session.push(
            [code.serial for code in codes[:3]], PARA, method="SNReturnAllocated"
        )
        twice = await session.push([codes[0].serial], PARA, method="SNReturnAllocated")
        status, owner, _token = _page(await session.request("SNRequestUnallocated", 4, PARA))
    assert status_of(back) == ReturnStatus.NO_ERROR, message_of(back)
    assert "is Unallocated, not Allocated" in message_of(twice)
    assert status == ReturnStatus.NO_ERROR
    assert owner == [code.serial for code in codes[:3]] + [pushed[5]]


async def test_bad_tokens_counts_callers_and_methods_not_offered(engine: Engine) -> None:
    install_master_data(engine)

    def only_requests(method: str) -> Actor | None:
        return Actor(username="mes") if method.startswith("SNRequest") else None

    async with openscs_gateway(engine, settings=SMALL_PAGES, caller=only_requests) as (
        handle,
        session,
    ):
        denied = await session.push(["A1"], PARA)
        garbage = await session.request("SNRequestUnallocated", 1, PARA, token="page-2")
        unknown = await session.request("SNRequestUnallocated", 1, PARA, token="ab" * 16 + ".3")
        zero = await session.request("SNRequestUnallocated", 0, PARA)
        too_many = await session.request("SNRequestAllocated", 501, PARA)
        literal = await session.request("SNRequestUnallocated", 1, PARA, fmt="LITERAL")
        unassigned = await session.request("SNRequestUnassigned", 1, PARA)
        assert handle.child_id("SNtoEncoded").Identifier == "OpenSCS.PoolManager.SNtoEncoded"
    assert status_of(denied) == ReturnStatus.INSUFFICIENT_PRIVILEGE_TO_EXECUTE
    assert "may not call SNtoUnallocated" in message_of(denied)
    assert status_of(garbage) == ReturnStatus.INVALID_REQUEST_TOKEN
    assert "'page-2' is not a request token of this server" in message_of(garbage)
    assert garbage.InputArgumentResults[4].is_bad()
    assert status_of(unknown) == ReturnStatus.INVALID_REQUEST_TOKEN
    assert zero.StatusCode.value == ua.StatusCodes.BadOutOfRange
    assert "Count 0 is outside 1..500 (MaxSNRequestable)" in message_of(zero)
    assert zero.InputArgumentResults[1].value == ua.StatusCodes.BadOutOfRange
    assert too_many.StatusCode.value == ua.StatusCodes.BadOutOfRange
    assert status_of(literal) == ReturnStatus.INVALID_SERIAL_NUMBERS_FORMAT
    assert "only when allocated" in message_of(literal)
    assert unassigned.StatusCode.value == ua.StatusCodes.BadNotImplemented
    assert "SNRequestUnassigned is not offered" in message_of(unassigned)
