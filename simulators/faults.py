"""Fault injection for TCP simulators: disconnect, delay, garbage bytes, partial frames, silence.

A simulator writes to its peers through `FaultInjector.wrap(writer)` instead of the bare
`asyncio.StreamWriter`; the injector's `faults` can be changed at any time (from a test, or from
the command line with `add_fault_arguments` / `faults_from_arguments`) and apply to the next
write. `disconnect_all()` drops every connection at once, as a pulled cable or a crash would.

    injector = FaultInjector(Faults(delay=0.2), seed=1)
    out = injector.wrap(writer)
    await out.write(frame)          # 0.2 s late
    injector.faults.silent = True   # from now on the peer hears nothing
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
from dataclasses import dataclass


@dataclass
class Faults:
    """What happens to each write. Rates are probabilities per write, 0 to 1."""

    delay: float = 0.0
    """Seconds each write waits before it goes out."""
    silent: bool = False
    """Writes are swallowed; the connection stays open and the peer hears nothing."""
    garbage_rate: float = 0.0
    """Random bytes (1-32, newlines included) go out before the write."""
    split_rate: float = 0.0
    """The write goes out in two parts, `split_pause` seconds apart (a frame split across reads)."""
    split_pause: float = 0.05
    truncate_rate: float = 0.0
    """Only the first half of the write goes out, then the connection is dropped."""

    def __post_init__(self) -> None:
        for name in ("garbage_rate", "split_rate", "truncate_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault {name}={rate} is not a probability between 0 and 1")
        if self.delay < 0 or self.split_pause < 0:
            raise ValueError("fault delay and split_pause must not be negative")


class FaultyWriter:
    """A peer connection as seen through the injector."""

    def __init__(self, injector: FaultInjector, writer: asyncio.StreamWriter) -> None:
        self._injector = injector
        self._writer = writer

    @property
    def closed(self) -> bool:
        return self._writer.is_closing()

    async def write(self, data: bytes) -> None:
        """Send `data` with the current faults applied; a dropped peer raises ConnectionError."""
        faults, rng = self._injector.faults, self._injector.random
        if faults.delay:
            await asyncio.sleep(faults.delay)
        if faults.silent or self.closed:
            return
        if faults.garbage_rate and rng.random() < faults.garbage_rate:
            self._writer.write(rng.randbytes(rng.randint(1, 32)))
        if faults.truncate_rate and rng.random() < faults.truncate_rate:
            self._writer.write(data[: max(1, len(data) // 2)])
            await self._writer.drain()
            self.abort()
            return
        if faults.split_rate and len(data) > 1 and rng.random() < faults.split_rate:
            half = len(data) // 2
            self._writer.write(data[:half])
            await self._writer.drain()
            await asyncio.sleep(faults.split_pause)
            data = data[half:]
        self._writer.write(data)
        await self._writer.drain()

    def abort(self) -> None:
        """Drop the connection at once (the peer sees a reset)."""
        self._writer.transport.abort()

    async def close(self) -> None:
        self._injector._forget(self)
        self._writer.close()
        with contextlib.suppress(OSError, ConnectionError):
            await self._writer.wait_closed()


class FaultInjector:
    def __init__(self, faults: Faults | None = None, *, seed: int | None = None) -> None:
        self.faults = faults or Faults()
        self.random = random.Random(seed)  # noqa: S311 - faults, not secrets
        self._open: set[FaultyWriter] = set()

    @property
    def connections(self) -> int:
        return len(self._open)

    def wrap(self, writer: asyncio.StreamWriter) -> FaultyWriter:
        faulty = FaultyWriter(self, writer)
        self._open.add(faulty)
        return faulty

    def disconnect_all(self) -> int:
        """Drop every open connection; returns how many there were."""
        dropped = list(self._open)
        for writer in dropped:
            writer.abort()
        return len(dropped)

    def _forget(self, writer: FaultyWriter) -> None:
        self._open.discard(writer)


async def shut_down(
    server: asyncio.Server | None,
    injector: FaultInjector,
    handlers: set[asyncio.Task[None]],
    grace: float = 2.0,
) -> None:
    """Close a simulator's server and every connection, and wait for their handlers to end.

    A connection accepted just before the close gets its handler task a few loop iterations
    later; the short pause lets it start (and see its connection dropped) before the loop
    might end. Handlers still running after `grace` seconds are cancelled — not at once, as
    asyncio's stream machinery logs a cancelled handler as an error on Python 3.11.
    """
    if server is not None:
        server.close()
        await asyncio.sleep(0.05)
    injector.disconnect_all()
    if handlers:
        _, stuck = await asyncio.wait(set(handlers), timeout=grace)
        for task in stuck:
            task.cancel()
        await asyncio.gather(*stuck, return_exceptions=True)
    injector.disconnect_all()
    if server is not None:
        await server.wait_closed()


def add_fault_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("fault injection")
    group.add_argument(
        "--fault-delay", type=float, default=0.0, metavar="S", help="delay every write by S"
    )
    group.add_argument(
        "--fault-garbage", type=float, default=0.0, metavar="RATE", help="random bytes first"
    )
    group.add_argument(
        "--fault-split", type=float, default=0.0, metavar="RATE", help="write in two parts"
    )
    group.add_argument(
        "--fault-truncate", type=float, default=0.0, metavar="RATE", help="half, then drop"
    )
    group.add_argument("--fault-silent", action="store_true", help="swallow every write")


def faults_from_arguments(args: argparse.Namespace) -> Faults:
    return Faults(
        delay=args.fault_delay,
        silent=args.fault_silent,
        garbage_rate=args.fault_garbage,
        split_rate=args.fault_split,
        truncate_rate=args.fault_truncate,
    )
