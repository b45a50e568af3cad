"""Benchmark: camera frames per second over loopback TCP through the real driver and parser.

Measured: 1280×1024 mono8 frames (1.3 MB each) sent back to back by a plain blocking socket in
a separate process (as a camera is), received by `drivers.camera.client.TcpCamera` (its
transport protocol, `FrameParser` with its CRC checks, the results queue) and consumed from
`results()`.

Baseline, same run, same sender: the same bytes received by an asyncio protocol on the same
kind of transport and only counted, no parsing — what the loopback link and the event loop give
at most.

Prints one JSON object. Usage: python bench/devices_camera.py [--frames N] [--repeats N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import numpy as np

from drivers.base import PixelFormat
from drivers.camera.client import TcpCamera
from drivers.camera.protocol import FrameEncoder, FrameParser

WIDTH, HEIGHT = 1280, 1024
READ_CHUNK = 1 << 20


_SENDER = """
import socket, sys
count, frame = int(sys.argv[1]), sys.stdin.buffer.read()
with socket.create_server(("127.0.0.1", 0)) as listener:
    print(listener.getsockname()[1], flush=True)
    connection, _ = listener.accept()
    with connection:
        for _ in range(count):
            connection.sendall(frame)
        connection.shutdown(socket.SHUT_WR)
        connection.recv(1)
"""


class Sender:
    """A separate process, as a camera is: listens on a free loopback port and sends `frame`
    `count` times to the first client."""

    def __init__(self, frame: bytes, count: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _SENDER, str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(frame)
        self.process.stdin.close()
        self.port = int(self.process.stdout.readline())

    def join(self) -> None:
        self.process.wait(timeout=30)
        assert self.process.stdout is not None
        self.process.stdout.close()


async def _through_driver(frame: bytes, count: int) -> float:
    sender = Sender(frame, count)
    camera = TcpCamera("bench", "127.0.0.1", sender.port, queue_size=count + 1)
    received = 0
    async with camera:
        results = camera.results()
        start = time.perf_counter()
        async for _ in results:
            received += 1
            if received == count:
                break
        elapsed = time.perf_counter() - start
        await results.aclose()
    await asyncio.to_thread(sender.join)
    return count / elapsed


class _Counter(asyncio.Protocol):
    def __init__(self, wanted: int) -> None:
        self.received, self.wanted = 0, wanted
        self.done = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        if self.received >= self.wanted and not self.done.done():
            self.done.set_result(time.perf_counter())

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(time.perf_counter())


async def _bytes_only(frame: bytes, count: int) -> float:
    sender = Sender(frame, count)
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    transport, counter = await loop.create_connection(
        lambda: _Counter(len(frame) * count), "127.0.0.1", sender.port
    )
    end = await counter.done
    transport.close()
    await asyncio.to_thread(sender.join)
    return (counter.received / len(frame)) / (end - start)


def _parser_in_memory(frame: bytes, count: int) -> float:
    stream = frame * min(count, 50)
    chunks = [stream[i : i + READ_CHUNK] for i in range(0, len(stream), READ_CHUNK)]
    parser = FrameParser()
    start = time.perf_counter()
    frames = sum(len(parser.feed(chunk)) for chunk in chunks)
    return frames / (time.perf_counter() - start)


def _best(runs: int, measure: Callable[[], Awaitable[float]]) -> tuple[float, list[float]]:
    results = [asyncio.run(measure()) for _ in range(runs)]
    return statistics.median(results), results


def measure(frames: int = 300, repeats: int = 3) -> dict[str, object]:
    pixels = np.random.default_rng(0).integers(0, 256, WIDTH * HEIGHT, np.uint8).tobytes()
    frame = FrameEncoder().image("L1-000001", WIDTH, HEIGHT, PixelFormat.MONO8, pixels)
    parsed, parsed_runs = _best(repeats, lambda: _through_driver(frame, frames))
    raw, raw_runs = _best(repeats, lambda: _bytes_only(frame, frames))
    return {
        "camera_frames_per_s": round(parsed, 1),
        "camera_baseline_frames_per_s": round(raw, 1),
        "camera_parser_only_frames_per_s": round(_parser_in_memory(frame, frames), 1),
        "camera_vs_baseline": round(parsed / raw, 3),
        "camera_frame": f"{WIDTH}x{HEIGHT} mono8, {len(frame)} bytes",
        "camera_frames_per_run": frames,
        "camera_runs": {"driver": [round(r, 1) for r in parsed_runs],
                        "baseline": [round(r, 1) for r in raw_runs]},
        "baseline": "same bytes and transport, received by an asyncio protocol, only counted",
        "machine": f"{platform.machine()} {platform.python_implementation()} "
        f"{platform.python_version()}",
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(measure(args.frames, args.repeats), indent=2))


if __name__ == "__main__":
    main()
