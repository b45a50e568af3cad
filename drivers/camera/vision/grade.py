"""Print-quality grade of a decoded DataMatrix after ISO/IEC 15415, as far as one image allows.

Indicative, not a verifier's grade: the camera is not a calibrated reflectometer (reflectance
is grey level / `white_level`), the aperture is 0.8 X on a resampled grid, and modulation,
fixed-pattern damage and grid are simplified (see docs/vision.md). The decoder's corners are
a fraction of a module off, so each side of the symbol is re-located on its edge before the
fixed pattern and the grid are measured.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np
import numpy.typing as npt

from drivers.camera.vision.decode import Decoded, Point

Image = npt.NDArray[np.uint8]
Floats = npt.NDArray[np.float32]
_K = 10
"""Canonical resampling: pixels per module. The 0.8 X aperture is the central 8x8."""
_APERTURE = slice(1, 9)


class Grade(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    F = "F"

    @property
    def rank(self) -> int:
        return {"A": 4, "B": 3, "C": 2, "D": 1, "F": 0}[self.value]

    @classmethod
    def of_rank(cls, rank: int) -> Grade:
        return (cls.F, cls.D, cls.C, cls.B, cls.A)[max(0, min(4, rank))]


@dataclass(frozen=True, slots=True)
class ParameterGrade:
    value: float
    grade: Grade


@dataclass(frozen=True, slots=True)
class QualityGrade:
    overall: Grade
    parameters: dict[str, ParameterGrade]
    corners: tuple[Point, Point, Point, Point]
    """Refined outer corners in frame pixels."""
    elapsed_ms: float


def _at_least(value: float, a: float, b: float, c: float, d: float) -> Grade:
    for threshold, grade in ((a, Grade.A), (b, Grade.B), (c, Grade.C), (d, Grade.D)):
        if value >= threshold:
            return grade
    return Grade.F


def _at_most(value: float, a: float, b: float, c: float, d: float) -> Grade:
    for threshold, grade in ((a, Grade.A), (b, Grade.B), (c, Grade.C), (d, Grade.D)):
        if value <= threshold:
            return grade
    return Grade.F


def failed_grade() -> QualityGrade:
    """No decode: grade F on the decode parameter, which makes the symbol F."""
    zero = ((0.0, 0.0), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0))
    return QualityGrade(Grade.F, {"decode": ParameterGrade(0.0, Grade.F)}, zero, 0.0)


def fixed_pattern(rows: int, cols: int) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Mask and ideal darkness of a single-region DataMatrix's finder L and clock track."""
    mask = np.zeros((rows, cols), bool)
    ideal = np.zeros((rows, cols), bool)
    mask[:, 0] = mask[-1, :] = mask[0, :] = mask[:, -1] = True
    ideal[:, 0] = True
    ideal[-1, :] = True
    ideal[0, ::2] = True
    ideal[1::2, -1] = True
    ideal[-1, -1] = True
    return mask, ideal


class Grader:
    """Grades a symbol from the frame it was read in; reusable, not thread-safe-sensitive."""

    def __init__(self, white_level: float = 255.0) -> None:
        if not 1.0 <= white_level <= 255.0:
            raise ValueError(f"white level {white_level} must be within 1 .. 255")
        self.white_level = white_level

    def grade(self, image: Image, decoded: Decoded) -> QualityGrade:
        started = time.perf_counter()
        if decoded.modules is None:
            return failed_grade()
        rows, cols = decoded.modules
        corners = np.array(decoded.corners, np.float64)
        canvas, modules = self._sample(image, corners, rows, cols)
        mask, ideal = fixed_pattern(rows, cols)
        turns = self._orientation(modules, mask, ideal)
        if turns:
            corners = np.roll(corners, -turns, axis=0)
            if rows != cols and turns % 2:
                rows, cols = cols, rows
                mask, ideal = fixed_pattern(rows, cols)
            canvas, modules = self._sample(image, corners, rows, cols)
        corners = self._refine(canvas, corners, rows, cols)
        canvas, modules = self._sample(image, corners, rows, cols)
        parameters = self._parameters(canvas, modules, mask, ideal, corners, rows, cols)
        if decoded.unused_error_correction is not None:
            uec = decoded.unused_error_correction
            parameters["unused_error_correction"] = ParameterGrade(
                uec, _at_least(uec, 0.62, 0.50, 0.37, 0.25)
            )
        parameters["decode"] = ParameterGrade(1.0, Grade.A)
        overall = Grade.of_rank(min(p.grade.rank for p in parameters.values()))
        refined = tuple((float(x), float(y)) for x, y in corners)
        return QualityGrade(
            overall,
            parameters,
            (refined[0], refined[1], refined[2], refined[3]),
            (time.perf_counter() - started) * 1000,
        )

    def _sample(
        self, image: Image, corners: npt.NDArray[np.float64], rows: int, cols: int
    ) -> tuple[Floats, Floats]:
        canonical = np.array(
            [
                [_K, _K],
                [(cols + 1) * _K, _K],
                [(cols + 1) * _K, (rows + 1) * _K],
                [_K, (rows + 1) * _K],
            ],
            np.float32,
        )
        homography = cv2.getPerspectiveTransform(canonical, corners.astype(np.float32))
        canvas = cv2.warpPerspective(
            image,
            homography,
            ((cols + 2) * _K, (rows + 2) * _K),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        ).astype(np.float32) / np.float32(self.white_level)
        cells = canvas.reshape(rows + 2, _K, cols + 2, _K)[:, _APERTURE, :, _APERTURE]
        return canvas, cells.mean(axis=(1, 3))

    @staticmethod
    def _orientation(
        modules: Floats, mask: npt.NDArray[np.bool_], ideal: npt.NDArray[np.bool_]
    ) -> int:
        """Quarter turns of the corner order that best match the finder L and clock track."""
        inner = modules[1:-1, 1:-1]
        best, best_turns = -1.0, 0
        for turns in range(4):
            turned = np.rot90(inner, turns)
            if turned.shape != mask.shape:
                continue
            threshold = (turned.max() + turned.min()) / 2
            agree = float(np.mean((turned[mask] < threshold) == ideal[mask]))
            if agree > best:
                best, best_turns = agree, turns
        return best_turns

    def _refine(
        self, canvas: Floats, corners: npt.NDArray[np.float64], rows: int, cols: int
    ) -> npt.NDArray[np.float64]:
        """Move each side onto its edge: two edge points per side, lines, new corners."""
        _, ideal = fixed_pattern(rows, cols)
        lines = []
        for side in ("top", "right", "bottom", "left"):
            points = self._edge_points(canvas, ideal, rows, cols, side)
            if points is None:
                return corners
            lines.append(points)
        new_canonical = []
        for first, second in ((3, 0), (0, 1), (1, 2), (2, 3)):
            crossing = _intersection(lines[first], lines[second])
            if crossing is None:
                return corners
            new_canonical.append(crossing)
        canonical = np.array(
            [
                [_K, _K],
                [(cols + 1) * _K, _K],
                [(cols + 1) * _K, (rows + 1) * _K],
                [_K, (rows + 1) * _K],
            ],
            np.float32,
        )
        homography = cv2.getPerspectiveTransform(canonical, corners.astype(np.float32))
        mapped = cv2.perspectiveTransform(np.array([new_canonical], np.float32), homography)[
            0
        ].astype(np.float64)
        shift = np.abs(mapped - corners).max()
        pitch = float(np.linalg.norm(corners[1] - corners[0])) / max(cols, 1)
        return mapped if shift < pitch else corners

    @staticmethod
    def _edge_points(
        canvas: Floats, ideal: npt.NDArray[np.bool_], rows: int, cols: int, side: str
    ) -> tuple[Point, Point] | None:
        """Two points on one outer edge in canonical pixels, from the dark modules along it."""
        reach = int(0.6 * _K)
        if side in ("top", "bottom"):
            row = 0 if side == "top" else rows - 1
            dark = [c for c in range(cols) if ideal[row, c]]
            edge = _K if side == "top" else (rows + 1) * _K
            band = canvas[edge - reach : edge + reach, :]
            along = [(c + 1) * _K + _K // 2 for c in dark]
            profiles = [band[:, a - 3 : a + 4].mean(axis=1) for a in along]
            rising = side == "bottom"
        else:
            col = 0 if side == "left" else cols - 1
            dark = [r for r in range(rows) if ideal[r, col]]
            edge = _K if side == "left" else (cols + 1) * _K
            band = canvas[:, edge - reach : edge + reach].T
            along = [(r + 1) * _K + _K // 2 for r in dark]
            profiles = [band[:, a - 3 : a + 4].mean(axis=1) for a in along]
            rising = side == "right"
        if len(profiles) < 2:
            return None
        half = len(profiles) // 2
        points: list[Point] = []
        for group, positions in ((profiles[:half], along[:half]), (profiles[half:], along[half:])):
            profile = np.mean(group, axis=0)
            offset = _edge_offset(profile, rising) - reach
            position = float(np.mean(positions))
            across = edge + offset
            points.append((position, across) if side in ("top", "bottom") else (across, position))
        return points[0], points[1]

    def _parameters(
        self,
        canvas: Floats,
        modules: Floats,
        mask: npt.NDArray[np.bool_],
        ideal: npt.NDArray[np.bool_],
        corners: npt.NDArray[np.float64],
        rows: int,
        cols: int,
    ) -> dict[str, ParameterGrade]:
        r_max, r_min = float(modules.max()), float(modules.min())
        contrast = max(r_max - r_min, 1e-6)
        threshold = r_min + contrast / 2
        symbol = modules[1:-1, 1:-1]
        modulation = 2 * np.abs(symbol - threshold) / contrast
        quiet = np.concatenate([modules[0, :], modules[-1, :], modules[1:-1, 0], modules[1:-1, -1]])
        pattern_errors = int(np.sum((symbol[mask] < threshold) != ideal[mask]))
        pattern_errors += int(np.sum(quiet < threshold))
        data_modulation = float(np.percentile(modulation[~mask], 5))
        pattern_modulation = float(np.percentile(modulation[mask], 5))
        top = np.linalg.norm(corners[1] - corners[0])
        bottom = np.linalg.norm(corners[2] - corners[3])
        left = np.linalg.norm(corners[3] - corners[0])
        right = np.linalg.norm(corners[2] - corners[1])
        x_pitch = (top + bottom) / 2 / cols
        y_pitch = (left + right) / 2 / rows
        axial = float(abs(x_pitch - y_pitch) / ((x_pitch + y_pitch) / 2))
        grid = _clock_track_deviation(canvas, rows, cols)
        pattern_grade = Grade.of_rank(
            min(
                _at_most(pattern_errors, 0, 1, 2, 3).rank,
                _at_least(pattern_modulation, 0.5, 0.4, 0.3, 0.2).rank,
            )
        )
        return {
            "symbol_contrast": ParameterGrade(
                contrast, _at_least(contrast, 0.70, 0.55, 0.40, 0.20)
            ),
            "modulation": ParameterGrade(
                data_modulation, _at_least(data_modulation, 0.5, 0.4, 0.3, 0.2)
            ),
            "fixed_pattern_damage": ParameterGrade(float(pattern_errors), pattern_grade),
            "axial_nonuniformity": ParameterGrade(axial, _at_most(axial, 0.06, 0.08, 0.10, 0.12)),
            "grid_nonuniformity": ParameterGrade(grid, _at_most(grid, 0.38, 0.50, 0.63, 0.75)),
        }


def _edge_offset(profile: Floats, rising: bool) -> float:
    """Sub-pixel position of the steepest light-to-dark (or dark-to-light) step."""
    step = np.diff(profile) if rising else -np.diff(profile)
    index = int(np.argmax(step))
    fraction = 0.0
    if 0 < index < len(step) - 1:
        left, centre, right = step[index - 1], step[index], step[index + 1]
        denominator = left - 2 * centre + right
        if denominator != 0:
            fraction = float(0.5 * (left - right) / denominator)
    return index + 0.5 + fraction


def _intersection(first: tuple[Point, Point], second: tuple[Point, Point]) -> Point | None:
    (x1, y1), (x2, y2) = first
    (x3, y3), (x4, y4) = second
    denominator = (x1 - x2) * (y3 - y4) - (y1 - y2) * (x3 - x4)
    if abs(denominator) < 1e-9:
        return None
    a = x1 * y2 - y1 * x2
    b = x3 * y4 - y3 * x4
    return (
        (a * (x3 - x4) - (x1 - x2) * b) / denominator,
        (a * (y3 - y4) - (y1 - y2) * b) / denominator,
    )


def _clock_track_deviation(canvas: Floats, rows: int, cols: int) -> float:
    """Largest shift, in modules, of a clock-track module edge from the perspective grid.

    The camera's perspective is taken out by the homography; what is left along the clock
    tracks is the print's own grid distortion (stretch, skew from the transport).
    """
    half = _K // 2
    top = canvas[_K + 3 : 2 * _K - 3, :].mean(axis=0)
    right = canvas[:, cols * _K + 3 : (cols + 1) * _K - 3].mean(axis=1)
    worst = 0.0
    for profile, count in ((top, cols), (right, rows)):
        for boundary in range(2, count):
            ideal = boundary * _K
            window = profile[ideal - half : ideal + half + 1]
            step = np.abs(np.diff(window))
            if step.size == 0:
                continue
            found = int(np.argmax(step)) + 0.5 - half
            worst = max(worst, abs(found) / _K)
    return worst
