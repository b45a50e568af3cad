"""`python -m chaos.soak_gateway FILE tracegate-arguments…`: the gateway exactly as `tracegate`
runs it, plus a sampler that appends the event loop's task count to FILE every few seconds —
the one figure the soak cannot read from outside the process."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path

from gateway.cli import main as tracegate

EVERY_S = 5.0


class _RecordingPolicy(asyncio.DefaultEventLoopPolicy):
    def __init__(self, out: Path) -> None:
        super().__init__()
        self._out = out

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        loop = super().new_event_loop()
        threading.Thread(target=self._sample, args=(loop,), daemon=True).start()
        return loop

    def _sample(self, loop: asyncio.AbstractEventLoop) -> None:
        def count() -> None:
            with self._out.open("a", encoding="ascii") as out:
                out.write(f"{time.time():.0f} {len(asyncio.all_tasks(loop))}\n")

        while not loop.is_closed():
            time.sleep(EVERY_S)
            if loop.is_running():
                loop.call_soon_threadsafe(count)


def main() -> int:
    asyncio.set_event_loop_policy(_RecordingPolicy(Path(sys.argv[1])))
    return tracegate(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
