"""Run the line PLC simulator as a child process (for kill-and-restart tests and `simulate`).

The child is `python -m simulators.line_plc`; it is ready when it prints `READY <endpoint>`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence


class PlcProcess:
    def __init__(self, port: int, args: Sequence[str] = (), *, ready_timeout_s: float = 20.0):
        self.port = port
        self.args = tuple(args)
        self.endpoint = f"opc.tcp://127.0.0.1:{port}"
        self._ready_timeout_s = ready_timeout_s
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    async def start(self) -> None:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "simulators.line_plc",
            "--port",
            str(self.port),
            *self.args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        self._process = process
        assert process.stdout is not None
        try:
            async with asyncio.timeout(self._ready_timeout_s):
                while True:
                    line = await process.stdout.readline()
                    if not line:
                        raise RuntimeError(
                            f"line PLC simulator exited before it was ready ({self.args})"
                        )
                    if line.startswith(b"READY "):
                        return
        except BaseException:
            await self.kill()
            raise

    async def kill(self) -> None:
        """SIGKILL: the peer vanishes without closing anything."""
        await self._end(signal.SIGKILL)

    async def stop(self) -> None:
        await self._end(signal.SIGTERM)

    def pause(self) -> None:
        """SIGSTOP: the peer stays connected but answers nothing."""
        if self._process is not None:
            self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)

    async def _end(self, sig: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGCONT)
                process.send_signal(sig)
        await process.wait()
        if process.stdout is not None:
            with contextlib.suppress(Exception):
                await process.stdout.read()
        transport = getattr(process, "_transport", None)
        if transport is not None:
            transport.close()

    async def __aenter__(self) -> PlcProcess:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
