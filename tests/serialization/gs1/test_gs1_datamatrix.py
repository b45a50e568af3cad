"""GS1 DataMatrix payload and ASCII codewords against libzint's (codes.md §1.3)."""

from __future__ import annotations

from serialization.gs1.datamatrix import FNC1, datamatrix_codewords, datamatrix_payload
from serialization.gs1.element import parse_hri

HRI = "(01)09501101530003(17)270500(10)AB-123(21)7Q2XK9PZ4M"
LIBZINT_PREFIX = [
    232, 131, 139, 180, 141, 131, 183, 130, 133, 147, 157,
    135, 130, 140, 66, 67, 46, 142, 52, 232, 151, 56,
]  # fmt: skip
"""libzint's codewords up to its switch to EDIFACT (codeword 240)."""


def test_codewords_match_libzint() -> None:
    codewords = datamatrix_codewords(parse_hri(HRI))
    assert codewords[: len(LIBZINT_PREFIX)] == LIBZINT_PREFIX


def test_whole_ascii_encodation() -> None:
    codewords = datamatrix_codewords(parse_hri(HRI))
    assert codewords[0] == FNC1
    assert codewords.count(FNC1) == 2
    tail = [ord(char) + 1 for char in "Q2XK9PZ4M"]
    assert codewords[len(LIBZINT_PREFIX) :] == tail


def test_payload_is_the_decoded_bytes() -> None:
    assert datamatrix_payload(parse_hri(HRI)) == b"01095011015300031727050010AB-123\x1d217Q2XK9PZ4M"


def test_odd_digit_runs_and_separator_between_digits() -> None:
    codewords = datamatrix_codewords(parse_hri("(10)123(21)45"))
    assert codewords == [232, 140, 142, 52, 232, 151, 175]
