"""Challenge test: known-bad samples shown to the verifier, which must reject each of them.

The record keeps every sample's image (PNG) and result so the EBR can store the evidence.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from drivers.camera.vision.image import to_png
from drivers.camera.vision.verify import FailureReason, VerificationResult, Verifier


class ChallengeKind(StrEnum):
    NO_CODE = "no_code"
    WRONG_CODE = "wrong_code"
    DUPLICATE = "duplicate"
    LOW_CONTRAST = "low_contrast"
    DAMAGED = "damaged"


EXPECTED_REASONS: dict[ChallengeKind, frozenset[FailureReason]] = {
    ChallengeKind.NO_CODE: frozenset({FailureReason.NO_READ}),
    ChallengeKind.WRONG_CODE: frozenset({FailureReason.WRONG_DATA, FailureReason.WRONG_UNIT}),
    ChallengeKind.DUPLICATE: frozenset({FailureReason.DUPLICATE}),
    ChallengeKind.LOW_CONTRAST: frozenset({FailureReason.LOW_GRADE, FailureReason.NO_READ}),
    ChallengeKind.DAMAGED: frozenset({FailureReason.LOW_GRADE, FailureReason.NO_READ}),
}


@dataclass(frozen=True, slots=True)
class ChallengeSample:
    kind: ChallengeKind
    unit_ref: str
    image: npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class ChallengeOutcome:
    kind: ChallengeKind
    passed: bool
    result: VerificationResult
    image_png: bytes

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "passed": self.passed,
            "result": self.result.to_dict(),
            "image_png_base64": base64.b64encode(self.image_png).decode("ascii"),
        }


@dataclass(frozen=True, slots=True)
class ChallengeRecord:
    started_at: datetime
    finished_at: datetime
    product: str
    lot: str
    outcomes: tuple[ChallengeOutcome, ...]

    @property
    def passed(self) -> bool:
        kinds = {o.kind for o in self.outcomes}
        return kinds == set(ChallengeKind) and all(o.passed for o in self.outcomes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "product": self.product,
            "lot": self.lot,
            "passed": self.passed,
            "outcomes": [o.to_dict() for o in self.outcomes],
        }


def run_challenge(verifier: Verifier, samples: Iterable[ChallengeSample]) -> ChallengeRecord:
    """Verify each sample; it passes when rejected for one of its kind's expected reasons."""
    started = datetime.now(UTC)
    outcomes = []
    for sample in samples:
        result = verifier.verify(sample.unit_ref, sample.image)
        passed = not result.accepted and result.reason in EXPECTED_REASONS[sample.kind]
        outcomes.append(ChallengeOutcome(sample.kind, passed, result, to_png(sample.image)))
    return ChallengeRecord(
        started_at=started,
        finished_at=datetime.now(UTC),
        product=verifier.product.id,
        lot=verifier.lot.lot,
        outcomes=tuple(outcomes),
    )
