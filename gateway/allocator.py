"""glibc's allocator set for a process that runs a batch for hours.

Left to its defaults, glibc raises its mmap threshold to the size of the largest block freed
(up to 32 MB): after the first camera frame or large table is freed, every later one comes
from the heap, and the small long-lived objects allocated between them pin the holes they
leave. It also gives every thread its own arena (up to eight per core). In the one-hour soak
the arenas' free but unreturnable memory grew by about a kilobyte a unit; with a fixed
threshold and two arenas it stays under 2 MB and the process starts 20 MB smaller
(`docs/reliability.md`, Results). Even so, free chunks between live blocks are returned to the
system only by `malloc_trim`, which `keep_trimmed` calls every minute from a thread of its own.
Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import threading
import time

M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD = 128 * 1024
"""Blocks from this size up are mapped on their own and returned to the system when freed."""
ARENAS = 2
TRIM_EVERY_S = 60.0


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library, looked up once (`find_library` runs `ldconfig` in a subprocess)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def tune_allocator() -> bool:
    """Fix the mmap threshold and cap the arenas, unless the operator set either through
    glibc's own environment variables; True when glibc took the settings."""
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_ARENA_MAX" in os.environ:
        return False
    libc = _libc()
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_ARENA_MAX, ARENAS))


def trim() -> bool:
    """Give the free pages inside the heap back to the system (glibc's `malloc_trim(0)`);
    True when some were."""
    malloc_trim = getattr(_libc(), "malloc_trim", None)
    if malloc_trim is None:
        return False
    malloc_trim.argtypes = (ctypes.c_size_t,)
    malloc_trim.restype = ctypes.c_int
    return bool(malloc_trim(0))


def keep_trimmed(every_s: float = TRIM_EVERY_S) -> threading.Thread | None:
    """Trim every `every_s` seconds for the life of the process, from one daemon thread (the
    call releases the GIL and takes milliseconds; a second call returns the thread already
    running); None where there is no `malloc_trim`."""
    if getattr(_libc(), "malloc_trim", None) is None:
        return None
    with _starting:
        if not _trimmer:

            def run() -> None:
                while True:
                    time.sleep(every_s)
                    trim()

            _trimmer.append(threading.Thread(target=run, name="malloc-trim", daemon=True))
            _trimmer[0].start()
        return _trimmer[0]


_trimmer: list[threading.Thread] = []
_starting = threading.Lock()
