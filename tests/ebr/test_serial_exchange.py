"""Handing serials out of the pool while the line allocates from it: no code goes twice."""

from __future__ import annotations

import json
import secrets
import threading

import pytest
from sqlalchemy import Engine

from ebr.allocation import CodeAllocator
from ebr.errors import PoolExhaustedError
from ebr.imports import CodeImporter
from ebr.serial_exchange import SerialExchangeError, SerialHandOut
from serialization.rules import PackagingLevel
from serialization.states import CodeState
from tests.ebr.fixtures_master import MASTER_KEY, install_master_data, open_batch


def _import(engine: Engine, serials: list[str]) -> None:
    document = {"product": "para", "serials": serials}
    CodeImporter(engine).import_bytes("pool.json", json.dumps(document).encode())


def test_hand_outs_and_allocations_never_share_a_code(engine: Engine) -> None:
    install_master_data(engine)
    pushed = [f"X{i:011d}" for i in range(200)]
    _import(engine, pushed)
    batch = open_batch(engine, "para")
    handout = SerialHandOut(engine)
    taken: list[list[str]] = []
    lock = threading.Lock()

    def hand_out(to_state: CodeState) -> None:
        request = handout.hand_out(
            request_id=secrets.token_hex(16),
            method="test",
            product_id="para",
            level=PackagingLevel.UNIT,
            count=30,
            to_state=to_state,
            details={},
        )
        codes, _next = handout.page(request, after=0, limit=100)
        with lock:
            taken.append([code.serial for code in codes])

    def allocate() -> None:
        try:
            codes = CodeAllocator(engine, master_key=MASTER_KEY).allocate("line-1", batch, 30)
        except PoolExhaustedError:
            return
        with lock:
            taken.append([code.serial for code in codes])

    workers = [
        threading.Thread(target=hand_out, args=(CodeState.UNASSIGNED,)),
        threading.Thread(target=hand_out, args=(CodeState.ALLOCATED,)),
        threading.Thread(target=hand_out, args=(CodeState.UNASSIGNED,)),
        threading.Thread(target=allocate),
        threading.Thread(target=allocate),
        threading.Thread(target=allocate),
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    everything = [serial for group in taken for serial in group]
    assert len(everything) == len(set(everything)) == 180
    assert set(everything) <= set(pushed)


def test_take_back_names_every_code_it_refuses(engine: Engine) -> None:
    install_master_data(engine)
    _import(engine, [f"Y{i:011d}" for i in range(5)])
    batch = open_batch(engine, "para")
    codes = CodeAllocator(engine, master_key=MASTER_KEY).allocate("line-1", batch, 2)
    handout = SerialHandOut(engine)
    unknown = "010950110153002721NOPE"
    with pytest.raises(SerialExchangeError, match="none was") as refused:
        handout.take_back([codes[0].key, unknown, codes[0].key], reason="test")
    problems = refused.value.problems
    assert (unknown, "not a code of this gateway") in problems
    assert any("twice" in message for _key, message in problems)
    handout.take_back([codes[1].key], reason="unused")
    request = handout.hand_out(
        request_id="ab" * 16,
        method="test",
        product_id="para",
        level=PackagingLevel.UNIT,
        count=1,
        to_state=CodeState.UNASSIGNED,
        details={},
    )
    page, following = handout.page(request, after=0, limit=5)
    assert [code.key for code in page] == [codes[1].key]
    assert following is None
    assert handout.request("ab" * 16) == request
