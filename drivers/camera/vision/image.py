"""Turning what a camera sent into a grayscale array, refusing anything malformed."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

MAX_SIDE = 8192
MAX_PIXELS = 6000 * 6000
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class ImageError(ValueError):
    """The frame cannot be an image: says what is wrong and what a camera should send."""


def _check_size(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageError(f"frame size {width}x{height} is empty; a camera frame has pixels")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise ImageError(
            f"frame size {width}x{height} is beyond {MAX_SIDE} px a side or {MAX_PIXELS} pixels; "
            "check the camera's resolution setting"
        )


def mono8(data: bytes, width: int, height: int) -> npt.NDArray[np.uint8]:
    """A raw 8-bit grayscale frame, row after row without padding."""
    _check_size(width, height)
    if len(data) != width * height:
        raise ImageError(
            f"mono8 frame {width}x{height} needs {width * height} bytes, got {len(data)}; "
            "the frame is truncated or its header gives the wrong size"
        )
    return np.frombuffer(data, np.uint8).reshape(height, width)


def png(data: bytes, width: int | None = None, height: int | None = None) -> npt.NDArray[np.uint8]:
    """A PNG frame, decoded to grayscale; its size must match the header's when one is given."""
    if not data.startswith(_PNG_MAGIC) or len(data) < 33:
        raise ImageError("the frame body is not a PNG (bad signature or too short)")
    declared_w = int.from_bytes(data[16:20], "big")
    declared_h = int.from_bytes(data[20:24], "big")
    _check_size(declared_w, declared_h)
    if (width, height) != (None, None) and (width, height) != (declared_w, declared_h):
        raise ImageError(
            f"PNG is {declared_w}x{declared_h} but the frame header says {width}x{height}"
        )
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if decoded is None or decoded.shape != (declared_h, declared_w):
        raise ImageError("the PNG is truncated or corrupt")
    return np.ascontiguousarray(decoded, np.uint8)


def to_png(image: npt.NDArray[np.uint8]) -> bytes:
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise ImageError("could not encode the image as PNG")
    return bytes(encoded)
