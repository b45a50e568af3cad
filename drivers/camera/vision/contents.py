"""Every code in one frame: what a case camera reads of the cartons in a case.

`read_all` finds and decodes every DataMatrix in a frame with zxing-cpp and keeps the data as
transmitted (GS separators included, as `Verifier` does); `read_contents` also says, for each
code, which code of the batch it is (its key under the batch's rule) or why it is none.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from drivers.camera.vision.decode import Decoded, Image, Symbology, ZxingReader
from drivers.camera.vision.image import mono8, png
from drivers.camera.vision.verify import Verifier

_DATAMATRIX = ZxingReader([Symbology.DATAMATRIX])


@dataclass(frozen=True, slots=True)
class FrameCodes:
    codes: tuple[Decoded, ...]
    """Every symbol decoded, in the reader's order."""
    unreadable: int
    """Symbols found but not decoded (a scuffed or smudged code)."""
    decode_ms: float


@dataclass(frozen=True, slots=True)
class ContentsCode:
    """One code read in a contents frame."""

    data: str
    """The decoded data, GS (0x1D) separators included."""
    symbology_id: str
    key: str | None
    """The code's key under the batch's rule; None when it is not a code of this batch."""
    problem: str
    """Why there is no key (another symbology, a malformed code, another product or lot)."""

    @property
    def shown(self) -> str:
        """The key, or the data with its separators made visible, for a message."""
        return self.key or self.data.replace("\x1d", "<GS>")


@dataclass(frozen=True, slots=True)
class ContentsReading:
    codes: tuple[ContentsCode, ...]
    unreadable: int
    decode_ms: float


def read_all(image: Image) -> FrameCodes:
    """Every DataMatrix in a grayscale frame."""
    started = time.perf_counter()
    codes, unreadable = _DATAMATRIX.read_all(image)
    return FrameCodes(tuple(codes), unreadable, (time.perf_counter() - started) * 1000)


def read_contents(
    verifier: Verifier, data: bytes, width: int, height: int, *, is_png: bool = False
) -> ContentsReading:
    """The codes of a frame as a camera sent it, each identified under `verifier`'s batch.

    A malformed frame raises `ImageError` (what is wrong with it)."""
    image = png(data, width, height) if is_png else mono8(data, width, height)
    found = read_all(image)
    codes = []
    for decoded in found.codes:
        key, _, problem = verifier.identify(decoded)
        codes.append(ContentsCode(decoded.text, decoded.symbology_id, key, problem))
    return ContentsReading(tuple(codes), found.unreadable, found.decode_ms)
