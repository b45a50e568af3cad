"""Every print defect of the simulated printer is rejectable by the real verifier.

The smudge measurement: `SMUDGE_RADIUS` is raised until 300 of 300 smudged renders are
rejected (no read, or a grade below C) by a `Verifier` with default `VisionSettings`.
Measured: radius 0.25 → 76 of 300 rejected, 0.35 → 287, 0.40 → 299, 0.45 → 300 (6 at grade D),
0.5 and 0.6 → 1000 of 1000 (all grade F or no read); 0.6 is used.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from drivers.camera.vision import FailureReason, Verifier, VisionSettings
from gateway.simulation import SMUDGE_RADIUS, SimulationOptions, UnitPhotographer
from serialization.codes import SchemeName
from serialization.coding import CodeFactory
from serialization.rules import Carrier, CodingRule, LotData, ProductMaster
from simulators.printer import PrintDefect, PrintedUnit

RULE = CodingRule(
    "unit", SchemeName.GS1, Carrier.DATAMATRIX, None, gs1_ais=("01", "17", "10", "21")
)
PRODUCT = ProductMaster("p1", "Product", gtin="09501101530003")
LOT = LotData("AB-123", expiry=date(2027, 5, 31))


def verdicts(defect: PrintDefect | None, count: int, seed: int) -> Counter[FailureReason | None]:
    factory = CodeFactory(RULE, PRODUCT, LOT)
    verifier = Verifier(RULE, PRODUCT, LOT, settings=VisionSettings())
    photographer = UnitPhotographer(SimulationOptions(seed=seed))
    reasons: Counter[FailureReason | None] = Counter()
    for i in range(count):
        ref = str(i + 1)
        code = factory.issue(f"SM{seed}X{i:05d}")
        verifier.assign(ref, code)
        printed: str | None = code.data
        if defect is PrintDefect.SKIP:
            printed = None
        elif defect is PrintDefect.WRONG_DATA:
            last = code.data[-1]
            printed = code.data[:-1] + ("0" if last != "0" else "1")
        unit = PrintedUnit(
            ref, "UNIT", code.data, printed, (), smudged=defect is PrintDefect.SMUDGE
        )
        assert unit.defect is defect
        photographer.remember(unit)
        frame = photographer.frame(ref, printed)
        result = verifier.verify_bytes(ref, frame.data, frame.width, frame.height)
        reasons[result.reason] += 1
    return reasons


def test_smudged_prints_are_all_rejected() -> None:
    reasons = verdicts(PrintDefect.SMUDGE, 300, seed=11)
    print(f"smudge radius {SMUDGE_RADIUS}: {dict(reasons)}")
    assert reasons[None] == 0, f"{reasons[None]} of 300 smudged prints were accepted"
    assert set(reasons) <= {FailureReason.LOW_GRADE, FailureReason.NO_READ}


@pytest.mark.parametrize(
    ("defect", "expected"),
    [
        (PrintDefect.SKIP, {FailureReason.NO_READ}),
        (
            PrintDefect.WRONG_DATA,
            {FailureReason.WRONG_DATA, FailureReason.WRONG_UNIT, FailureReason.BAD_STRUCTURE},
        ),
        (None, {None}),
    ],
)
def test_skipped_and_wrong_prints_are_rejected_and_good_ones_accepted(
    defect: PrintDefect | None, expected: set[FailureReason | None]
) -> None:
    assert set(verdicts(defect, 20, seed=3)) <= expected
