"""A virtual null-modem cable: two pseudo-terminals whose bytes are copied to each other.

An RTU server and an RTU client each open one end by its path, as they would open
/dev/ttyUSB0. Copying happens on the running event loop (no thread). POSIX only. Like a real
line it has no flow control: bytes the far end cannot take are dropped and counted.
Some kernels refuse parity on a pseudo-terminal: use parity "N" on both ends.
"""

from __future__ import annotations

import asyncio
import os
import tty


class PtyLink:
    def __init__(self) -> None:
        self._masters: list[int] = []
        self._slaves: list[int] = []
        self.ends: tuple[str, str] = ("", "")
        self.bytes_copied = 0
        self.bytes_dropped = 0

    async def __aenter__(self) -> PtyLink:
        self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def open(self) -> None:
        loop = asyncio.get_running_loop()
        names = []
        for _ in range(2):
            master, slave = os.openpty()
            tty.setraw(slave)
            os.set_blocking(master, False)
            self._masters.append(master)
            self._slaves.append(slave)
            names.append(os.ttyname(slave))
        self.ends = (names[0], names[1])
        first, second = self._masters
        loop.add_reader(first, self._copy, first, second)
        loop.add_reader(second, self._copy, second, first)

    def _copy(self, source: int, target: int) -> None:
        try:
            data = os.read(source, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        while data:
            try:
                written = os.write(target, data)
            except (BlockingIOError, OSError):
                self.bytes_dropped += len(data)
                return
            self.bytes_copied += written
            data = data[written:]

    def close(self) -> None:
        if not self._masters:
            return
        loop = asyncio.get_running_loop()
        for fd in self._masters:
            loop.remove_reader(fd)
        for fd in self._masters + self._slaves:
            os.close(fd)
        self._masters, self._slaves = [], []
