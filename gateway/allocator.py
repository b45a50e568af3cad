"""glibc's allocator set for a process that runs a batch for hours.

Left to its defaults, glibc raises its mmap threshold to the size of the largest block freed
(up to 32 MB): after the first camera frame or large table is freed, every later one comes
from the heap, and the small long-lived objects allocated between them pin the holes they
leave. It also gives every thread its own arena (up to eight per core). In the one-hour soak
the arenas' free but unreturnable memory grew by about a kilobyte a unit; with a fixed
threshold and two arenas it stays under 2 MB and the process starts 20 MB smaller
(`docs/reliability.md`, Results). Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD = 128 * 1024
"""Blocks from this size up are mapped on their own and returned to the system when freed."""
ARENAS = 2


def tune_allocator() -> bool:
    """Fix the mmap threshold and cap the arenas, unless the operator set either through
    glibc's own environment variables; True when glibc took the settings."""
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_ARENA_MAX" in os.environ:
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_ARENA_MAX, ARENAS))
