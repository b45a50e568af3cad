"""Reading every code in a case camera's frame: render_many → read_all round trips, and each
code identified under the batch's rule."""

from __future__ import annotations

import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.camera.vision import Verifier, read_all, read_contents
from simulators.camera.render import DefectSpec, contents_frame_size, render_many
from tests.drivers.camera.vision.vision_setup import LOT, PRODUCT, RULE, make_factory

SERIALS = st.text(alphabet="0123456789ABCDEFGHJKLMNPRTUVWXY", min_size=4, max_size=20)


def _payload(serial: str) -> str:
    return make_factory().issue(serial).data


@settings(max_examples=40, deadline=None)
@given(
    serials=st.lists(SERIALS, min_size=1, max_size=12, unique=True),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_code_of_a_case_frame_reads_back_with_its_separators(
    serials: list[str], seed: int
) -> None:
    payloads = [_payload(serial) for serial in serials]
    size = contents_frame_size(len(payloads))
    image, truths = render_many(payloads, size=size, rng=np.random.default_rng(seed))

    found = read_all(image)

    assert sorted(code.text for code in found.codes) == sorted(payloads)
    assert all(code.symbology_id == "]d2" for code in found.codes)
    assert found.unreadable == 0
    assert [truth.printed for truth in truths] == payloads


def test_ten_codes_decode_in_a_few_milliseconds() -> None:
    payloads = [_payload(f"7Q2XK9PZ{n:04d}") for n in range(10)]
    size = contents_frame_size(10)
    rng = np.random.default_rng(5)
    timings = []
    for _ in range(20):
        image, _ = render_many(payloads, size=size, rng=rng)
        started = time.perf_counter()
        found = read_all(image)
        timings.append((time.perf_counter() - started) * 1000)
        assert len(found.codes) == 10
    assert size == (900, 360)
    assert float(np.median(timings)) < 30, timings


def test_a_blank_carton_is_not_read_and_a_scuffed_one_is_found_unreadable() -> None:
    payloads = [_payload(f"SERIAL{n}") for n in range(4)]
    specs = [DefectSpec(), DefectSpec(missing_print=True), DefectSpec(damaged_fraction=0.3), None]
    image, truths = render_many(
        payloads, size=contents_frame_size(4), rng=np.random.default_rng(1), defects=specs
    )

    found = read_all(image)

    assert sorted(code.text for code in found.codes) == sorted([payloads[0], payloads[3]])
    assert truths[1].printed is None


def test_each_code_is_identified_under_the_batch_rule() -> None:
    factory = make_factory()
    ours = [factory.issue(f"SN{n:08d}") for n in range(3)]
    other_lot = ours[0].data.replace("10AB-123", "10ZZ-999")
    payloads = [code.data for code in ours] + [other_lot, "HELLO-WORLD"]
    image, _ = render_many(payloads, size=contents_frame_size(5), rng=np.random.default_rng(2))
    verifier = Verifier(RULE, PRODUCT, LOT)

    reading = read_contents(verifier, image.tobytes(), image.shape[1], image.shape[0])

    by_data = {code.data: code for code in reading.codes}
    assert len(by_data) == 5
    for code in ours:
        assert by_data[code.data].key == code.key
    assert by_data[other_lot].key is None
    assert "lot ZZ-999 is not this batch's AB-123" in by_data[other_lot].problem
    plain = by_data["HELLO-WORLD"]
    assert plain.key is None
    assert "symbology ]d1" in plain.problem
    assert plain.shown == "HELLO-WORLD"
