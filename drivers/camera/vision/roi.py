"""Where to look first: the region the last units' codes were found in, widened by a margin."""

from __future__ import annotations

from collections import deque

from drivers.camera.vision.decode import Rect


class RoiTracker:
    """Where the next code should be: first the last code's box grown by `first_margin` times
    the symbol size, then the union of the last `history` boxes grown by `margin`.

    Measured on the vision benchmark's hard set (conveyor jitter σ 20 px across, 8 px along,
    3 % misplaced units), per frame, interleaved in one run: the union of the last two boxes
    grown by 0.35 read as many codes as the last three grown by 0.75 (314 against 315 of 400)
    in 60 % of the time; trying the last box grown by 0.25 first read 316 and took the median
    from 0.60 to 0.47 ms."""

    def __init__(
        self,
        history: int = 2,
        margin: float = 0.35,
        min_pad_px: int = 24,
        first_margin: float = 0.25,
    ) -> None:
        if history < 1:
            raise ValueError(f"ROI history {history} must be at least 1")
        self._boxes: deque[Rect] = deque(maxlen=history)
        self.margin = margin
        self.min_pad_px = min_pad_px
        self.first_margin = first_margin

    def regions(self, frame_width: int, frame_height: int) -> list[Rect]:
        """The regions to search in turn (none without history)."""
        if not self._boxes:
            return []
        last = self._boxes[-1]
        first = self._grown([last], self.first_margin, frame_width, frame_height)
        union = self.region(frame_width, frame_height)
        regions = [] if first is None else [first]
        if union is not None and union != first:
            regions.append(union)
        return regions

    def region(self, frame_width: int, frame_height: int) -> Rect | None:
        """The union of the last boxes, grown; None when there is none or it is most of the
        frame."""
        if not self._boxes:
            return None
        return self._grown(list(self._boxes), self.margin, frame_width, frame_height)

    def _grown(
        self, boxes: list[Rect], margin: float, frame_width: int, frame_height: int
    ) -> Rect | None:
        x0 = min(b.x for b in boxes)
        y0 = min(b.y for b in boxes)
        x1 = max(b.x + b.width for b in boxes)
        y1 = max(b.y + b.height for b in boxes)
        size = max(max(b.width, b.height) for b in boxes)
        pad = max(self.min_pad_px, int(size * margin))
        region = Rect(x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad)
        clipped = region.clip(frame_width, frame_height)
        if clipped.width * clipped.height >= frame_width * frame_height * 0.8:
            return None
        return clipped

    def found(self, box: Rect) -> None:
        self._boxes.append(box)

    def reset(self) -> None:
        self._boxes.clear()
