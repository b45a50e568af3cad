"""Finding and reading the code in a frame: zxing-cpp first, libdmtx (FNC1 on) as fallback.

zxing-cpp reports the AIM symbology identifier, keeps the GS bytes, and gives the unused error
correction and the symbol's corners. libdmtx as pylibdmtx drives it drops FNC1; with its
FNC1 property set to GS it transmits FNC1 in first position as a leading GS (read here as
`]d2`) and later ones as GS, so it can stand in on a small region within a time bound.
"""

from __future__ import annotations

import ctypes
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import zxingcpp

from serialization.rules import Carrier

Image = npt.NDArray[np.uint8]
Point = tuple[float, float]
GS = 0x1D


class Symbology(StrEnum):
    DATAMATRIX = "datamatrix"
    QR = "qr"
    CODE128 = "code128"


SYMBOLOGIES_FOR_CARRIER: dict[Carrier, frozenset[Symbology]] = {
    Carrier.DATAMATRIX: frozenset({Symbology.DATAMATRIX}),
    Carrier.QR: frozenset({Symbology.QR}),
    Carrier.GS1_128: frozenset({Symbology.CODE128}),
    Carrier.CODE128: frozenset({Symbology.CODE128}),
}

_ZXING_FORMAT = {
    Symbology.DATAMATRIX: zxingcpp.BarcodeFormat.DataMatrix,
    Symbology.QR: zxingcpp.BarcodeFormat.QRCode,
    Symbology.CODE128: zxingcpp.BarcodeFormat.Code128,
}


@dataclass(frozen=True, slots=True)
class Rect:
    x: int
    y: int
    width: int
    height: int

    def clip(self, frame_width: int, frame_height: int) -> Rect:
        x0, y0 = max(0, self.x), max(0, self.y)
        x1 = min(frame_width, self.x + self.width)
        y1 = min(frame_height, self.y + self.height)
        return Rect(x0, y0, max(0, x1 - x0), max(0, y1 - y0))


@dataclass(frozen=True, slots=True)
class Decoded:
    """One symbol read from a frame."""

    data: bytes
    """The data as transmitted, GS (0x1D) separators included, no symbology identifier."""
    symbology_id: str
    """AIM identifier: `]d2` is GS1 DataMatrix, `]d1` plain DataMatrix."""
    symbology: Symbology
    corners: tuple[Point, Point, Point, Point]
    """Frame coordinates, in the symbol's orientation: top-left, top-right, bottom-right,
    bottom-left (for DataMatrix the L finder runs bottom-left to top-left and bottom-right)."""
    unused_error_correction: float | None
    modules: tuple[int, int] | None
    reader: str

    @property
    def gs1(self) -> bool:
        return self.symbology_id in ("]d2", "]Q3", "]C1")

    @property
    def text(self) -> str:
        return self.data.decode("latin-1")

    def bounds(self) -> Rect:
        xs = [p[0] for p in self.corners]
        ys = [p[1] for p in self.corners]
        x0, y0 = int(min(xs)), int(min(ys))
        return Rect(x0, y0, int(max(xs)) - x0 + 1, int(max(ys)) - y0 + 1)


class ZxingReader:
    """zxing-cpp restricted to the allowed symbologies; no inversion, no downscaling.

    A 3x3 Gaussian first takes the edge of sensor noise off: on noisy frames zxing-cpp's
    detector chases false edges and slows down several times; read rates are unchanged.
    """

    name = "zxing-cpp"

    def __init__(self, symbologies: Iterable[Symbology], *, smooth: bool = True) -> None:
        self.smooth = smooth
        wanted = sorted(set(symbologies))
        if not wanted:
            raise ValueError("no symbology allowed: give at least one")
        self.symbologies = frozenset(wanted)
        self._formats = zxingcpp.BarcodeFormats([_ZXING_FORMAT[s] for s in wanted])

    def read(self, image: Image, region: Rect | None = None) -> Decoded | None:
        view = image
        if region is not None:
            view = image[region.y : region.y + region.height, region.x : region.x + region.width]
        if view.size == 0:
            return None
        if self.smooth:
            view = np.asarray(cv2.GaussianBlur(view, (3, 3), 0), np.uint8)
        results = zxingcpp.read_barcodes(
            view,
            formats=self._formats,
            try_rotate=True,
            try_downscale=False,
            try_invert=False,
        )
        if not results:
            return None
        offset = (region.x, region.y) if region is not None else (0, 0)
        return self._decoded(results[0], offset)

    def read_all(self, image: Image) -> tuple[list[Decoded], int]:
        """Every symbol in the frame, and how many more were found but could not be decoded
        (a scuffed or smudged code)."""
        if image.size == 0:
            return [], 0
        view = np.asarray(cv2.GaussianBlur(image, (3, 3), 0), np.uint8) if self.smooth else image
        results = zxingcpp.read_barcodes(
            view,
            formats=self._formats,
            try_rotate=True,
            try_downscale=False,
            try_invert=False,
            return_errors=True,
        )
        found = [self._decoded(result, (0, 0)) for result in results if not result.error]
        return found, len(results) - len(found)

    def _decoded(self, found: zxingcpp.Barcode, offset: tuple[int, int]) -> Decoded:
        position = found.position
        corners = tuple(
            (float(p.x + offset[0]), float(p.y + offset[1]))
            for p in (
                position.top_left,
                position.top_right,
                position.bottom_right,
                position.bottom_left,
            )
        )
        extra = found.extra if isinstance(found.extra, dict) else {}
        uec = extra.get("UEC")
        return Decoded(
            data=bytes(found.bytes),
            symbology_id=found.symbology_identifier,
            symbology=_symbology_of(found.format),
            corners=(corners[0], corners[1], corners[2], corners[3]),
            unused_error_correction=float(uec) if isinstance(uec, int | float) else None,
            modules=_modules(extra.get("Version")),
            reader=self.name,
        )


def _symbology_of(barcode_format: zxingcpp.BarcodeFormat) -> Symbology:
    for symbology, known in _ZXING_FORMAT.items():
        if known == barcode_format:
            return symbology
    raise ValueError(f"zxing-cpp reported {barcode_format}, which was not asked for")


def _modules(version: object) -> tuple[int, int] | None:
    if not isinstance(version, str) or "x" not in version:
        return None
    rows, _, cols = version.partition("x")
    if not (rows.isdigit() and cols.isdigit()):
        return None
    return int(rows), int(cols)


class LibdmtxReader:
    """libdmtx with FNC1 transmitted as GS, bounded in time; DataMatrix only, for small regions."""

    name = "libdmtx"

    def __init__(self, timeout_ms: int = 30) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from pylibdmtx import wrapper  # noqa: PLC0415 - loads the shared library lazily

        if timeout_ms <= 0:
            raise ValueError(f"libdmtx timeout {timeout_ms} ms must be positive")
        self._dmtx = wrapper
        self.timeout_ms = timeout_ms

    def read(self, image: Image, region: Rect | None = None) -> Decoded | None:
        dmtx = self._dmtx
        view = image
        if region is not None:
            view = image[region.y : region.y + region.height, region.x : region.x + region.width]
        if view.shape[0] < 8 or view.shape[1] < 8:
            return None
        pixels = np.ascontiguousarray(view)
        height, width = pixels.shape
        handle = dmtx.dmtxImageCreate(
            ctypes.cast(pixels.ctypes.data, dmtx.c_ubyte_p),
            width,
            height,
            dmtx.DmtxPackOrder.DmtxPack8bppK,
        )
        if not handle:
            return None
        try:
            decoder = dmtx.dmtxDecodeCreate(handle, 1)
            if not decoder:
                return None
            try:
                dmtx.dmtxDecodeSetProp(decoder, dmtx.DmtxProperty.DmtxPropFnc1, GS)
                deadline = dmtx.dmtxTimeAdd(dmtx.dmtxTimeNow(), self.timeout_ms)
                return self._first(decoder, deadline, height, region)
            finally:
                dmtx.dmtxDecodeDestroy(ctypes.byref(decoder))
        finally:
            dmtx.dmtxImageDestroy(ctypes.byref(handle))

    def _first(
        self, decoder: Any, deadline: Any, height: int, region: Rect | None
    ) -> Decoded | None:
        dmtx = self._dmtx
        found = dmtx.dmtxRegionFindNext(decoder, deadline)
        if not found:
            return None
        try:
            message = dmtx.dmtxDecodeMatrixRegion(decoder, found, dmtx.DmtxUndefined)
            if not message:
                return None
            try:
                raw = ctypes.string_at(message.contents.output, message.contents.outputIdx)
                corners = self._corners(found, height, region)
                shape = found.contents
                modules = (int(shape.symbolRows), int(shape.symbolCols))
            finally:
                dmtx.dmtxMessageDestroy(ctypes.byref(message))
        finally:
            dmtx.dmtxRegionDestroy(ctypes.byref(found))
        gs1 = raw.startswith(b"\x1d")
        return Decoded(
            data=raw[1:] if gs1 else raw,
            symbology_id="]d2" if gs1 else "]d1",
            symbology=Symbology.DATAMATRIX,
            corners=corners,
            unused_error_correction=None,
            modules=modules if min(modules) > 0 else None,
            reader=self.name,
        )

    def _corners(
        self, found: Any, height: int, region: Rect | None
    ) -> tuple[Point, Point, Point, Point]:
        """libdmtx's fit2raw maps the unit square (origin at the L corner) to y-up pixels."""
        dmtx = self._dmtx
        fit2raw = found.contents.fit2raw
        offset_x = region.x if region is not None else 0
        offset_y = region.y if region is not None else 0
        points: list[Point] = []
        for u, v in ((0.0, 1.0), (1.0, 1.0), (1.0, 0.0), (0.0, 0.0)):
            vector = dmtx.DmtxVector2(u, v)
            dmtx.dmtxMatrix3VMultiplyBy(vector, fit2raw)
            points.append((vector.X + offset_x, height - 1 - vector.Y + offset_y))
        return (points[0], points[1], points[2], points[3])
