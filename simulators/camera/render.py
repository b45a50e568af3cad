"""Camera frames of a printed DataMatrix: what a line camera would see of one unit.

`render` draws the symbol of a payload onto a label under a camera's geometry and optics and
returns the grayscale frame with its ground truth (what was printed, where the corners are).
Symbols come from zxing-cpp's writer (libzint): GS1 payloads are encoded with FNC1 in first
position and FNC1 separators, so a reader reports `]d2` and the GS bytes of the payload.
Everything random is drawn from the `rng` the caller passes: a seed gives the same frame.
`render_many` draws several printed cartons in one frame, as a case camera sees the tops of the
cartons in a case.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

import cv2
import numpy as np
import numpy.typing as npt
import zxingcpp

from serialization.errors import CodeFormatError
from serialization.gs1 import parse

GS = "\x1d"
FRAME_SIZES = ((640, 480), (1280, 1024))
MAX_FRAME_PIXELS = 4096 * 4096
_SUPERSAMPLE = 2
_MATRIX_UPSCALE = 10

Image = npt.NDArray[np.uint8]


class RenderError(ValueError):
    """The caller asked for a frame that cannot be drawn (bad size, payload, scale)."""


class DefectKind(StrEnum):
    CLEAN = "clean"
    POSITION = "position"
    ROTATION = "rotation"
    PERSPECTIVE = "perspective"
    BLUR = "blur"
    NOISE = "noise"
    LOW_CONTRAST = "low_contrast"
    UNEVEN_LIGHT = "uneven_light"
    DAMAGED = "damaged"
    MISSING = "missing"
    WRONG_CODE = "wrong_code"
    SMUDGE = "smudge"


@dataclass(frozen=True, slots=True)
class DefectSpec:
    """How one frame departs from a perfect print under perfect light. Defaults: none."""

    center: tuple[float, float] = (0.5, 0.5)
    """Symbol centre as fractions of the frame's width and height."""
    rotation_deg: float = 0.0
    perspective: float = 0.0
    """Corner displacement as a fraction of the symbol side (0.05 is a visible keystone)."""
    blur_sigma_px: float = 0.0
    noise_sigma: float = 0.0
    """Gaussian sensor noise, in grey levels."""
    contrast: float = 0.85
    """(paper - ink) / paper: 0.85 is a good thermal-transfer print, 0.3 a faint one."""
    uneven_light: float = 0.0
    """Peak-to-peak illumination fall-off across the frame, as a fraction (0.4 = 40 %)."""
    damaged_fraction: float = 0.0
    """Fraction of the symbol's modules flipped, in small clusters (scratches, dropouts)."""
    missing_print: bool = False
    wrong_code: bool = False
    """Print a different payload (one character of the last field changed)."""
    dot_diameter: float = 0.0
    """Print the modules as round dots of this diameter in modules (CIJ/TIJ dot print);
    0 prints solid square modules."""
    smudge: float = 0.0
    """Radius of an ink smear over the symbol, as a fraction of the symbol side."""
    paper_level: int = 215
    kinds: tuple[DefectKind, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class RenderTruth:
    """What is really on the frame."""

    printed: str | None
    """The payload in the symbol (GS as 0x1D), None when nothing was printed."""
    gs1: bool
    corners: tuple[tuple[float, float], ...]
    """Outer corners of the symbol: top-left, top-right, bottom-right, bottom-left in the
    symbol's own orientation (the L finder runs down the left side and along the bottom).
    Pixel-edge coordinates: pixel (0, 0) spans 0..1, so OpenCV's centre-based coordinates
    of the same point are 0.5 less."""
    modules: tuple[int, int]
    """Rows and columns of the symbol."""
    px_per_module: float
    defects: DefectSpec


def symbol_matrix(payload: str, *, gs1: bool) -> npt.NDArray[np.bool_]:
    """The modules of the square DataMatrix for `payload` (True = dark), size set by the data."""
    if not payload:
        raise RenderError("payload is empty: give the data to print")
    content = _zxing_gs1_input(payload) if gs1 else payload
    try:
        barcode = zxingcpp.create_barcode(
            content, zxingcpp.BarcodeFormat.DataMatrix, gs1=gs1, force_square=True
        )
    except ValueError as error:
        raise RenderError(f"cannot encode {payload!r} as DataMatrix: {error}") from None
    pixels = np.asarray(barcode.to_image(scale=1, add_quiet_zones=False))
    return pixels < 128


def _zxing_gs1_input(payload: str) -> str:
    """GS1 data in the writer's bracketed form `[01]…[21]…`: brackets are never in CSET 82."""
    try:
        message = parse(payload)
    except CodeFormatError as error:
        raise RenderError(f"payload is not a GS1 element string: {error.message}") from None
    return "".join(f"[{element.ai}]{element.value}" for element in message.elements)


def wrong_payload(payload: str, *, gs1: bool) -> str:
    """A payload that differs from `payload` in one character and still encodes."""
    for index in range(len(payload) - 1, -1, -1):
        char = payload[index]
        if char.isdigit():
            swapped = str((int(char) + 1) % 10)
        elif char.isalpha() and char.isascii():
            base = ord("A") if char.isupper() else ord("a")
            swapped = chr(base + (ord(char) - base + 1) % 26)
        else:
            continue
        candidate = payload[:index] + swapped + payload[index + 1 :]
        try:
            symbol_matrix(candidate, gs1=gs1)
        except RenderError:
            continue
        return candidate
    raise RenderError(f"no one-character change of {payload!r} encodes")


def render(
    payload: str,
    *,
    gs1: bool,
    size: tuple[int, int] = (640, 480),
    px_per_module: float = 6.0,
    defects: DefectSpec | None = None,
    rng: np.random.Generator | None = None,
    text: tuple[str, ...] = (),
) -> tuple[Image, RenderTruth]:
    """A `size` = (width, height) grayscale frame of `payload` printed as DataMatrix.

    `text`: human-readable lines printed to the right of the symbol, as on a carton.
    """
    spec = defects or DefectSpec()
    rng = rng or np.random.default_rng(0)
    width, height = size
    if width < 32 or height < 32 or width * height > MAX_FRAME_PIXELS:
        raise RenderError(f"frame size {width}x{height} is outside 32x32 .. 4096x4096")
    if not 1.0 <= px_per_module <= 40.0:
        raise RenderError(f"px_per_module {px_per_module} is outside 1 .. 40")
    printed = wrong_payload(payload, gs1=gs1) if spec.wrong_code else payload
    matrix = symbol_matrix(printed, gs1=gs1)
    rows, cols = matrix.shape
    if spec.damaged_fraction > 0:
        matrix = _damage(matrix, spec.damaged_fraction, rng)
    corners = _corners(cols, rows, width, height, px_per_module, spec, rng)
    ink = _ink_coverage(
        _with_text(matrix, text, spec.dot_diameter), corners, rows, cols, width, height
    )
    if spec.missing_print:
        ink[:] = 0.0
    elif spec.smudge > 0:
        ink = np.maximum(ink, _smudge(corners, spec.smudge, width, height, rng))
    paper = float(spec.paper_level)
    frame: npt.NDArray[np.float32] = (paper * (1.0 - spec.contrast * ink)).astype(np.float32)
    frame *= _label_texture(width, height, rng)
    if spec.uneven_light > 0:
        frame *= _illumination(width, height, spec.uneven_light, rng)
    if spec.blur_sigma_px > 0:
        frame = np.asarray(cv2.GaussianBlur(frame, (0, 0), spec.blur_sigma_px), np.float32)
    if spec.noise_sigma > 0:
        frame = frame + rng.normal(0.0, spec.noise_sigma, frame.shape).astype(np.float32)
    image = np.clip(frame + 0.5, 0, 255).astype(np.uint8)
    truth = RenderTruth(
        printed=None if spec.missing_print else printed,
        gs1=gs1,
        corners=tuple((float(x), float(y)) for x, y in corners),
        modules=(rows, cols),
        px_per_module=px_per_module,
        defects=spec,
    )
    return image, truth


CARTON_PX = 180
"""Side of one carton top in a contents frame: room for a 26-module symbol at 5 px a module,
turned a little, with a margin (10 codes decode in about 1.5 ms, `docs/simulators.md`)."""
CONTENTS_PX_PER_MODULE = 5.0
CARTON_TILT_DEG = 8.0
_GAP_LEVEL = 40
"""Grey level of the shadow between two cartons (and of an empty slot)."""


def contents_frame_size(cartons: int, *, aspect: float = 2.5) -> tuple[int, int]:
    """A frame about `aspect` times as wide as high with one `CARTON_PX` cell per carton."""
    if cartons < 1:
        raise RenderError(f"a contents frame shows at least one carton, not {cartons}")
    columns = max(1, math.ceil(math.sqrt(cartons * aspect)))
    rows = math.ceil(cartons / columns)
    return columns * CARTON_PX, rows * CARTON_PX


def render_many(
    payloads: Sequence[str],
    *,
    size: tuple[int, int],
    rng: np.random.Generator,
    defects: Sequence[DefectSpec | None] | None = None,
    px_per_module: float = CONTENTS_PX_PER_MODULE,
) -> tuple[Image, tuple[RenderTruth, ...]]:
    """One frame of the cartons in a case seen from above: each payload printed on its own
    carton top, the cartons in a grid filling `size`, each lying a little askew.

    A GS1 element string is drawn as GS1 DataMatrix, anything else as plain DataMatrix.
    `defects` gives each carton its own print (a smudge, `missing_print` for a blank carton);
    its position and rotation are drawn here. The truths' corners are frame coordinates.
    """
    specs = list(defects) if defects is not None else [None] * len(payloads)
    if len(specs) != len(payloads):
        raise RenderError(f"{len(payloads)} payloads but {len(specs)} defect specs: give one each")
    if not payloads:
        raise RenderError("no payloads: a contents frame shows at least one carton")
    width, height = size
    if width < 32 or height < 32 or width * height > MAX_FRAME_PIXELS:
        raise RenderError(f"frame size {width}x{height} is outside 32x32 .. 4096x4096")
    columns, rows = _grid(len(payloads), width, height)
    cell_w, cell_h = width // columns, height // rows
    frame = np.full((height, width), _GAP_LEVEL, np.uint8)
    truths: list[RenderTruth] = []
    for index, (payload, spec) in enumerate(zip(payloads, specs, strict=True)):
        row, column = divmod(index, columns)
        x0, y0 = column * cell_w + 2, row * cell_h + 2
        carton, truth = _carton(payload, spec, (cell_w - 4, cell_h - 4), px_per_module, rng)
        frame[y0 : y0 + carton.shape[0], x0 : x0 + carton.shape[1]] = carton
        corners = tuple((x + x0, y + y0) for x, y in truth.corners)
        truths.append(replace(truth, corners=corners))
    return frame, tuple(truths)


def _grid(count: int, width: int, height: int) -> tuple[int, int]:
    """Columns and rows that give `count` cells in the frame the largest smaller side."""
    best = (1, count)
    best_side = 0.0
    for columns in range(1, count + 1):
        rows = math.ceil(count / columns)
        side = min(width / columns, height / rows)
        if side > best_side:
            best, best_side = (columns, rows), side
    return best


def _carton(
    payload: str,
    spec: DefectSpec | None,
    size: tuple[int, int],
    px_per_module: float,
    rng: np.random.Generator,
) -> tuple[Image, RenderTruth]:
    base = spec or DefectSpec()
    placed = replace(
        base,
        center=(float(rng.uniform(0.42, 0.58)), float(rng.uniform(0.42, 0.58))),
        rotation_deg=base.rotation_deg + float(rng.uniform(-CARTON_TILT_DEG, CARTON_TILT_DEG)),
    )
    gs1 = _is_gs1(payload)
    side = symbol_matrix(payload, gs1=gs1).shape[0] * px_per_module
    if side * 1.25 > min(size):
        raise RenderError(
            f"a {side:.0f} px symbol does not fit a {size[0]}x{size[1]} px carton: give a "
            "larger frame or fewer payloads"
        )
    return render(
        payload,
        gs1=gs1,
        size=size,
        px_per_module=px_per_module,
        defects=placed,
        rng=rng,
    )


def _is_gs1(payload: str) -> bool:
    try:
        _zxing_gs1_input(payload)
    except RenderError:
        return False
    return True


def _corners(
    cols: int,
    rows: int,
    width: int,
    height: int,
    px_per_module: float,
    spec: DefectSpec,
    rng: np.random.Generator,
) -> npt.NDArray[np.float64]:
    half_w, half_h = cols * px_per_module / 2, rows * px_per_module / 2
    square = np.array([[-half_w, -half_h], [half_w, -half_h], [half_w, half_h], [-half_w, half_h]])
    side = max(half_w, half_h) * 2
    if spec.perspective > 0:
        square = square + rng.uniform(-1, 1, (4, 2)) * spec.perspective * side
    angle = math.radians(spec.rotation_deg)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    placed = square @ rotation.T
    reach = np.abs(placed).max(axis=0) + px_per_module * 2
    centre_x = np.clip(spec.center[0] * width, reach[0], max(reach[0], width - reach[0]))
    centre_y = np.clip(spec.center[1] * height, reach[1], max(reach[1], height - reach[1]))
    return np.asarray(placed + np.array([centre_x, centre_y]), np.float64)


def _module_stamp(dot_diameter: float) -> npt.NDArray[np.float32]:
    up = _MATRIX_UPSCALE
    if dot_diameter <= 0:
        return np.ones((up, up), np.float32)
    centre = (up - 1) / 2
    y, x = np.mgrid[0:up, 0:up]
    inside = (x - centre) ** 2 + (y - centre) ** 2 <= (dot_diameter * up / 2) ** 2
    return np.asarray(inside, np.float32)


def _with_text(
    matrix: npt.NDArray[np.bool_], lines: tuple[str, ...], dot_diameter: float
) -> npt.NDArray[np.float32]:
    """The symbol at `_MATRIX_UPSCALE` px per module, with text lines to its right."""
    up = _MATRIX_UPSCALE
    stamp = _module_stamp(dot_diameter)
    symbol = np.kron(matrix.astype(np.float32), stamp).astype(np.float32)
    if not lines:
        return symbol
    rows, cols = matrix.shape
    line_height = symbol.shape[0] // max(len(lines), 4)
    scale = line_height / 30.0
    text_width = max(
        cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)[0][0] for line in lines
    )
    gap = 2 * up
    canvas = np.zeros((rows * up, cols * up + gap + text_width + up), np.uint8)
    for index, line in enumerate(lines):
        baseline = (index + 1) * line_height - line_height // 5
        cv2.putText(
            canvas, line, (cols * up + gap, baseline), cv2.FONT_HERSHEY_SIMPLEX, scale, 255, 2
        )
    patch = np.asarray(canvas, np.float32) / np.float32(255)
    patch[:, : cols * up] = symbol
    return patch


def _ink_coverage(
    source: npt.NDArray[np.float32],
    corners: npt.NDArray[np.float64],
    rows: int,
    cols: int,
    width: int,
    height: int,
) -> npt.NDArray[np.float32]:
    """Fraction of each pixel covered by ink, by a warp at 2x then area averaging."""
    up = _MATRIX_UPSCALE
    source_corners = np.array(
        [[0, 0], [cols * up, 0], [cols * up, rows * up], [0, rows * up]], np.float32
    )
    target = (corners * _SUPERSAMPLE).astype(np.float32)
    homography = cv2.getPerspectiveTransform(source_corners - 0.5, target - 0.5)
    big = cv2.warpPerspective(
        source,
        homography,
        (width * _SUPERSAMPLE, height * _SUPERSAMPLE),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )
    return np.asarray(cv2.resize(big, (width, height), interpolation=cv2.INTER_AREA), np.float32)


def _damage(
    matrix: npt.NDArray[np.bool_], fraction: float, rng: np.random.Generator
) -> npt.NDArray[np.bool_]:
    damaged = matrix.copy()
    rows, cols = matrix.shape
    wanted = round(fraction * rows * cols)
    flipped = 0
    while flipped < wanted:
        row, col = int(rng.integers(1, rows - 1)), int(rng.integers(1, cols - 1))
        cluster = int(rng.integers(1, 4))
        for d_row in range(cluster):
            for d_col in range(cluster):
                r, c = min(row + d_row, rows - 2), min(col + d_col, cols - 2)
                damaged[r, c] = not matrix[r, c]
                flipped += 1
    return damaged


def _smudge(
    corners: npt.NDArray[np.float64],
    radius_fraction: float,
    width: int,
    height: int,
    rng: np.random.Generator,
) -> npt.NDArray[np.float32]:
    side = float(np.linalg.norm(corners[1] - corners[0]))
    centre = corners.mean(axis=0) + rng.uniform(-0.3, 0.3, 2) * side
    axes = (max(1, round(radius_fraction * side)), max(1, round(radius_fraction * side * 0.5)))
    mask = np.zeros((height, width), np.float32)
    cv2.ellipse(
        mask,
        (round(centre[0]), round(centre[1])),
        axes,
        float(rng.uniform(0, 180)),
        0,
        360,
        float(rng.uniform(0.5, 0.8)),
        thickness=-1,
    )
    return np.asarray(cv2.GaussianBlur(mask, (0, 0), max(1.0, axes[1] / 3)), np.float32)


def _label_texture(width: int, height: int, rng: np.random.Generator) -> npt.NDArray[np.float32]:
    coarse = rng.normal(1.0, 0.015, (height // 16 + 1, width // 16 + 1)).astype(np.float32)
    return np.asarray(
        cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR), np.float32
    )


def _illumination(
    width: int, height: int, amount: float, rng: np.random.Generator
) -> npt.NDArray[np.float32]:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    ramp = (x / width - 0.5) * math.cos(angle) + (y / height - 0.5) * math.sin(angle)
    ramp = (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-6)
    return np.asarray(1.0 - amount * ramp, np.float32)


def carton_text(hri: str) -> tuple[str, ...]:
    """GS1 HRI `(01)…(17)…` as the lines a carton prints beside its code, one AI a line."""
    parts = [part for part in hri.split("(") if part]
    return tuple(f"({part.replace(')', ') ', 1)}" for part in parts) if parts else (hri,)


def defects_for(kind: DefectKind, rng: np.random.Generator) -> DefectSpec:
    """A random but plausible defect of one family; CLEAN still varies position a little."""
    base = DefectSpec(
        center=(float(rng.uniform(0.4, 0.6)), float(rng.uniform(0.4, 0.6))),
        rotation_deg=float(rng.uniform(-4, 4)),
        noise_sigma=float(rng.uniform(0.5, 2.0)),
        blur_sigma_px=float(rng.uniform(0.3, 0.7)),
        kinds=(kind,),
    )
    u = rng.uniform
    variants: dict[DefectKind, DefectSpec] = {
        DefectKind.CLEAN: base,
        DefectKind.POSITION: replace(base, center=(float(u(0.1, 0.9)), float(u(0.1, 0.9)))),
        DefectKind.ROTATION: replace(base, rotation_deg=float(u(-180, 180))),
        DefectKind.PERSPECTIVE: replace(base, perspective=float(u(0.01, 0.04))),
        DefectKind.BLUR: replace(base, blur_sigma_px=float(u(0.8, 1.3))),
        DefectKind.NOISE: replace(base, noise_sigma=float(u(6, 14))),
        DefectKind.LOW_CONTRAST: replace(base, contrast=float(u(0.25, 0.4))),
        DefectKind.UNEVEN_LIGHT: replace(base, uneven_light=float(u(0.3, 0.6))),
        DefectKind.DAMAGED: replace(base, damaged_fraction=float(u(0.03, 0.08))),
        DefectKind.MISSING: replace(base, missing_print=True),
        DefectKind.WRONG_CODE: replace(base, wrong_code=True),
        DefectKind.SMUDGE: replace(base, smudge=float(u(0.15, 0.35))),
    }
    return variants[kind]
