"""How a trial changes the gateway process's world without touching its code: a shifted wall
clock (libfaketime, Debian's `faketime` package) and a slow fsync (a small preloaded shim)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

FAKETIME_LIBRARY = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1")
SHIM_SOURCE = Path(__file__).with_name("slow_fsync.c")


class EnvironmentUnavailableError(RuntimeError):
    """The machine cannot make this fault; the message says what to install."""


def shifted_clock(offset_file: Path) -> dict[str, str]:
    """Environment for a process whose wall clock is the real one plus the offset written in
    `offset_file` ("+0", "+3600", "-1800": seconds), re-read at most once a second, so a trial
    jumps the clock of a running gateway by rewriting the file. Monotonic time is left alone,
    as a real clock jump leaves it."""
    if not FAKETIME_LIBRARY.exists():
        raise EnvironmentUnavailableError(
            f"{FAKETIME_LIBRARY} is missing: install Debian's faketime package "
            "(scripts/system-packages.sh does, as root)"
        )
    offset_file.write_text("+0\n", encoding="ascii")
    return {
        "LD_PRELOAD": str(FAKETIME_LIBRARY),
        "FAKETIME_TIMESTAMP_FILE": str(offset_file),
        "FAKETIME_CACHE_DURATION": "1",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "FAKETIME_DONT_RESET": "1",
    }


def jump_clock(offset_file: Path, offset_s: int) -> None:
    offset_file.write_text(f"{offset_s:+d}\n", encoding="ascii")


def slow_fsync(build_dir: Path, delay_ms: int) -> dict[str, str]:
    """Environment for a process whose every fsync/fdatasync takes `delay_ms` longer."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise EnvironmentUnavailableError(
            "no C compiler to build the slow-fsync shim: install build-essential"
        )
    build_dir.mkdir(parents=True, exist_ok=True)
    library = build_dir / "slow_fsync.so"
    subprocess.run(  # noqa: S603 - our compiler on our source
        [compiler, "-shared", "-fPIC", "-O2", "-o", str(library), str(SHIM_SOURCE), "-ldl"],
        check=True,
        capture_output=True,
    )
    return {"LD_PRELOAD": str(library), "CHAOS_FSYNC_DELAY_MS": str(delay_ms)}
