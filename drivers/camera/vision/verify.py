"""Is the code on this unit the one assigned to it, well formed, new on the site, well printed?"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from drivers.camera.vision.decode import (
    SYMBOLOGIES_FOR_CARRIER,
    Decoded,
    LibdmtxReader,
    Rect,
    Symbology,
    ZxingReader,
)
from drivers.camera.vision.grade import Grade, Grader, QualityGrade
from drivers.camera.vision.image import ImageError, mono8, png
from drivers.camera.vision.registry import Assignments, CommissionedCodes
from drivers.camera.vision.roi import RoiTracker
from serialization.codes import SchemeName
from serialization.coding import CodeFactory, IssuedCode, symbology_for
from serialization.errors import CodeFormatError
from serialization.gs1 import format_date, gtin14, parse_scan
from serialization.rules import CodingRule, LotData, ProductMaster


class Verdict(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"


class FailureReason(StrEnum):
    NO_READ = "no_read"
    WRONG_DATA = "wrong_data"
    BAD_STRUCTURE = "bad_structure"
    DUPLICATE = "duplicate"
    WRONG_UNIT = "wrong_unit"
    LOW_GRADE = "low_grade"
    BAD_IMAGE = "bad_image"


@dataclass(frozen=True, slots=True)
class VerificationResult:
    unit_ref: str
    verdict: Verdict
    reason: FailureReason | None
    detail: str
    expected: str | None
    decoded: str | None
    """The decoded data (GS as 0x1D), None on no read."""
    symbology_id: str | None
    gs1: bool
    reader: str | None
    grade: Grade | None
    grade_parameters: dict[str, tuple[float, str]] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)
    used_roi: bool = False
    corners: tuple[tuple[float, float], ...] = ()

    @property
    def accepted(self) -> bool:
        return self.verdict is Verdict.ACCEPT

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit_ref": self.unit_ref,
            "verdict": self.verdict.value,
            "reason": self.reason.value if self.reason else None,
            "detail": self.detail,
            "expected": self.expected,
            "decoded": self.decoded,
            "symbology_id": self.symbology_id,
            "gs1": self.gs1,
            "reader": self.reader,
            "grade": self.grade.value if self.grade else None,
            "grade_parameters": {k: list(v) for k, v in self.grade_parameters.items()},
            "timings_ms": dict(self.timings_ms),
            "used_roi": self.used_roi,
            "corners": [list(c) for c in self.corners],
        }


@dataclass(frozen=True, slots=True)
class VisionSettings:
    min_grade: Grade = Grade.C
    """The lowest indicative grade accepted for this product."""
    grade: bool = True
    roi: bool = True
    libdmtx_fallback_ms: int = 0
    """Bounded libdmtx read on the ROI when zxing-cpp fails there; 0 turns it off."""
    white_level: float = 255.0


class Verifier:
    """Decode and verify the frames of one product level in one batch. Not thread-safe: keep
    one per worker (the ROI and the registries are per line)."""

    def __init__(
        self,
        rule: CodingRule,
        product: ProductMaster,
        lot: LotData,
        *,
        settings: VisionSettings | None = None,
        commissioned: CommissionedCodes | None = None,
        assignments: Assignments | None = None,
    ) -> None:
        self.rule = rule
        self.product = product
        self.lot = lot
        self.settings = settings or VisionSettings()
        self.commissioned = commissioned if commissioned is not None else CommissionedCodes()
        self.assignments = assignments if assignments is not None else Assignments()
        self.expected_symbology = symbology_for(rule)
        self._factory = CodeFactory(rule, product, lot)
        symbologies: frozenset[Symbology] = SYMBOLOGIES_FOR_CARRIER[rule.carrier]
        self._zxing = ZxingReader(symbologies)
        fallback_ms = self.settings.libdmtx_fallback_ms
        dm_only = symbologies == {Symbology.DATAMATRIX}
        self._libdmtx = LibdmtxReader(fallback_ms) if fallback_ms > 0 and dm_only else None
        self._roi = RoiTracker()
        self._grader = Grader(self.settings.white_level)
        self._gtin = gtin14(product.gtin, field="gtin") if product.gtin else None
        self._expiry = (
            format_date(lot.expiry, day_zero=rule.expiry_day_zero) if lot.expiry else None
        )

    def assign(self, unit_ref: str, code: IssuedCode) -> None:
        self.assignments.assign(unit_ref, code)

    def verify_bytes(
        self, unit_ref: str, data: bytes, width: int, height: int, *, is_png: bool = False
    ) -> VerificationResult:
        """A frame as a camera sent it; malformed frames give a BAD_IMAGE rejection."""
        try:
            image = png(data, width, height) if is_png else mono8(data, width, height)
        except ImageError as error:
            return self._reject(unit_ref, FailureReason.BAD_IMAGE, str(error))
        return self.verify(unit_ref, image)

    def verify(self, unit_ref: str, image: npt.NDArray[np.uint8]) -> VerificationResult:
        started = time.perf_counter()
        if image.ndim != 2 or image.dtype != np.uint8 or image.size == 0:
            return self._reject(
                unit_ref,
                FailureReason.BAD_IMAGE,
                f"expected a non-empty 2-D uint8 grayscale image, got {image.dtype} "
                f"of shape {image.shape}",
            )
        decoded, used_roi = self._decode(image)
        decoded_at = time.perf_counter()
        timings = {"decode_ms": (decoded_at - started) * 1000}
        if decoded is None:
            timings["total_ms"] = timings["decode_ms"]
            return self._reject(
                unit_ref, FailureReason.NO_READ, "no code found", timings=timings, roi=used_roi
            )
        self._roi.found(decoded.bounds())
        reason, detail, key = self._check(unit_ref, decoded)
        checked_at = time.perf_counter()
        timings["verify_ms"] = (checked_at - decoded_at) * 1000
        quality: QualityGrade | None = None
        if self.settings.grade:
            quality = self._grader.grade(image, decoded)
            timings["grade_ms"] = (time.perf_counter() - checked_at) * 1000
            if reason is None and quality.overall.rank < self.settings.min_grade.rank:
                reason = FailureReason.LOW_GRADE
                detail = (
                    f"print grade {quality.overall.value} is below this product's minimum "
                    f"{self.settings.min_grade.value}"
                )
        if reason is None and key is not None:
            self.commissioned.add(key, unit_ref)
        timings["total_ms"] = (time.perf_counter() - started) * 1000
        expected = self.assignments.code_of(unit_ref)
        return VerificationResult(
            unit_ref=unit_ref,
            verdict=Verdict.ACCEPT if reason is None else Verdict.REJECT,
            reason=reason,
            detail=detail,
            expected=expected.data if expected else None,
            decoded=decoded.text,
            symbology_id=decoded.symbology_id,
            gs1=decoded.gs1,
            reader=decoded.reader,
            grade=quality.overall if quality else None,
            grade_parameters={
                name: (round(p.value, 4), p.grade.value)
                for name, p in (quality.parameters.items() if quality else ())
            },
            timings_ms=timings,
            used_roi=used_roi,
            corners=quality.corners if quality else decoded.corners,
        )

    def _decode(self, image: npt.NDArray[np.uint8]) -> tuple[Decoded | None, bool]:
        height, width = image.shape
        regions = self._roi.regions(width, height) if self.settings.roi else []
        if not regions:
            return self._zxing.read(image), False
        for region in regions:
            found = self._zxing.read(image, region)
            if found is not None:
                return found, True
        if self._libdmtx is not None:
            found = self._libdmtx.read(image, regions[-1])
            if found is not None:
                return found, True
        return self._search_reduced(image), True

    def _search_reduced(self, image: npt.NDArray[np.uint8]) -> Decoded | None:
        """Outside the ROI: find the symbol at half resolution, then read it at full."""
        height, width = image.shape
        half = np.asarray(
            cv2.resize(image, (width // 2, height // 2), interpolation=cv2.INTER_AREA), np.uint8
        )
        rough = self._zxing.read(half)
        if rough is None:
            return None
        box = rough.bounds()
        pad = max(box.width, box.height)
        region = Rect(
            2 * box.x - pad, 2 * box.y - pad, 2 * box.width + 2 * pad, 2 * box.height + 2 * pad
        )
        return self._zxing.read(image, region.clip(width, height)) or self._zxing.read(image)

    def identify(self, decoded: Decoded) -> tuple[str | None, FailureReason | None, str]:
        """The code key of `decoded` under this batch's rule; without one, why it is none
        (another symbology, a malformed code, another product or batch)."""
        if decoded.symbology_id != self.expected_symbology:
            return (
                None,
                FailureReason.BAD_STRUCTURE,
                f"symbology {decoded.symbology_id} is not the rule's {self.expected_symbology}",
            )
        try:
            return self._key_of(decoded.text), None, ""
        except CodeFormatError as error:
            return None, FailureReason.BAD_STRUCTURE, f"not a valid code: {error.message}"
        except _BatchMismatchError as error:
            return None, FailureReason.WRONG_DATA, str(error)

    def _check(
        self, unit_ref: str, decoded: Decoded
    ) -> tuple[FailureReason | None, str, str | None]:
        key, reason, detail = self.identify(decoded)
        if key is None:
            return reason, detail, None
        expected = self.assignments.code_of(unit_ref)
        if expected is None:
            return FailureReason.WRONG_UNIT, f"no code was assigned to unit {unit_ref}", key
        if decoded.data != expected.data.encode("latin-1"):
            if key in self.commissioned:
                return FailureReason.DUPLICATE, "the code read is already commissioned", key
            owner = self.assignments.unit_of(key)
            if owner is not None and owner != unit_ref:
                return FailureReason.WRONG_UNIT, f"the code read was assigned to unit {owner}", key
            return FailureReason.WRONG_DATA, "the code read differs from the one assigned", key
        owner_unit = self.commissioned.owner(key)
        if owner_unit is not None and owner_unit != unit_ref:
            where = f"on unit {owner_unit}" if owner_unit else "in the store"
            return FailureReason.DUPLICATE, f"the code is already commissioned {where}", key
        if expected.key == key:
            key = expected.key  # the assigned code's own string: kept once, not once per index
        return None, "the code is the one assigned, well formed and new", key

    def _key_of(self, text: str) -> str:
        scheme = self.rule.scheme
        if scheme in (SchemeName.GS1, SchemeName.SSCC):
            scan = parse_scan(self.expected_symbology + text)
            message = scan.message
            if message is None:
                raise CodeFormatError("not a GS1 element string", hint="print GS1 data")
            if scheme is SchemeName.SSCC:
                sscc = message.value("00")
                if sscc is None:
                    raise CodeFormatError("no SSCC (00) in the code", hint="print the SSCC")
                return "00" + sscc
            gtin, serial = message.value("01"), message.value("21")
            if gtin is None or serial is None:
                raise CodeFormatError("the code lacks (01) or (21)", hint="print GTIN and serial")
            if gtin != self._gtin:
                raise _BatchMismatchError(f"GTIN {gtin} is not this product's {self._gtin}")
            lot = message.value("10")
            if "10" in self.rule.gs1_ais and lot != self.lot.lot:
                raise _BatchMismatchError(f"lot {lot} is not this batch's {self.lot.lot}")
            expiry = message.value("17")
            if "17" in self.rule.gs1_ais and expiry != self._expiry:
                raise _BatchMismatchError(f"expiry {expiry} is not this batch's {self._expiry}")
            return f"01{gtin}21{serial}"
        return self._factory.from_data(text).key

    def _reject(
        self,
        unit_ref: str,
        reason: FailureReason,
        detail: str,
        *,
        timings: dict[str, float] | None = None,
        roi: bool = False,
    ) -> VerificationResult:
        expected = self.assignments.code_of(unit_ref)
        return VerificationResult(
            unit_ref=unit_ref,
            verdict=Verdict.REJECT,
            reason=reason,
            detail=detail,
            expected=expected.data if expected else None,
            decoded=None,
            symbology_id=None,
            gs1=False,
            reader=None,
            grade=Grade.F if reason is FailureReason.NO_READ else None,
            timings_ms=timings or {},
            used_roi=roi,
        )


class _BatchMismatchError(Exception):
    """Well-formed data of another product or batch."""
