"""The allocator settings, seen in glibc's own accounting in a fresh process: a block over the
threshold is mapped on its own even after a larger one was freed (the default would have
raised the threshold and taken it from the heap)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gateway.allocator import keep_trimmed

PROBE = """
import ctypes, sys
from gateway.allocator import tune_allocator

class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = (ctypes.c_void_p,)
tuned = tune_allocator() if sys.argv[1] == "tuned" else None
libc.free(libc.malloc(4 * 1024 * 1024))
before = libc.mallinfo2().hblkhd
block = libc.malloc(512 * 1024)
print(tuned, libc.mallinfo2().hblkhd - before >= 512 * 1024)
libc.free(block)
"""

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="glibc only: the settings do nothing elsewhere",
)


def _probe(mode: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        capture_output=True,
        text=True,
        check=True,
        env=environment | env,
        timeout=60,
    )
    return done.stdout.strip()


@glibc
def test_a_block_over_the_threshold_is_mapped_after_a_larger_one_was_freed() -> None:
    assert _probe("default") == "None False", "glibc's default raises its threshold"
    assert _probe("tuned") == "True True"


@glibc
def test_the_operators_own_settings_are_left_alone() -> None:
    assert _probe("tuned", MALLOC_ARENA_MAX="4") == "False False"


HOLES = """
import ctypes
from gateway.allocator import trim, tune_allocator

def resident_kb():
    return int(open("/proc/self/statm").read().split()[1]) * 4

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = (ctypes.c_size_t,)
libc.free.argtypes = (ctypes.c_void_p,)
tune_allocator()
size = 64 * 1024
blocks = [libc.malloc(size) for _ in range(400)]
for block in blocks:
    ctypes.memset(block, 1, size)
for block in blocks[::2]:
    libc.free(block)
before = resident_kb()
trimmed = trim()
print(trimmed, before - resident_kb())
"""


@glibc
def test_trimming_returns_the_holes_between_live_blocks() -> None:
    """Two hundred freed 64 KB blocks, each between live ones: glibc keeps their pages until
    trimmed (12.5 MB)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", HOLES],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
        timeout=60,
    )
    trimmed, returned_kb = done.stdout.split()
    assert trimmed == "True"
    assert int(returned_kb) >= 10 * 1024


def test_one_trimming_thread_runs_in_the_background() -> None:
    thread = keep_trimmed(every_s=3600)
    if thread is None:
        pytest.skip("no malloc_trim in this C library")
    assert thread.daemon
    assert thread.is_alive()
    assert keep_trimmed() is thread, "one thread a process"
