"""The batch's coding specimen: the first code printed and accepted on the line, with the frame
the camera took of it, kept as evidence in the batch record.

The tap sits beside the unit pipeline for the first units only: it remembers the newest frames
by unit and, when the first unit is accepted, keeps that unit's frame and stops remembering,
so the verdict path pays one dictionary store per frame until then and nothing after.
Writing the image (a PNG under the site's evidence folder, named by batch and unit, with its
SHA-256) is done later, off the event loop.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from drivers.base import Frame, PixelFormat, SmartResult
from gateway.line.pipeline import UnitTrack

FRAMES_KEPT = 64


@dataclass(frozen=True, slots=True)
class Specimen:
    unit_ref: str
    code_key: str
    data: str
    hri: str
    frame: Frame | SmartResult


@dataclass(frozen=True, slots=True)
class SpecimenFile:
    path: Path
    sha256: str
    width: int
    height: int


class SpecimenTap:
    def __init__(self, keep: int = FRAMES_KEPT) -> None:
        self._keep = keep
        self._frames: OrderedDict[str, Frame | SmartResult] = OrderedDict()
        self.specimen: Specimen | None = None

    @property
    def taken(self) -> bool:
        return self.specimen is not None

    def frame(self, result: Frame | SmartResult) -> None:
        if self.specimen is not None:
            return
        self._frames[result.unit_ref] = result
        if len(self._frames) > self._keep:
            self._frames.popitem(last=False)

    def accepted(self, track: UnitTrack) -> None:
        if self.specimen is not None or track.code is None:
            return
        frame = self._frames.get(track.unit_ref)
        if frame is None:
            return
        code = track.code
        self.specimen = Specimen(track.unit_ref, code.key, code.data, code.hri, frame)
        self._frames.clear()


def write_specimen(specimen: Specimen, folder: Path, batch_id: int) -> SpecimenFile | None:
    """The specimen's frame as a PNG in `folder`, or None when the camera sent no image (a
    smart camera's decoded text is the only evidence then)."""
    frame = specimen.frame
    if not isinstance(frame, Frame):
        return None
    if frame.pixel_format is PixelFormat.PNG:
        png = frame.data
    else:
        pixels = np.frombuffer(frame.data, np.uint8).reshape(frame.height, frame.width)
        ok, encoded = cv2.imencode(".png", pixels)
        if not ok:
            raise OSError(f"the frame of unit {specimen.unit_ref} could not be encoded as PNG")
        png = encoded.tobytes()
    path = write_evidence(folder, f"batch-{batch_id}-specimen-unit-{specimen.unit_ref}.png", png)
    return SpecimenFile(path, hashlib.sha256(png).hexdigest(), frame.width, frame.height)


def shown_path(path: Path, base: Path) -> str:
    """An evidence file's path as recorded: relative to the site folder when it lies in it."""
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


def write_evidence(folder: Path, name: str, content: bytes) -> Path:
    """An evidence file written whole or not at all (a staged file renamed into place)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    staging = path.with_name(f".{path.name}.part")
    staging.write_bytes(content)
    staging.replace(path)
    return path
