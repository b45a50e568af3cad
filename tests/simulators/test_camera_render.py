import numpy as np
import pytest
import zxingcpp

from simulators.camera.render import (
    DefectKind,
    DefectSpec,
    RenderError,
    carton_text,
    defects_for,
    render,
    symbol_matrix,
    wrong_payload,
)

PAYLOAD = "01095011015300031727050010AB-123\x1d217Q2XK9PZ4M"


def _read(image: np.ndarray) -> zxingcpp.Barcode:
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.DataMatrix)
    assert found, "the rendered frame did not decode"
    return found[0]


@pytest.mark.parametrize("size", [(640, 480), (1280, 1024)])
def test_gs1_separators_round_trip_through_zxing(size: tuple[int, int]) -> None:
    image, truth = render(PAYLOAD, gs1=True, size=size, rng=np.random.default_rng(1))
    assert image.shape == (size[1], size[0])
    assert image.dtype == np.uint8
    barcode = _read(image)
    assert barcode.symbology_identifier == "]d2"
    assert barcode.bytes == PAYLOAD.encode()
    assert truth.printed == PAYLOAD


def test_plain_payload_is_not_gs1() -> None:
    image, _ = render("ABC123", gs1=False, rng=np.random.default_rng(1))
    barcode = _read(image)
    assert barcode.symbology_identifier == "]d1"
    assert barcode.bytes == b"ABC123"


def test_symbol_size_follows_the_data_from_12_to_26_modules() -> None:
    assert symbol_matrix("ABC123", gs1=False).shape == (12, 12)
    long = "0109501101530003172705001012345678901234567890\x1d21ABCDEFGHIJKLMNOPQRST"
    assert symbol_matrix(long, gs1=True).shape == (26, 26)


def test_same_seed_same_frame() -> None:
    spec = defects_for(DefectKind.NOISE, np.random.default_rng(3))
    first, _ = render(PAYLOAD, gs1=True, defects=spec, rng=np.random.default_rng(9))
    second, _ = render(PAYLOAD, gs1=True, defects=spec, rng=np.random.default_rng(9))
    assert np.array_equal(first, second)


def test_truth_corners_match_the_decoder() -> None:
    image, truth = render(
        PAYLOAD, gs1=True, defects=DefectSpec(rotation_deg=30), rng=np.random.default_rng(2)
    )
    position = _read(image).position
    found = [position.top_left, position.top_right, position.bottom_right, position.bottom_left]
    for (x, y), point in zip(truth.corners, found, strict=True):
        assert abs(x - point.x) < 2
        assert abs(y - point.y) < 2


def test_missing_and_wrong_code() -> None:
    rng = np.random.default_rng(4)
    blank, truth = render(PAYLOAD, gs1=True, defects=DefectSpec(missing_print=True), rng=rng)
    assert truth.printed is None
    assert not zxingcpp.read_barcodes(blank, formats=zxingcpp.BarcodeFormat.DataMatrix)
    image, truth = render(PAYLOAD, gs1=True, defects=DefectSpec(wrong_code=True), rng=rng)
    assert truth.printed == wrong_payload(PAYLOAD, gs1=True) != PAYLOAD
    assert _read(image).bytes == truth.printed.encode()


@pytest.mark.parametrize("kind", list(DefectKind))
def test_every_defect_family_renders(kind: DefectKind) -> None:
    rng = np.random.default_rng(5)
    image, truth = render(PAYLOAD, gs1=True, defects=defects_for(kind, rng), rng=rng)
    assert image.shape == (480, 640)
    assert truth.defects.kinds == (kind,)


def test_bad_requests_are_refused_clearly() -> None:
    with pytest.raises(RenderError, match="not a GS1 element string"):
        render("hello", gs1=True)
    with pytest.raises(RenderError, match="frame size"):
        render(PAYLOAD, gs1=True, size=(0, 10))
    with pytest.raises(RenderError, match="px_per_module"):
        render(PAYLOAD, gs1=True, px_per_module=0.1)
    with pytest.raises(RenderError, match="empty"):
        render("", gs1=False)


def test_dot_print_and_carton_text_still_decode() -> None:
    lines = carton_text("(01)09501101530003(17)270500(10)AB-123(21)7Q2XK9PZ4M")
    assert lines == ("(01) 09501101530003", "(17) 270500", "(10) AB-123", "(21) 7Q2XK9PZ4M")
    image, _ = render(
        PAYLOAD,
        gs1=True,
        size=(1280, 1024),
        px_per_module=6,
        defects=DefectSpec(dot_diameter=1.1),
        rng=np.random.default_rng(6),
        text=lines,
    )
    assert _read(image).bytes == PAYLOAD.encode()
