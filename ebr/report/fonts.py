"""The typeface of printed GMP records: reportlab's built-in CID font STSong-Light, which every
PDF reader provides, so Chinese text prints without embedding a font file (as the audit-trail
PDF does)."""

from __future__ import annotations

from typing import Final

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont

CID_FONT: Final = "STSong-Light"


def register_cid_font() -> str:
    """Register the font once per process; returns its name."""
    if CID_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return CID_FONT
