import asyncio
import json
import time
from datetime import date

import numpy as np
import numpy.typing as npt
import pytest
from vision_setup import LOT, PRODUCT, RULE, make_factory

from drivers.camera.vision import (
    BackPressureError,
    ChallengeKind,
    FailureReason,
    Grade,
    VerificationResult,
    Verifier,
    VisionService,
    VisionSettings,
    run_challenge,
)
from drivers.camera.vision.challenge import ChallengeSample
from drivers.camera.vision.decode import LibdmtxReader, Rect
from drivers.camera.vision.image import to_png
from serialization.coding import CodeFactory
from serialization.rules import LotData
from simulators.camera.render import DefectSpec, render


@pytest.fixture
def factory() -> CodeFactory:
    return make_factory()


def _verifier(**settings: object) -> Verifier:
    return Verifier(RULE, PRODUCT, LOT, settings=VisionSettings(**settings))  # type: ignore[arg-type]


def _frame(data: str, seed: int = 1, **defects: object) -> np.ndarray:
    image, _ = render(
        data,
        gs1=True,
        defects=DefectSpec(**defects),
        rng=np.random.default_rng(seed),  # type: ignore[arg-type]
    )
    return image


def test_accepts_the_assigned_code_byte_for_byte(factory: CodeFactory) -> None:
    verifier = _verifier()
    code = factory.issue("SER0001")
    verifier.assign("u1", code)
    result = verifier.verify("u1", _frame(code.data))
    assert result.accepted, result.detail
    assert result.decoded == code.data
    assert "\x1d" in result.decoded
    assert result.symbology_id == "]d2"
    assert result.gs1
    assert result.grade is Grade.A
    assert set(result.grade_parameters) >= {
        "symbol_contrast",
        "modulation",
        "unused_error_correction",
    }
    assert json.dumps(result.to_dict())


def test_failure_reasons(factory: CodeFactory) -> None:
    verifier = _verifier()
    first, second, third = (factory.issue(s) for s in ("S1", "S2", "S3"))
    verifier.assign("u1", first)
    verifier.assign("u2", second)
    verifier.assign("u3", third)
    assert verifier.verify("u1", _frame(first.data)).accepted
    assert verifier.verify("u2", _frame(first.data)).reason is FailureReason.DUPLICATE
    assert verifier.verify("u2", _frame(third.data)).reason is FailureReason.WRONG_UNIT
    assert verifier.verify("u3", _frame(third.data, missing_print=True)).reason is (
        FailureReason.NO_READ
    )
    assert verifier.verify("u3", _frame(third.data, wrong_code=True)).reason is (
        FailureReason.WRONG_DATA
    )
    other_lot = CodeFactory(RULE, PRODUCT, LotData("ZZ-9", expiry=date(2027, 5, 31)))
    assert verifier.verify("u3", _frame(other_lot.issue("S3").data)).reason is (
        FailureReason.WRONG_DATA
    )
    assert verifier.verify("u3", _frame(third.data)).accepted
    assert verifier.verify("u3", _frame(third.data)).accepted, "re-inspection is no duplicate"


def test_bad_structure_when_not_gs1() -> None:
    verifier = _verifier()
    image, _ = render("HELLO", gs1=False, rng=np.random.default_rng(1))
    assert verifier.verify("u1", image).reason is FailureReason.BAD_STRUCTURE


def test_duplicate_against_preloaded_store_keys(factory: CodeFactory) -> None:
    verifier = _verifier()
    code = factory.issue("OLD1")
    assert verifier.commissioned.preload([code.key, code.key]) == 1
    verifier.assign("u1", code)
    result = verifier.verify("u1", _frame(code.data))
    assert result.reason is FailureReason.DUPLICATE
    assert "store" in result.detail


def test_low_grade_rejected_by_product_minimum(factory: CodeFactory) -> None:
    code = factory.issue("LC1")
    faint = _frame(code.data, contrast=0.3)
    strict = _verifier(min_grade=Grade.C)
    strict.assign("u1", code)
    result = strict.verify("u1", faint)
    assert result.reason is FailureReason.LOW_GRADE
    lenient = _verifier(min_grade=Grade.D)
    lenient.assign("u1", code)
    assert lenient.verify("u1", faint).accepted


def test_grades_order_defect_families(factory: CodeFactory) -> None:
    verifier = _verifier(min_grade=Grade.F)

    def grade(seed: int, **defects: object) -> tuple[float, Grade]:
        code = factory.issue(f"G{seed}")
        verifier.assign(f"g{seed}", code)
        result = verifier.verify(f"g{seed}", _frame(code.data, seed=seed, **defects))
        contrast = result.grade_parameters.get("symbol_contrast", (0.0, "F"))[0]
        return contrast, result.grade or Grade.F

    clean = [grade(s) for s in range(3)]
    faint = [grade(10 + s, contrast=0.3) for s in range(3)]
    damaged = [grade(20 + s, damaged_fraction=0.03) for s in range(3)]
    assert max(c for c, _ in faint) < min(c for c, _ in clean)
    assert max(g.rank for _, g in faint) < min(g.rank for _, g in clean)
    assert max(g.rank for _, g in damaged) < min(g.rank for _, g in clean)


@pytest.mark.parametrize(
    ("data", "width", "height", "is_png"),
    [
        (b"\x00" * 99, 10, 10, False),
        (b"\x00" * 100, 20, 10, False),
        (b"", 0, 0, False),
        (b"\x00" * 16, 10**6, 10**6, False),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 10, 10, 10, True),
        (b"garbage", 4, 4, True),
    ],
)
def test_malformed_images_give_a_failure_result(
    data: bytes, width: int, height: int, is_png: bool
) -> None:

    result = _verifier().verify_bytes("u1", data, width, height, is_png=is_png)
    assert result.reason is FailureReason.BAD_IMAGE
    assert result.detail


def test_truncated_png_and_header_mismatch(factory: CodeFactory) -> None:
    encoded = to_png(_frame(factory.issue("P1").data))
    verifier = _verifier()
    assert verifier.verify_bytes("u1", encoded[:200], 640, 480, is_png=True).reason is (
        FailureReason.BAD_IMAGE
    )
    assert verifier.verify_bytes("u1", encoded, 320, 240, is_png=True).reason is (
        FailureReason.BAD_IMAGE
    )


def test_libdmtx_fallback_keeps_fnc1(factory: CodeFactory) -> None:
    code = factory.issue("DM1")
    found = LibdmtxReader(50).read(_frame(code.data), Rect(200, 120, 240, 240))
    assert found is not None
    assert found.data == code.data.encode()
    assert found.symbology_id == "]d2"
    from drivers.camera.vision.grade import Grader

    assert found.modules is not None
    assert Grader().grade(_frame(code.data), found).overall is Grade.A


def test_challenge_record(factory: CodeFactory) -> None:
    verifier = _verifier()
    done = factory.issue("C0")
    verifier.assign("c0", done)
    assert verifier.verify("c0", _frame(done.data)).accepted
    samples = []
    for index, kind in enumerate(ChallengeKind):
        code = factory.issue(f"C{index + 1}")
        verifier.assign(f"c{index + 1}", code)
        image = {
            ChallengeKind.NO_CODE: lambda c: _frame(c.data, missing_print=True),
            ChallengeKind.WRONG_CODE: lambda c: _frame(c.data, wrong_code=True),
            ChallengeKind.DUPLICATE: lambda _c: _frame(done.data),
            ChallengeKind.LOW_CONTRAST: lambda c: _frame(c.data, contrast=0.3),
            ChallengeKind.DAMAGED: lambda c: _frame(c.data, damaged_fraction=0.12),
        }[kind](code)
        samples.append(ChallengeSample(kind, f"c{index + 1}", image))
    record = run_challenge(verifier, samples)
    assert record.passed, [(o.kind, o.result.reason) for o in record.outcomes]
    as_json = json.loads(json.dumps(record.to_dict()))
    assert len(as_json["outcomes"]) == 5
    assert record.outcomes[0].image_png.startswith(b"\x89PNG")


async def test_service_runs_off_loop_and_signals_back_pressure(factory: CodeFactory) -> None:
    verifier = _verifier()
    code = factory.issue("SV1")
    verifier.assign("u1", code)
    image = _frame(code.data)
    async with VisionService(verifier, queue_size=2) as service:
        result = await service.submit("u1", image)
        assert result.accepted
        bad = await service.submit_bytes("u2", b"\x00" * 5, 10, 10)
        assert bad.reason is FailureReason.BAD_IMAGE
        replies = [service.submit("u1", image), service.submit("u1", image)]
        with pytest.raises(BackPressureError, match="queue full"):
            service.submit("u1", image)
        await asyncio.gather(*replies)


def test_grader_refines_decoder_corners_to_a_fraction_of_a_module(factory: CodeFactory) -> None:
    from drivers.camera.vision.decode import Symbology, ZxingReader
    from drivers.camera.vision.grade import Grader

    reader, grader = ZxingReader([Symbology.DATAMATRIX]), Grader()
    code = factory.issue("CR1")
    for seed, rotation in enumerate((0.0, 17.0, -140.0)):
        image, truth = render(
            code.data,
            gs1=True,
            px_per_module=6.0,
            defects=DefectSpec(rotation_deg=rotation, noise_sigma=2.0, blur_sigma_px=0.5),
            rng=np.random.default_rng(seed),
        )
        decoded = reader.read(image)
        assert decoded is not None
        refined = np.array(grader.grade(image, decoded).corners)
        error = np.abs(refined - (np.array(truth.corners) - 0.5)).max() / truth.px_per_module
        assert error < 0.08, f"corners {error:.3f} modules off at {rotation} degrees"


def test_roi_tracker_narrows_and_falls_back() -> None:
    from drivers.camera.vision.roi import RoiTracker

    tracker = RoiTracker(history=2)
    assert tracker.region(1280, 1024) is None
    tracker.found(Rect(600, 500, 100, 100))
    region = tracker.region(1280, 1024)
    assert region is not None
    assert region.x < 600 < region.x + region.width
    assert region.width * region.height < 1280 * 1024 / 4
    tracker.found(Rect(0, 0, 1280, 1024))
    assert tracker.region(1280, 1024) is None, "an ROI as big as the frame is no ROI"
    assert tracker.regions(1280, 1024) == []


def test_roi_tracker_tries_the_last_box_before_the_union() -> None:
    from drivers.camera.vision.roi import RoiTracker

    tracker = RoiTracker(history=2, margin=0.35, first_margin=0.25)
    assert tracker.regions(1280, 1024) == []
    tracker.found(Rect(100, 100, 100, 100))
    tracker.found(Rect(400, 300, 100, 100))
    first, union = tracker.regions(1280, 1024)
    assert first == Rect(375, 275, 150, 150)
    assert union == Rect(65, 65, 470, 370)
    tracker.reset()
    tracker.found(Rect(400, 300, 100, 100))
    assert len(tracker.regions(1280, 1024)) == 2, "one box: the union is the same box grown more"


def test_code_outside_the_roi_is_still_found(factory: CodeFactory) -> None:
    verifier = _verifier()
    for index, centre in enumerate(((0.5, 0.5), (0.5, 0.5), (0.12, 0.15))):
        code = factory.issue(f"R{index}")
        verifier.assign(f"r{index}", code)
        image, _ = render(
            code.data,
            gs1=True,
            size=(1280, 1024),
            defects=DefectSpec(center=centre),
            rng=np.random.default_rng(index),
        )
        result = verifier.verify(f"r{index}", image)
        assert result.accepted, result.detail
        assert result.used_roi == (index > 0)


async def test_service_answers_a_slow_frame_with_a_rejection(factory: CodeFactory) -> None:
    verifier = _verifier()
    code = factory.issue("SV2")
    verifier.assign("u1", code)
    image, _ = render(code.data, gs1=True, size=(1280, 1024), rng=np.random.default_rng(1))
    verify = verifier.verify

    def slow_verify(unit_ref: str, image: npt.NDArray[np.uint8]) -> VerificationResult:
        time.sleep(0.5)
        return verify(unit_ref, image)

    verifier.verify = slow_verify  # type: ignore[method-assign]
    async with VisionService(verifier, frame_timeout_s=0.01) as service:
        result = await service.submit("u1", image)
    assert result.reason is FailureReason.NO_READ
    assert "longer than" in result.detail


def test_check_digit_and_ai_format_errors_are_bad_structure(factory: CodeFactory) -> None:
    from drivers.camera.vision.decode import Decoded, Symbology

    verifier = _verifier()
    code = factory.issue("CD1")
    verifier.assign("u1", code)
    corners = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    bad_check = code.data.replace("09501101530003", "09501101530004")
    bad_date = code.data.replace("270531", "271331")
    for data in (bad_check, bad_date):
        decoded = Decoded(data.encode(), "]d2", Symbology.DATAMATRIX, corners, 1.0, None, "test")
        reason, detail, _ = verifier._check("u1", decoded)
        assert reason is FailureReason.BAD_STRUCTURE, detail


def test_a_duplicate_names_the_unit_it_was_accepted_on(factory: CodeFactory) -> None:
    verifier = _verifier()
    code, other = factory.issue("N1"), factory.issue("N2")
    verifier.assign("0417", code)
    accepted = verifier.verify("0417", _frame(code.data))
    assert accepted.accepted
    verifier.assign("418", code)
    again = verifier.verify("418", _frame(code.data))
    assert again.reason is FailureReason.DUPLICATE
    assert again.detail == "the code is already commissioned on unit 0417"
    verifier.assign("419", other)
    assert verifier.verify("419", _frame(other.data)).accepted
    verifier.assign("420", other)
    assert verifier.verify("420", _frame(other.data)).detail == (
        "the code is already commissioned on unit 419"
    )
    assert verifier.commissioned.owner(factory.issue("N3").key) is None
