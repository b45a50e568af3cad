"""simulators.faults on a real TCP connection: what the peer receives under each fault."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from simulators.faults import (
    FaultInjector,
    Faults,
    FaultyWriter,
    add_fault_arguments,
    faults_from_arguments,
    shut_down,
)

FRAME = b"0123456789abcdef\r\n"


@dataclass
class Pair:
    injector: FaultInjector
    server_side: FaultyWriter
    reader: asyncio.StreamReader


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    injector = FaultInjector(seed=3)
    accepted: asyncio.Queue[FaultyWriter] = asyncio.Queue()
    handlers: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        out = injector.wrap(writer)
        accepted.put_nowait(out)
        try:
            await reader.read()
        except ConnectionError:
            pass
        finally:
            handlers.discard(task)
            await out.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        yield Pair(injector, await accepted.get(), reader)
    finally:
        writer.close()
        await shut_down(server, injector, handlers)
        await writer.wait_closed()


async def read_for(reader: asyncio.StreamReader, seconds: float) -> bytes:
    data = b""
    try:
        async with asyncio.timeout(seconds):
            while chunk := await reader.read(4096):
                data += chunk
    except TimeoutError:
        pass
    return data


async def read_until_dropped(reader: asyncio.StreamReader) -> bytes:
    """Everything received before the connection ended (end of stream or reset)."""
    received = b""
    async with asyncio.timeout(2):
        try:
            while chunk := await reader.read(4096):
                received += chunk
        except ConnectionResetError:
            pass
    return received


async def test_no_faults_pass_bytes_unchanged(pair: Pair) -> None:
    await pair.server_side.write(FRAME)
    assert await pair.reader.readexactly(len(FRAME)) == FRAME


async def test_delay_holds_each_write_back(pair: Pair) -> None:
    pair.injector.faults.delay = 0.2
    loop = asyncio.get_running_loop()
    start = loop.time()
    await pair.server_side.write(FRAME)
    assert await pair.reader.readexactly(len(FRAME)) == FRAME
    assert loop.time() - start >= 0.19


async def test_silence_swallows_writes_but_keeps_the_connection(pair: Pair) -> None:
    pair.injector.faults.silent = True
    await pair.server_side.write(FRAME)
    assert await read_for(pair.reader, 0.2) == b""
    assert not pair.server_side.closed
    pair.injector.faults.silent = False
    await pair.server_side.write(FRAME)
    assert await pair.reader.readexactly(len(FRAME)) == FRAME


async def test_garbage_comes_before_the_data(pair: Pair) -> None:
    pair.injector.faults.garbage_rate = 1.0
    await pair.server_side.write(FRAME)
    data = await read_for(pair.reader, 0.2)
    assert data.endswith(FRAME)
    assert 1 <= len(data) - len(FRAME) <= 32


async def test_split_sends_a_frame_in_two_reads(pair: Pair) -> None:
    pair.injector.faults.split_rate = 1.0
    pair.injector.faults.split_pause = 0.1
    await pair.server_side.write(FRAME)
    first = await pair.reader.read(4096)
    assert first == FRAME[: len(FRAME) // 2]
    assert await pair.reader.readexactly(len(FRAME) - len(first)) == FRAME[len(first) :]


async def test_truncate_sends_half_a_frame_then_drops_the_peer(pair: Pair) -> None:
    pair.injector.faults.truncate_rate = 1.0
    await pair.server_side.write(FRAME)
    received = await read_until_dropped(pair.reader)
    assert received == FRAME[: len(FRAME) // 2]
    assert pair.server_side.closed


async def test_disconnect_all_drops_every_connection(pair: Pair) -> None:
    assert pair.injector.connections == 1
    assert pair.injector.disconnect_all() == 1
    assert await read_until_dropped(pair.reader) == b""


def test_rates_are_checked() -> None:
    with pytest.raises(ValueError, match=r"garbage_rate=1\.5 is not a probability"):
        Faults(garbage_rate=1.5)
    with pytest.raises(ValueError, match="must not be negative"):
        Faults(delay=-1)


def test_command_line_flags_build_faults() -> None:
    parser = argparse.ArgumentParser()
    add_fault_arguments(parser)
    args = parser.parse_args(["--fault-delay", "0.5", "--fault-garbage", "0.1", "--fault-silent"])
    assert faults_from_arguments(args) == Faults(delay=0.5, garbage_rate=0.1, silent=True)
