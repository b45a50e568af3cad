"""The audit trail as a printable PDF (R-AUD-3: entries can be exported and printed).

Text is set in the CID font of printed GMP records (`ebr.report.fonts`), which every PDF reader
provides, so Chinese names and reasons print without embedding a font file. Each page says which
entries were selected and when the report was made, and shows the chain hash of every entry, so
a printed page can be checked against `tracegate audit verify`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus.flowables import Flowable

from ebr.audit.chain import utc_text
from ebr.audit.trail import AuditRecord, AuditTrail
from ebr.report.fonts import register_cid_font

HEADER = ("#", "At (UTC)", "User", "Action", "Event", "Object", "Old -> new", "Reason", "Hash")
COLUMN_MM = (12, 36, 22, 16, 30, 32, 66, 36, 27)
MAX_VALUE_CHARS = 400
"""Longer old/new values are cut in print (the CSV and the bundle keep them whole)."""


def export_pdf(trail: AuditTrail, path: Path, *, title: str = "Audit trail", **filters: Any) -> int:
    """Write the entries the filters select (as for `AuditTrail.entries`) as a PDF; returns
    how many entries it holds."""
    records = trail.entries(**filters)
    write_pdf(records, path, title=title, filters=filters, made_at=trail.now())
    return len(records)


def write_pdf(
    records: Sequence[AuditRecord],
    path: Path,
    *,
    title: str,
    filters: Mapping[str, Any],
    made_at: datetime,
) -> None:
    font = register_cid_font()
    body = ParagraphStyle("body", fontName=font, fontSize=6.5, leading=8)
    heading = ParagraphStyle("heading", fontName=font, fontSize=12, leading=15)
    selection = _describe(filters)
    stamp = f"made {utc_text(made_at)} | {len(records)} entries | {selection}"
    story: list[Flowable] = [
        Paragraph(escape(title), heading),
        Paragraph(escape(stamp), body),
        Spacer(1, 3 * mm),
        _table(records, body),
    ]
    document = SimpleDocTemplate(
        str(path),
        pagesize=landscape(A4),
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=10 * mm,
        bottomMargin=12 * mm,
        title=title,
        author="tracegate",
    )

    def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(font, 6.5)
        canvas.drawString(10 * mm, 6 * mm, f"{title} | {stamp}")
        canvas.drawRightString(landscape(A4)[0] - 10 * mm, 6 * mm, f"page {doc.page}")
        canvas.restoreState()

    document.build(story, onFirstPage=footer, onLaterPages=footer)


def _table(records: Sequence[AuditRecord], style: ParagraphStyle) -> LongTable:
    rows: list[list[Any]] = [[Paragraph(escape(name), style) for name in HEADER]]
    for record in records:
        cells = (
            str(record.seq),
            record.at,
            record.username or "system",
            record.action,
            record.event,
            f"{record.object_type}:{record.object_id}",
            _change(record),
            record.reason or "",
            record.hash[:16],
        )
        rows.append([Paragraph(escape(cell), style) for cell in cells])
    table = LongTable(rows, colWidths=[width * mm for width in COLUMN_MM], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _change(record: AuditRecord) -> str:
    if record.old_value is None and record.new_value is None:
        return ""
    text = f"{record.old_value or '-'} -> {record.new_value or '-'}"
    if len(text) > MAX_VALUE_CHARS:
        return text[:MAX_VALUE_CHARS] + " ... (cut; see the CSV export)"
    return text


def _describe(filters: Mapping[str, Any]) -> str:
    chosen = []
    for name, value in filters.items():
        if value is None:
            continue
        shown = utc_text(value) if isinstance(value, datetime) else str(value)
        chosen.append(f"{name}={shown}")
    return "selection: " + (", ".join(chosen) if chosen else "all entries")
