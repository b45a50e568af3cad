"""The last few unit camera frames, kept in memory for an operator who asks to see them.

The runtime's frame tap appends each frame to a bounded deque: O(1), no copy, no encoding, no
disk, so the verdict path pays nothing more. The unit's code, verdict and reason are not copied
here: they are the pipeline's own `UnitTrack`, looked up when the frames are shown. A frame is
encoded to PNG only when its image is asked for (in a worker thread, by the caller).
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from drivers.base import Frame, PixelFormat, SmartResult

DEFAULT_KEEP = 12


class RecentFrames:
    def __init__(self, keep: int = DEFAULT_KEEP) -> None:
        if keep < 1:
            raise ValueError(f"keep must be at least 1, not {keep}")
        self.keep = keep
        self._frames: deque[Frame] = deque(maxlen=keep)

    def add(self, image: Frame | SmartResult) -> None:
        """A frame tap: keeps image frames; a smart camera's decoded text has no image."""
        if isinstance(image, Frame):
            self._frames.append(image)

    def clear(self) -> None:
        self._frames.clear()

    def newest_first(self) -> list[Frame]:
        """Call on the event loop that adds the frames (a deque is not copied safely while
        another thread appends to it)."""
        return list(reversed(self._frames))

    def find(self, unit_ref: str) -> Frame | None:
        for frame in reversed(self._frames):
            if frame.unit_ref == unit_ref:
                return frame
        return None


def png_of(frame: Frame) -> bytes:
    """The frame as PNG: a PNG frame as it came, an 8-bit grey frame encoded now."""
    if frame.pixel_format is PixelFormat.PNG:
        return frame.data
    expected = frame.width * frame.height
    if len(frame.data) != expected:
        raise ValueError(
            f"frame of unit {frame.unit_ref} has {len(frame.data)} bytes, "
            f"not {frame.width}×{frame.height} = {expected}"
        )
    pixels = np.frombuffer(frame.data, dtype=np.uint8).reshape(frame.height, frame.width)
    encoded, buffer = cv2.imencode(".png", pixels)
    if not encoded:
        raise ValueError(f"frame of unit {frame.unit_ref} could not be encoded as PNG")
    return bytes(buffer.tobytes())
