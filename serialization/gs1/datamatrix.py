"""What a GS1 DataMatrix encodes for a message: bytes for an encoder, or ASCII codewords.

GS1 DataMatrix starts with FNC1 (codeword 232), which is what makes a reader report `]d2`.
A later FNC1 separates elements and reaches the host as GS (0x1D).
"""

from __future__ import annotations

from collections.abc import Iterable

from serialization.gs1.element import GS, encode
from serialization.gs1.message import Element

FNC1 = 232
"""DataMatrix codeword for FNC1."""

_DIGIT_PAIR_BASE = 130
"""ASCII encodation packs two digits `nn` into codeword 130 + nn."""


def datamatrix_payload(elements: Iterable[Element]) -> bytes:
    """The data to hand to a DataMatrix encoder in GS1 mode: the element string with GS.

    The leading FNC1 is not a byte; the encoder adds it when told the data is GS1.
    """
    return encode(elements).encode("ascii")


def datamatrix_codewords(elements: Iterable[Element]) -> list[int]:
    """The data codewords in ASCII encodation: FNC1, then digit pairs or characters + 1.

    Only ASCII encodation is used (no switch to C40/EDIFACT/…), and neither pad nor error
    correction codewords are added, so the result is what a symbol's data starts with.
    """
    data = encode(elements)
    codewords = [FNC1]
    index = 0
    end = len(data)
    while index < end:
        char = data[index]
        following = data[index + 1 : index + 2]
        if char.isdigit() and following.isdigit():
            codewords.append(_DIGIT_PAIR_BASE + int(data[index : index + 2]))
            index += 2
            continue
        codewords.append(FNC1 if char == GS else ord(char) + 1)
        index += 1
    return codewords
