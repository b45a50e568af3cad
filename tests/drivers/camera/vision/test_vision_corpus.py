"""Acceptance: a seeded corpus from the camera simulator, every defect family, 2,000+ frames."""

import numpy as np
import pytest
from vision_setup import LOT, PRODUCT, RULE

from drivers.camera.vision import Verifier
from serialization.codes import SchemeName
from serialization.coding import CodeFactory
from serialization.rules import Carrier, CodingRule
from simulators.camera.render import DefectKind, carton_text, defects_for, render

SHORT_RULE = CodingRule("short", SchemeName.GS1, Carrier.DATAMATRIX, None, gs1_ais=("01", "21"))
"""GTIN and serial only: with 2-12 character serials, symbols of 16x16 to 20x20 modules."""

GOOD = {
    DefectKind.CLEAN,
    DefectKind.POSITION,
    DefectKind.ROTATION,
    DefectKind.PERSPECTIVE,
    DefectKind.BLUR,
    DefectKind.NOISE,
    DefectKind.UNEVEN_LIGHT,
}
KINDS = [*DefectKind, "duplicate"]
FRAMES_PER_LINE = 1_040
"""Two simulated lines of 1,040 frames each (80 per family): 2,080 frames in all."""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("seed", "rule", "serial_lengths"),
    [(20261122, RULE, (4, 20)), (20261123, SHORT_RULE, (2, 12))],
    ids=["full-ais-20-26-modules", "gtin-serial-16-20-modules"],
)
def test_corpus_has_no_false_accepts_and_accepts_good_prints(
    seed: int, rule: CodingRule, serial_lengths: tuple[int, int]
) -> None:
    rng = np.random.default_rng(seed)
    factory = CodeFactory(rule, PRODUCT, LOT)
    verifier = Verifier(rule, PRODUCT, LOT)
    alphabet = np.array(list("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"))
    sizes: set[int] = set()
    accepted_codes: list[str] = []
    false_accepts: list[tuple[int, str]] = []
    good = good_accepted = 0
    seen_kinds: set[str] = set()
    for index in range(FRAMES_PER_LINE):
        kind = KINDS[index % len(KINDS)]
        unit = f"U{index:05d}"
        length = int(rng.integers(serial_lengths[0], serial_lengths[1] + 1))
        unique = alphabet[index // len(alphabet)] + alphabet[index % len(alphabet)]
        serial = unique + "".join(rng.choice(alphabet, length - 2))
        code = factory.issue(serial)
        verifier.assign(unit, code)
        duplicate = kind == "duplicate" and bool(accepted_codes)
        printed = accepted_codes[int(rng.integers(len(accepted_codes)))] if duplicate else code.data
        defect_kind = DefectKind.CLEAN if kind == "duplicate" else DefectKind(kind)
        size = (1280, 1024) if index % 10 == 0 else (640, 480)
        image, truth = render(
            printed,
            gs1=True,
            size=size,
            px_per_module=float(rng.uniform(5, 8)),
            defects=defects_for(defect_kind, rng),
            rng=rng,
            text=carton_text(code.hri),
        )
        sizes.add(truth.modules[0])
        result = verifier.verify(unit, image)
        seen_kinds.add(str(kind))
        if result.accepted:
            if truth.printed != code.data or result.decoded != code.data:
                false_accepts.append((index, str(kind)))
            accepted_codes.append(code.data)
        if kind in GOOD:
            good += 1
            good_accepted += result.accepted
    assert seen_kinds == {str(k) for k in KINDS}
    assert len(sizes) >= 3, f"symbol sizes {sorted(sizes)}"
    assert false_accepts == []
    assert good_accepted / good >= 0.995, f"{good_accepted}/{good} good prints accepted"
