"""A camera that drops its images into a directory (a watched folder).

File names carry the unit reference:

- `<unit_ref>.png` — a grayscale PNG;
- `<unit_ref>.<width>x<height>.raw` — mono8 pixels, row by row, exactly width × height bytes.

A file is read only once it is complete: either its marker `<file name>.done` exists (the
writer creates it after closing the file), or its size and modification time have not changed
for `settle_s` seconds. With `require_marker=True` only marked files are read. A PNG must end
with its IEND chunk, a raw file must have exactly width × height bytes. A read file (and
its marker) is moved to `processed/`; a file that cannot be understood goes to `rejected/` and
counts as an error. Files whose names fit neither pattern are left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from drivers.background import AsyncDevice, BackgroundTask
from drivers.base import DeviceHealth, Frame, LinkState, PixelFormat, SmartResult
from drivers.camera.protocol import UNIT_REF_SIZE, Limits, png_dimensions
from drivers.health import HealthTracker

log = logging.getLogger("tracegate.drivers.camera")

MARKER_SUFFIX = ".done"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
PROCESSED = "processed"
REJECTED = "rejected"
_RAW_NAME = re.compile(r"^(?P<ref>.+)\.(?P<width>\d{1,5})x(?P<height>\d{1,5})\.raw$")
_CLOSED = object()


class UnreadableImageError(ValueError):
    """A complete file in the folder that is not an image we can deliver."""


@dataclass(frozen=True, slots=True)
class _Seen:
    size: int
    mtime_ns: int
    since: float


class FolderCamera(AsyncDevice):
    """Polls `directory` every `poll_interval` seconds and yields one `Frame` per complete file.

    At most `queue_size` frames wait for the consumer; beyond that, files stay in the folder
    until there is room (oldest first), so a slow consumer loses nothing.
    """

    def __init__(
        self,
        name: str,
        directory: str | os.PathLike[str],
        *,
        poll_interval: float = 0.1,
        settle_s: float = 0.5,
        require_marker: bool = False,
        limits: Limits | None = None,
        queue_size: int = 64,
    ) -> None:
        self.name = name
        self.directory = Path(directory)
        self.poll_interval = poll_interval
        self.settle_s = settle_s
        self.require_marker = require_marker
        self._limits = limits or Limits()
        self._queue_size = queue_size
        self._queue: asyncio.Queue[Frame | object] = asyncio.Queue()
        self._health = HealthTracker(name, "camera")
        self._health.detail("directory", str(self.directory))
        self._seen: dict[str, _Seen] = {}
        self._task = BackgroundTask(f"camera folder {name}", self._run)
        self._closed = False

    def start(self) -> None:
        self._task.start()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._task.stop()
        self._health.set_state(LinkState.DOWN, reason="closed")
        self._queue.put_nowait(_CLOSED)

    async def results(self) -> AsyncIterator[Frame | SmartResult]:
        while True:
            item = await self._queue.get()
            if item is _CLOSED:
                return
            assert isinstance(item, Frame)
            yield item

    def health(self) -> DeviceHealth:
        return self._health.snapshot()

    async def _run(self) -> None:
        while True:
            try:
                room = self._queue_size - self._queue.qsize()
                frames = await asyncio.to_thread(self._poll, time.monotonic(), room)
            except OSError as error:
                if self._health.state is not LinkState.DOWN:
                    reason = (
                        f"cannot read the folder {self.directory}: {error.strerror or error} "
                        "(check the path in the site file and the gateway's permissions)"
                    )
                    self._health.error(reason)
                    self._health.set_state(LinkState.DOWN, reason=reason)
            else:
                self._health.set_state(LinkState.UP, reason=str(self.directory))
                for frame in frames:
                    self._health.good_value()
                    self._queue.put_nowait(frame)
            await asyncio.sleep(self.poll_interval)

    def _poll(self, now: float, room: int) -> list[Frame]:
        """One pass over the folder (runs in a worker thread): up to `room` complete files."""
        entries = _file_stats(self.directory)
        frames: list[Frame] = []
        for name in sorted(entries, key=lambda n: (entries[n].st_mtime_ns, n)):
            if len(frames) >= room:
                break
            if not _is_image_name(name):
                continue
            marked = name + MARKER_SUFFIX in entries
            if not marked and not self._settled(name, entries[name], now):
                continue
            self._seen.pop(name, None)
            path = self.directory / name
            try:
                frames.append(self._read(path))
            except (UnreadableImageError, OSError) as error:
                self._health.error(f"{path}: {error}")
                log.warning("camera %s: %s: %s", self.name, path, error)
                self._move(path, REJECTED, marked)
            else:
                self._move(path, PROCESSED, marked)
        for name in list(self._seen):
            if name not in entries:
                del self._seen[name]
        return frames

    def _settled(self, name: str, stat: os.stat_result, now: float) -> bool:
        if self.require_marker:
            return False
        seen = self._seen.get(name)
        if seen is None or (seen.size, seen.mtime_ns) != (stat.st_size, stat.st_mtime_ns):
            self._seen[name] = _Seen(stat.st_size, stat.st_mtime_ns, now)
            return False
        return stat.st_size > 0 and now - seen.since >= self.settle_s

    def _read(self, path: Path) -> Frame:
        name = path.name
        raw = _RAW_NAME.match(name)
        unit_ref = raw["ref"] if raw else name.removesuffix(".png")
        if not unit_ref or len(unit_ref.encode("utf-8")) > UNIT_REF_SIZE:
            raise UnreadableImageError(
                f"unit reference {unit_ref!r} is empty or longer than {UNIT_REF_SIZE} bytes"
            )
        size = path.stat().st_size
        if size > self._limits.max_body:
            raise UnreadableImageError(f"{size} bytes exceeds the limit {self._limits.max_body}")
        data = path.read_bytes()
        if raw:
            width, height = int(raw["width"]), int(raw["height"])
            fmt = PixelFormat.MONO8
            if len(data) != width * height:
                raise UnreadableImageError(
                    f"mono8 {width}x{height} needs {width * height} bytes, the file has "
                    f"{len(data)}; name raw files <unit>.<width>x<height>.raw"
                )
        else:
            dims = png_dimensions(data)
            if dims is None:
                raise UnreadableImageError("not a PNG file (bad signature or IHDR)")
            if not data.endswith(PNG_END):
                raise UnreadableImageError(
                    "PNG file is truncated (no IEND chunk); have the camera write a .done marker"
                )
            width, height = dims
            fmt = PixelFormat.PNG
        if not (0 < width <= self._limits.max_width and 0 < height <= self._limits.max_height):
            raise UnreadableImageError(f"image size {width}x{height} is outside the limits")
        taken_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        return Frame(unit_ref, width, height, fmt, data, taken_at)

    def _move(self, path: Path, folder: str, marked: bool) -> None:
        target = self.directory / folder
        target.mkdir(exist_ok=True)
        shutil.move(path, target / path.name)
        if marked:
            with contextlib.suppress(FileNotFoundError):
                (path.parent / (path.name + MARKER_SUFFIX)).unlink()


def _file_stats(directory: Path) -> dict[str, os.stat_result]:
    stats: dict[str, os.stat_result] = {}
    with os.scandir(directory) as scan:
        for entry in scan:
            with contextlib.suppress(FileNotFoundError):
                if entry.is_file():
                    stats[entry.name] = entry.stat()
    return stats


def _is_image_name(name: str) -> bool:
    return (name.endswith(".png") and len(name) > 4) or _RAW_NAME.match(name) is not None
