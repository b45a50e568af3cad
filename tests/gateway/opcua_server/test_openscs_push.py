"""SNtoUnallocated: the enterprise pushes serial numbers; the line then codes exactly those."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import Engine, func, select

from ebr.allocation import CodeAllocator
from ebr.audit.trail import AuditTrail
from ebr.errors import PoolExhaustedError
from ebr.models import Code, Import
from gateway.opcua_server.openscs_model import ReturnStatus
from serialization.gs1.epc import sgtin_uri
from tests.ebr.fixtures_master import ALNUM, MASTER_KEY, install_master_data, open_batch
from tests.gateway.opcua_server.openscs_fixtures import message_of, openscs_gateway, status_of

PARA = (("SIDClassID", "urn:tracegate:sidclass:para:unit"),)


def _serials(n: int) -> list[str]:
    return ["".join(secrets.choice(ALNUM) for _ in range(12)) for _ in range(n)]


def _codes(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Code)).scalar_one())


async def test_pushed_serials_are_exactly_those_then_used_in_production(engine: Engine) -> None:
    install_master_data(engine)
    pushed = _serials(40)
    async with openscs_gateway(engine) as (_handle, session):
        first = await session.push(pushed[:25], PARA, cid="enterprise-0001")
        second = await session.push(pushed[25:], (("GTIN", "09501101530027"),), cid="0002")
    assert status_of(first) == status_of(second) == ReturnStatus.NO_ERROR
    batch = open_batch(engine, "para")
    allocator = CodeAllocator(engine, master_key=MASTER_KEY)
    codes = allocator.allocate("line-1", batch, 30) + allocator.allocate("line-1", batch, 10)
    assert [code.serial for code in codes] == pushed
    assert all(code.data and code.data.endswith("21" + code.serial) for code in codes)
    with pytest.raises(PoolExhaustedError, match="0 unused imported serials"):
        allocator.allocate("line-1", batch, 1)
    imports = AuditTrail(engine).entries(event="codes.imported")
    assert [entry.username for entry in imports] == ["openscs", "openscs"]
    assert imports[0].new["file"] == "openscs-SNtoUnallocated-enterprise-0001.json"


async def test_a_collection_with_one_bad_serial_imports_nothing(engine: Engine) -> None:
    install_master_data(engine)
    async with openscs_gateway(engine) as (_handle, session):
        await session.push(["KEEP00000001"], PARA)
        bad = await session.push(
            ["GOOD00000001", "BAD 0000002", "KEEP00000001", "GOOD00000001"], PARA
        )
        assert status_of(bad) == ReturnStatus.INVALID_SERIAL_NUMBER_COLLECTION
        message = message_of(bad)
        assert "3 problem(s), nothing was imported" in message
        assert "SerialNumbers[1]: (21)" in message
        assert (
            "SerialNumbers[2]: code 010950110153002721KEEP00000001 is already in the store"
            in message
        )
        assert "SerialNumbers[3]: GOOD00000001 is a duplicate of SerialNumbers[0]" not in message
        assert "duplicate of serials[0]" in message
        assert "fix:" in message
        assert bad.InputArgumentResults[0].is_bad()
        assert bad.InputArgumentResults[1].is_good()
    assert _codes(engine) == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Import)).scalar_one() == 1


async def test_selection_and_format_errors_are_named(engine: Engine) -> None:
    install_master_data(engine)
    async with openscs_gateway(engine) as (handle, session):
        unknown = await session.push(["A1"], (("SIDClassID", "urn:nope"),))
        generator = await session.push(
            ["A1"], (("SIDClassID", "urn:tracegate:sidclass:amox:unit"),)
        )
        no_key = await session.push(["A1"], (("Colour", "red"),))
        fmt = await session.push(["A1"], PARA, fmt="BARCODE")
        nmpa = await session.push(
            ["1"], (("SIDClassID", "urn:tracegate:sidclass:nmpa:unit"),), fmt="SERIALONLY"
        )
        published = await session.manager.get_child(
            f"{handle.namespace_index}:PoolSelectionCriteria"
        )
        criteria = [(kv.Key, kv.Value) for kv in await published.read_value()]
    assert status_of(unknown) == ReturnStatus.INVALID_SELECTION_CRITERIA
    assert "'urn:nope' is not a SID class of this gateway" in message_of(unknown)
    assert "urn:epc:idpat:sgtin:9501101.053002.*" in message_of(unknown)
    assert status_of(generator) == ReturnStatus.INVALID_SELECTION_CRITERIA
    assert "generates its own serials (csprng)" in message_of(generator)
    assert "generator: imported" in message_of(generator)
    assert "unknown selection key(s) Colour" in message_of(no_key)
    assert status_of(fmt) == ReturnStatus.INVALID_SERIAL_NUMBERS_FORMAT
    assert "SERIALONLY, LITERAL, EPCURI" in message_of(fmt)
    assert fmt.InputArgumentResults[2].is_bad()
    assert "nmpa20 codes are exchanged whole" in message_of(nmpa)
    assert ("SIDClassID", "urn:epc:idpat:sgtin:9501101.053002.*") in criteria
    assert ("SIDClassID", "urn:tracegate:sidclass:tmpl:unit") in criteria
    assert all("amox" not in value for _key, value in criteria)
    assert _codes(engine) == 0


async def test_whole_codes_and_epc_uris(engine: Engine) -> None:
    install_master_data(engine)
    sgtins = [sgtin_uri("09501101530027", serial, 7) for serial in ("EPC000000001", "EPC000000002")]
    async with openscs_gateway(engine) as (_handle, session):
        epc = await session.push(
            sgtins, (), fmt="EPCURI", pool="urn:epc:idpat:sgtin:9501101.053002.*"
        )
        foreign = await session.push([sgtin_uri("09501101530010", "X1", 7)], PARA, fmt="EPCURI")
        nmpa = await session.push(
            ["86123450000000011234"],
            (("SIDClassID", "urn:tracegate:sidclass:nmpa:unit"),),
            fmt="LITERAL",
        )
    assert status_of(epc) == ReturnStatus.NO_ERROR, message_of(epc)
    assert "is not an SGTIN of GTIN 09501101530027" in message_of(foreign)
    assert status_of(nmpa) == ReturnStatus.NO_ERROR, message_of(nmpa)
    with engine.connect() as conn:
        serials = set(conn.execute(select(Code.serial)).scalars())
    assert {"EPC000000001", "EPC000000002"} <= serials
