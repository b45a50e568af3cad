"""A case camera's frame: the tops of the cartons in a case, one code each, in a grid."""

from __future__ import annotations

import numpy as np
import pytest
import zxingcpp

from simulators.camera.render import (
    CARTON_PX,
    DefectSpec,
    RenderError,
    contents_frame_size,
    render_many,
)

PAYLOAD = "01095011015300031727050010AB-123\x1d21"


def _payloads(count: int) -> list[str]:
    return [f"{PAYLOAD}7Q2XK9PZ{n:03d}" for n in range(count)]


def test_the_frame_size_gives_each_carton_its_cell() -> None:
    assert contents_frame_size(10) == (5 * CARTON_PX, 2 * CARTON_PX)
    assert contents_frame_size(1) == (2 * CARTON_PX, CARTON_PX)
    width, height = contents_frame_size(200)
    assert (width // CARTON_PX) * (height // CARTON_PX) >= 200
    with pytest.raises(RenderError, match="at least one carton"):
        contents_frame_size(0)


def test_each_symbol_lies_inside_its_own_cell() -> None:
    payloads = _payloads(10)
    image, truths = render_many(
        payloads, size=contents_frame_size(10), rng=np.random.default_rng(4)
    )
    assert image.shape == (2 * CARTON_PX, 5 * CARTON_PX)
    cells = set()
    for truth in truths:
        xs = [x for x, _ in truth.corners]
        ys = [y for _, y in truth.corners]
        column, row = int(min(xs)) // CARTON_PX, int(min(ys)) // CARTON_PX
        assert int(max(xs)) // CARTON_PX == column
        assert int(max(ys)) // CARTON_PX == row
        cells.add((row, column))
    assert len(cells) == 10


def test_more_cartons_than_planned_still_fit_and_read() -> None:
    payloads = _payloads(11)
    image, _ = render_many(payloads, size=contents_frame_size(10), rng=np.random.default_rng(1))
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.DataMatrix)
    assert sorted(barcode.bytes.decode() for barcode in found) == sorted(payloads)


def test_same_seed_same_frame_and_plain_data_is_plain_datamatrix() -> None:
    payloads = [*_payloads(2), "NOT-GS1-42"]
    first, truths = render_many(payloads, size=(540, 180), rng=np.random.default_rng(9))
    second, _ = render_many(payloads, size=(540, 180), rng=np.random.default_rng(9))
    assert np.array_equal(first, second)
    assert [truth.gs1 for truth in truths] == [True, True, False]


def test_bad_requests_are_refused_with_the_fix() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(RenderError, match="2 payloads but 1 defect specs"):
        render_many(_payloads(2), size=(400, 200), rng=rng, defects=[DefectSpec()])
    with pytest.raises(RenderError, match="at least one carton"):
        render_many([], size=(400, 200), rng=rng)
    with pytest.raises(RenderError, match="does not fit"):
        render_many(_payloads(10), size=(300, 100), rng=rng)
    with pytest.raises(RenderError, match="outside 32x32"):
        render_many(_payloads(1), size=(10, 10), rng=rng)
