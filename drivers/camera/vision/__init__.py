"""Vision: decode, verify and grade the code printed on each unit, inside the line's time budget.

The only part of `drivers` that knows the code schemes (`serialization`).
"""

from drivers.camera.vision.challenge import ChallengeKind, ChallengeRecord, run_challenge
from drivers.camera.vision.contents import (
    ContentsCode,
    ContentsReading,
    FrameCodes,
    read_all,
    read_contents,
)
from drivers.camera.vision.decode import Decoded, Rect, Symbology
from drivers.camera.vision.grade import Grade, QualityGrade
from drivers.camera.vision.registry import Assignments, CommissionedCodes
from drivers.camera.vision.service import BackPressureError, VisionService
from drivers.camera.vision.verify import (
    FailureReason,
    Verdict,
    VerificationResult,
    Verifier,
    VisionSettings,
)

__all__ = [
    "Assignments",
    "BackPressureError",
    "ChallengeKind",
    "ChallengeRecord",
    "CommissionedCodes",
    "ContentsCode",
    "ContentsReading",
    "Decoded",
    "FailureReason",
    "FrameCodes",
    "Grade",
    "QualityGrade",
    "Rect",
    "Symbology",
    "Verdict",
    "VerificationResult",
    "Verifier",
    "VisionService",
    "VisionSettings",
    "read_all",
    "read_contents",
    "run_challenge",
]
