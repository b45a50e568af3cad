"""The last unit frames: bounded (the oldest drops out), newest first, smart-camera results
ignored, and encoded to a PNG of the frame's size only when asked."""

from __future__ import annotations

from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

from drivers.base import Frame, PixelFormat, SmartResult
from gateway.line.recent_frames import RecentFrames, png_of

TAKEN = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def _frame(ref: int, width: int = 40, height: int = 30) -> Frame:
    pixels = (np.arange(width * height) % 251).astype(np.uint8)
    return Frame(str(ref), width, height, PixelFormat.MONO8, pixels.tobytes(), TAKEN)


def test_only_the_last_frames_are_kept_newest_first() -> None:
    recent = RecentFrames(keep=3)
    for ref in range(1, 6):
        recent.add(_frame(ref))
    recent.add(SmartResult("6", "text", "]d2", "A", TAKEN))
    assert [f.unit_ref for f in recent.newest_first()] == ["5", "4", "3"]
    assert recent.find("2") is None
    assert recent.find("4") is not None
    recent.clear()
    assert recent.newest_first() == []


def test_a_grey_frame_becomes_a_png_of_its_size_and_pixels() -> None:
    frame = _frame(7, width=64, height=48)
    decoded = cv2.imdecode(np.frombuffer(png_of(frame), np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded.shape == (48, 64)
    assert decoded.tobytes() == frame.data


def test_a_png_frame_is_served_as_it_came_and_a_short_frame_is_explained() -> None:
    ok, encoded = cv2.imencode(".png", np.zeros((10, 20), np.uint8))
    assert ok
    png = Frame("8", 20, 10, PixelFormat.PNG, encoded.tobytes(), TAKEN)
    assert png_of(png) == encoded.tobytes()
    short = Frame("9", 20, 10, PixelFormat.MONO8, b"\0" * 150, TAKEN)
    with pytest.raises(ValueError, match="has 150 bytes, not 20×10 = 200"):
        png_of(short)
    with pytest.raises(ValueError, match="at least 1"):
        RecentFrames(keep=0)
