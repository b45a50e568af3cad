"""The watched-folder camera: complete files only, named by unit, moved once read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.base import Frame, LinkState, PixelFormat, SmartResult
from drivers.camera.folder import FolderCamera


async def take(camera: FolderCamera, count: int, timeout: float = 3.0) -> list[Frame]:
    frames: list[Frame] = []
    results = camera.results()
    try:
        async with asyncio.timeout(timeout):
            async for result in results:
                assert isinstance(result, Frame)
                frames.append(result)
                if len(frames) == count:
                    break
    finally:
        await results.aclose()
    return frames


def png_bytes(width: int, height: int) -> bytes:
    ok, encoded = cv2.imencode(".png", np.full((height, width), 200, np.uint8))
    assert ok
    return encoded.tobytes()


@pytest.fixture
async def camera(tmp_path: Path) -> AsyncIterator[FolderCamera]:
    async with FolderCamera("folder-cam", tmp_path, poll_interval=0.02, settle_s=0.1) as cam:
        yield cam


async def test_png_and_raw_files_become_frames_of_their_units(
    camera: FolderCamera, tmp_path: Path
) -> None:
    (tmp_path / "L1-000001.png").write_bytes(png_bytes(8, 6))
    (tmp_path / "L1-000002.4x3.raw").write_bytes(bytes(range(12)))

    frames = sorted(await take(camera, 2), key=lambda f: f.unit_ref)

    assert [(f.unit_ref, f.pixel_format, f.width, f.height) for f in frames] == [
        ("L1-000001", PixelFormat.PNG, 8, 6),
        ("L1-000002", PixelFormat.MONO8, 4, 3),
    ]
    assert frames[1].data == bytes(range(12))
    assert sorted(p.name for p in (tmp_path / "processed").iterdir()) == [
        "L1-000001.png",
        "L1-000002.4x3.raw",
    ]
    assert camera.health().state is LinkState.UP


async def test_a_file_still_growing_is_not_read_early(tmp_path: Path) -> None:
    path = tmp_path / "L1-000003.64x64.raw"
    async with FolderCamera("folder-cam", tmp_path, poll_interval=0.02, settle_s=1.0) as cam:
        with path.open("wb") as handle:
            for _ in range(8):
                handle.write(bytes(512))
                handle.flush()
                await asyncio.sleep(0.1)

        (frame,) = await take(cam, 1)

    assert len(frame.data) == 4096


async def test_a_done_marker_makes_a_file_readable_at_once(tmp_path: Path) -> None:
    async with FolderCamera(
        "folder-cam", tmp_path, poll_interval=0.02, settle_s=60, require_marker=True
    ) as cam:
        (tmp_path / "L1-000004.2x2.raw").write_bytes(bytes(4))
        await asyncio.sleep(0.2)
        assert not (tmp_path / "processed").exists()
        (tmp_path / "L1-000004.2x2.raw.done").touch()

        (frame,) = await take(cam, 1, timeout=1.0)

    assert frame.unit_ref == "L1-000004"
    assert not (tmp_path / "L1-000004.2x2.raw.done").exists()


async def test_a_bad_file_is_rejected_with_a_clear_error(
    camera: FolderCamera, tmp_path: Path
) -> None:
    (tmp_path / "L1-000005.4x4.raw").write_bytes(bytes(10))
    (tmp_path / "L1-000006.png").write_bytes(b"not a png at all")
    (tmp_path / "L1-000007.png").write_bytes(png_bytes(8, 8)[:-12])
    (tmp_path / "notes.txt").write_text("left alone")

    async with asyncio.timeout(3):
        while camera.health().error_count < 3:
            await asyncio.sleep(0.02)

    assert sorted(p.name for p in (tmp_path / "rejected").iterdir()) == [
        "L1-000005.4x4.raw",
        "L1-000006.png",
        "L1-000007.png",
    ]
    assert (tmp_path / "notes.txt").exists()
    assert "needs 16 bytes" in (camera.health().last_error or "") or "PNG" in (
        camera.health().last_error or ""
    )


async def test_a_missing_folder_is_down(tmp_path: Path) -> None:
    async with FolderCamera("folder-cam", tmp_path / "absent", poll_interval=0.02) as cam:
        async with asyncio.timeout(2):
            while cam.health().state is not LinkState.DOWN:
                await asyncio.sleep(0.02)
        assert "cannot read the folder" in (cam.health().last_error or "")


async def test_results_end_on_close(tmp_path: Path) -> None:
    cam = FolderCamera("folder-cam", tmp_path)
    cam.start()
    await cam.close()

    assert [r async for r in cam.results() if isinstance(r, Frame | SmartResult)] == []


async def test_a_slow_consumer_leaves_files_waiting_in_the_folder(tmp_path: Path) -> None:
    for n in range(5):
        (tmp_path / f"U{n}.1x1.raw").write_bytes(bytes([n]))
        (tmp_path / f"U{n}.1x1.raw.done").touch()
    async with FolderCamera("folder-cam", tmp_path, poll_interval=0.02, queue_size=2) as cam:
        await asyncio.sleep(0.3)
        assert len(list((tmp_path / "processed").iterdir())) == 2

        frames = await take(cam, 5)

    assert sorted(f.unit_ref for f in frames) == [f"U{n}" for n in range(5)]
