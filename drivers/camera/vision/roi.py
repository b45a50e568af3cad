"""Where to look first: the region the last units' codes were found in, widened by a margin."""

from __future__ import annotations

from collections import deque

from drivers.camera.vision.decode import Rect


class RoiTracker:
    """Union of the last `history` code boxes, grown by `margin` times the symbol size."""

    def __init__(self, history: int = 3, margin: float = 0.75, min_pad_px: int = 24) -> None:
        if history < 1:
            raise ValueError(f"ROI history {history} must be at least 1")
        self._boxes: deque[Rect] = deque(maxlen=history)
        self.margin = margin
        self.min_pad_px = min_pad_px

    def region(self, frame_width: int, frame_height: int) -> Rect | None:
        if not self._boxes:
            return None
        x0 = min(b.x for b in self._boxes)
        y0 = min(b.y for b in self._boxes)
        x1 = max(b.x + b.width for b in self._boxes)
        y1 = max(b.y + b.height for b in self._boxes)
        size = max(max(b.width, b.height) for b in self._boxes)
        pad = max(self.min_pad_px, int(size * self.margin))
        region = Rect(x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad)
        clipped = region.clip(frame_width, frame_height)
        if clipped.width * clipped.height >= frame_width * frame_height * 0.8:
            return None
        return clipped

    def found(self, box: Rect) -> None:
        self._boxes.append(box)

    def reset(self) -> None:
        self._boxes.clear()
