"""The vision challenge before production: known-bad samples the verifier must reject.

On a simulated line the samples are rendered here with the batch's own rule, product and lot
(a blank unit, a wrong code, a duplicate, a faint print, a damaged print), then shown to a
verifier with the production settings but registries of its own, so the challenge never
touches the batch's codes. On a real line the same record comes from frames of the physical
challenge samples (HMI issue).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from drivers.camera.vision import (
    ChallengeKind,
    ChallengeRecord,
    Verifier,
    VisionSettings,
    run_challenge,
)
from drivers.camera.vision.challenge import ChallengeSample
from serialization.codes import SchemeName
from serialization.coding import CodeFactory, IssuedCode
from serialization.rules import CodingRule, LotData, ProductMaster
from simulators.camera.render import DefectSpec, render

_DEFECTS: dict[ChallengeKind, Callable[[], DefectSpec]] = {
    ChallengeKind.NO_CODE: lambda: DefectSpec(missing_print=True),
    ChallengeKind.WRONG_CODE: lambda: DefectSpec(wrong_code=True),
    ChallengeKind.DUPLICATE: DefectSpec,
    ChallengeKind.LOW_CONTRAST: lambda: DefectSpec(contrast=0.3),
    ChallengeKind.DAMAGED: lambda: DefectSpec(damaged_fraction=0.12),
}


def _serial(rule: CodingRule) -> str:
    spec = rule.serial
    if spec is None or not spec.alphabet:
        return f"{secrets.randbelow(10**9):09d}"
    return "".join(secrets.choice(spec.alphabet) for _ in range(spec.length))


def _frame(code: IssuedCode, rule: CodingRule, spec: DefectSpec) -> npt.NDArray[np.uint8]:
    gs1 = rule.scheme in (SchemeName.GS1, SchemeName.SSCC)
    image, _ = render(code.data, gs1=gs1, defects=spec, rng=np.random.default_rng())
    return np.ascontiguousarray(image, dtype=np.uint8)


def rendered_challenge(
    rule: CodingRule,
    product: ProductMaster,
    lot: LotData,
    settings: VisionSettings | None = None,
) -> ChallengeRecord:
    verifier = Verifier(rule, product, lot, settings=settings)
    factory = CodeFactory(rule, product, lot)
    good = factory.issue(_serial(rule))
    verifier.assign("challenge-0", good)
    verifier.verify("challenge-0", _frame(good, rule, DefectSpec()))
    samples = []
    for index, kind in enumerate(ChallengeKind, start=1):
        unit_ref = f"challenge-{index}"
        code = factory.issue(_serial(rule))
        verifier.assign(unit_ref, code)
        shown = good if kind is ChallengeKind.DUPLICATE else code
        samples.append(ChallengeSample(kind, unit_ref, _frame(shown, rule, _DEFECTS[kind]())))
    return run_challenge(verifier, samples)
