from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.scanner.protocol import ScanData, ScanDecoder, ScanProtocolError

GS1 = b"]d20109501101530003\x1d10AB-1\x1d21XYZ"
SCANS = [GS1, b"]C1" + GS1[3:], b"]Q3https://id.gs1.org/01/09501101530003", b"]d2\x1e06\x1dZ\x04"]


def texts(events: list[ScanData | ScanProtocolError]) -> list[str]:
    assert all(isinstance(e, ScanData) for e in events), events
    return [e.text for e in events if isinstance(e, ScanData)]


@pytest.mark.parametrize("suffix", [None, b"\r\n", b"\r", b"\x03", b"<END>"])
def test_symbology_identifiers_and_separators_survive_byte_for_byte(suffix: bytes | None) -> None:
    decoder = ScanDecoder(suffix)
    wire = b"".join(s + (suffix or b"\r\n") for s in SCANS)
    events = [e for i in range(len(wire)) for e in decoder.feed(wire[i : i + 1])]
    assert [t.encode() for t in texts(events)] == SCANS
    assert [e.symbology for e in events if isinstance(e, ScanData)] == ["]d2", "]C1", "]Q3", "]d2"]
    assert decoder.buffered == 0


def test_default_suffix_takes_cr_lf_and_crlf() -> None:
    decoder = ScanDecoder()
    assert texts(decoder.feed(b"A\rB\nC\r\n\r\nD")) == ["A", "B", "C"]
    (truncated,) = decoder.close()
    assert isinstance(truncated, ScanProtocolError)
    assert truncated.data == b"D"
    assert "truncated" in truncated.message or "no suffix" in truncated.message


def test_a_scan_without_aim_prefix_has_no_symbology() -> None:
    (event,) = ScanDecoder().feed(b"12345\r")
    assert isinstance(event, ScanData)
    assert event.symbology is None


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (b"AB\x07C\r\n", "control byte 0x07"),
        (b"\xff\xfe\r\n", "not utf-8"),
    ],
)
def test_garbage_scans_are_errors_with_a_hint(wire: bytes, message: str) -> None:
    (event,) = ScanDecoder().feed(wire)
    assert isinstance(event, ScanProtocolError)
    assert message in event.message


def test_an_over_long_scan_is_reported_once_and_the_next_one_is_read() -> None:
    decoder = ScanDecoder(b"\r\n", max_length=64)
    events = decoder.feed(b"x" * 100)
    events += decoder.feed(b"y" * 100 + b"\r")
    assert decoder.buffered <= 64
    events += decoder.feed(b"\nGOOD\r\n")
    assert [type(e) for e in events] == [ScanProtocolError, ScanData]
    assert isinstance(events[1], ScanData)
    assert events[1].text == "GOOD"


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        ScanDecoder(b"")
    with pytest.raises(ValueError, match="too small"):
        ScanDecoder(max_length=2)


@settings(max_examples=300)
@given(
    st.binary(max_size=3000),
    st.sampled_from([None, b"\r\n", b"\x03", b"<E>"]),
    st.integers(1, 700),
)
def test_random_input_never_raises_or_overfills(
    data: bytes, suffix: bytes | None, step: int
) -> None:
    decoder = ScanDecoder(suffix, max_length=256)
    for i in range(0, len(data), step):
        decoder.feed(data[i : i + step])
        assert decoder.buffered <= 256
    decoder.close()
    assert decoder.buffered == 0


@settings(max_examples=200)
@given(st.binary(min_size=1, max_size=200).filter(lambda b: b"\r" not in b and b"\n" not in b))
def test_truncated_input_is_reported(data: bytes) -> None:
    decoder = ScanDecoder()
    assert decoder.feed(data) == []
    (event,) = decoder.close()
    assert isinstance(event, ScanProtocolError)


@settings(max_examples=50)
@given(st.integers(257, 5000), st.sampled_from([None, b"\r\n", b"<E>"]))
def test_oversized_input_is_reported(size: int, suffix: bytes | None) -> None:
    decoder = ScanDecoder(suffix, max_length=256)
    events = decoder.feed(b"A" * size)
    assert decoder.buffered <= 256
    assert len(events) == 1
    assert isinstance(events[0], ScanProtocolError)


FORBIDDEN = [b for b in [*range(0x20), 0x7F] if b not in (0x04, 0x0A, 0x0D, 0x1C, 0x1D, 0x1E)]


@settings(max_examples=200)
@given(st.binary(max_size=100), st.sampled_from(FORBIDDEN), st.binary(max_size=100))
def test_random_scans_with_a_stray_control_byte_are_errors(
    before: bytes, bad: int, after: bytes
) -> None:
    line = (before + bytes((bad,)) + after).replace(b"\r", b"").replace(b"\n", b"")
    events = ScanDecoder().feed(line + b"\r\n")
    assert len(events) == 1
    assert isinstance(events[0], ScanProtocolError)
