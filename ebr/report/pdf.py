"""The batch report as a printable PDF, in Simplified Chinese or English.

Every value, exception, deviation and signature of the `BatchReport` is printed; the words
around them come from `labels` in the chosen language, the data as recorded. A value changed
after its first entry is marked with † and printed with the value it replaced, and the
replaced entry stays in the table, marked with the entry that superseded it.

Every page's header names the batch and lot, says "page x/y", and carries the record hash of
the JSON rendering of the same report (`json_export.render_json`), so a page can be matched to
the electronic record it was printed from. The page count is known only once the document is
laid out, so it is laid out twice: once to count, once to print.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus.flowables import Flowable

from ebr.report.errors import ReportError
from ebr.report.fonts import register_cid_font
from ebr.report.json_export import HASH_KEY, render_json
from ebr.report.labels import Labels
from ebr.report.model import BatchReport, EntryRecord, JsonValue, Section

PAGE: Final = landscape(A4)
MARGIN: Final = 10 * mm
HEADER_SPACE: Final = 16 * mm
CELL_PADDING: Final = 2
"""Points; a UTC time in full (33 mm at 6.5 pt) then fits its 36 mm column on one line."""
EMPTY: Final = "-"
SUPERSEDED_BACKGROUND: Final = colors.Color(0.93, 0.93, 0.93)

ENTRY_COLUMNS_MM: Final = (10, 30, 45, 12, 22, 12, 16, 18, 36, 38, 38)
EXCEPTION_COLUMNS_MM: Final = (10, 28, 16, 60, 22, 36, 20, 36, 49)
DEVIATION_COLUMNS_MM: Final = (10, 16, 30, 36, 30, 24, 12, 16, 40, 40, 23)
CHECK_COLUMNS_MM: Final = (60, 50, 20, 97, 50)
SIGNATURE_COLUMNS_MM: Final = (30, 22, 26, 30, 40, 40, 89)
STEP_COLUMNS_MM: Final = (70, 60, 80)
PERSON_COLUMNS_MM: Final = (60, 100)
PAIR_COLUMNS_MM: Final = (60, 150)


def render_pdf(report: BatchReport, lang: str, path: Path) -> None:
    """Write the report to `path` in `lang` (`zh-CN` or `en`)."""
    labels = Labels(lang)
    font = register_cid_font()
    record_hash = str(render_json(report)[HASH_KEY])
    printer = _Printer(report, labels, font)
    header = report.header
    banner = (
        f"{labels('title')} | {labels('batch')} {header.batch_id} | {labels('lot')} "
        f"{header.lot} | {labels('record_id')} {header.record_id}"
    )

    def draw_header(canvas: Canvas, page: int, pages: int) -> None:
        canvas.saveState()
        canvas.setFont(font, 7)
        top = PAGE[1] - MARGIN
        canvas.drawString(MARGIN, top, banner)
        canvas.drawRightString(PAGE[0] - MARGIN, top, labels("page", page=page, pages=pages))
        canvas.drawString(MARGIN, top - 9, f"{labels('record_hash')}: {record_hash}")
        canvas.restoreState()

    title = f"{labels('title')} {header.record_id}"
    pages = _lay_out(io.BytesIO(), title, printer, lambda canvas, page: None)
    document = io.BytesIO()
    _lay_out(document, title, printer, lambda canvas, page: draw_header(canvas, page, pages))
    try:
        path.write_bytes(document.getvalue())
    except OSError as error:
        raise ReportError(
            f"cannot write the batch report to {path}: {error.strerror or error}",
            hint="choose a file in a folder that exists and that you may write to",
        ) from error


def _lay_out(
    target: io.BytesIO,
    title: str,
    printer: _Printer,
    on_page: Callable[[Canvas, int], None],
) -> int:
    """Build the document into `target`; returns its page count."""
    document = SimpleDocTemplate(
        target,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + HEADER_SPACE,
        bottomMargin=MARGIN,
        title=title,
        author="tracegate",
    )
    pages = 0

    def page_done(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        nonlocal pages
        pages = doc.page
        on_page(canvas, doc.page)

    document.build(printer.story(), onFirstPage=page_done, onLaterPages=page_done)
    return pages


def format_value(value: JsonValue) -> str:
    """A recorded value as printed: text as is, everything else as its JSON."""
    if value is None:
        return EMPTY
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


class _Printer:
    def __init__(self, report: BatchReport, labels: Labels, font: str) -> None:
        self.report = report
        self.t = labels
        self.body = ParagraphStyle("body", fontName=font, fontSize=6.5, leading=8)
        self.heading = ParagraphStyle(
            "heading", fontName=font, fontSize=10, leading=13, keepWithNext=1
        )
        self.title = ParagraphStyle("title", fontName=font, fontSize=14, leading=18)

    def story(self) -> list[Flowable]:
        t = self.t
        story: list[Flowable] = [
            Paragraph(escape(f"{t('title')} {self.report.header.record_id}"), self.title),
            *self._part("header", self._header()),
            *self._part("steps", self._steps()),
            Paragraph(escape(t("values")), self.heading),
        ]
        for section in self.report.sections:
            story += self._part_titled(
                f"{t('section')}: {t.term('section', section.name)}", self._entries(section)
            )
        if any(
            entry.changed_after_first_entry for s in self.report.sections for entry in s.entries
        ):
            story.append(self._text(t("changed_note")))
        story += self._part("exceptions", self._exceptions())
        story += self._part("deviations", self._deviations())
        story += self._part("checks", self._checks())
        story += self._part("signatures", self._signatures())
        story += self._part("persons", self._persons())
        story += self._part("counts", self._counts())
        story += self._part("reconciliation", self._reconciliation())
        story += self._part("release", self._release())
        return story

    # --- parts ---------------------------------------------------------------------------

    def _header(self) -> Flowable:
        t, h = self.t, self.report.header
        recipe = h.control_recipe
        rows: list[tuple[str, str]] = [
            (t("record_id"), h.record_id),
            (t("batch"), str(h.batch_id)),
            (t("site"), f"{h.site_name} ({h.site_id})"),
            (t("line"), f"{h.line_name} ({h.line_id})"),
            (t("product"), f"{h.product.name} ({h.product.id})"),
            (t("gtin"), h.product.gtin or EMPTY),
            (t("lot"), h.lot),
            (t("expiry"), h.expiry or EMPTY),
            (t("production_date"), h.production_date or EMPTY),
            (
                t("planned_quantity"),
                EMPTY if h.planned_quantity is None else str(h.planned_quantity),
            ),
            (t("order_number"), h.order_number or t("no_order")),
        ]
        if recipe is None:
            rows.append((t("control_recipe"), t("no_order")))
        else:
            named = f"{recipe.name} ({recipe.recipe_id})" if recipe.name else recipe.recipe_id
            rows += [
                (t("control_recipe"), named),
                (t("recipe_version"), recipe.version),
                (t("recipe_hash"), recipe.hash),
            ]
        rows += [
            (t("batch_status"), t.term("phase", h.batch_status)),
            (t("created_at"), h.created_at),
        ]
        return self._grid(None, rows, PAIR_COLUMNS_MM)

    def _steps(self) -> Flowable | None:
        t = self.t
        rows = [
            (t.term("step", step.step), step.done_by or EMPTY, step.done_at)
            for step in self.report.steps
        ]
        return self._table((t("step"), t("done_by"), t("done_at")), rows, STEP_COLUMNS_MM)

    def _entries(self, section: Section) -> Flowable | None:
        t = self.t
        head = (
            t("id"),
            t("name"),
            t("value"),
            t("unit"),
            t("limits"),
            t("in_limits"),
            t("source"),
            t("by"),
            t("at"),
            t("reason"),
            t("evidence"),
        )
        rows = [
            (
                f"#{entry.id}",
                entry.name,
                self._value_cell(entry),
                entry.unit or EMPTY,
                _limits(entry),
                t.yes_no(entry.in_limits),
                t.term("source", entry.source),
                entry.recorded_by or EMPTY,
                entry.recorded_at,
                entry.reason or EMPTY,
                format_value(entry.evidence),
            )
            for entry in section.entries
        ]
        table = self._table(head, rows, ENTRY_COLUMNS_MM)
        if table is not None:
            for row, entry in enumerate(section.entries, start=1):
                if not entry.current:
                    table.setStyle(
                        TableStyle([("BACKGROUND", (0, row), (-1, row), SUPERSEDED_BACKGROUND)])
                    )
        return table

    def _value_cell(self, entry: EntryRecord) -> str:
        t = self.t
        lines = [format_value(entry.value)]
        if entry.changed_after_first_entry and entry.supersedes is not None:
            lines.append(t("changed"))
            before = self.report.entry(entry.supersedes)
            shown = EMPTY if before is None else format_value(before.value)
            lines.append(t("original", id=entry.supersedes, value=shown))
        if entry.superseded_by is not None:
            lines.append(t("superseded", id=entry.superseded_by))
        return "\n".join(lines)

    def _exceptions(self) -> Flowable | None:
        t = self.t
        head = (
            t("id"),
            t("kind"),
            t("severity"),
            t("subject"),
            t("reference"),
            t("raised_at"),
            t("acknowledged_by"),
            t("acknowledged_at"),
            t("comment"),
        )
        rows = [
            (
                f"#{x.id}",
                t.term("exception", x.kind),
                t.term("severity", x.severity),
                x.subject,
                x.reference,
                x.raised_at,
                x.acknowledged_by or (EMPTY if x.acknowledged_at else t("not_acknowledged")),
                x.acknowledged_at or EMPTY,
                x.comment or EMPTY,
            )
            for x in self.report.exceptions
        ]
        return self._table(head, rows, EXCEPTION_COLUMNS_MM)

    def _deviations(self) -> Flowable | None:
        t = self.t
        head = (
            t("id"),
            t("severity"),
            t("deviation_title"),
            t("description"),
            t("reason"),
            t("qms_reference"),
            t("entry"),
            t("status"),
            t("opened"),
            t("closed"),
            t("close_reason"),
        )
        rows = [
            (
                f"#{d.id}",
                t.term("severity", d.severity),
                d.title,
                d.description,
                d.reason,
                d.qms_reference or EMPTY,
                EMPTY if d.entry_id is None else f"#{d.entry_id}",
                t.term("deviation_status", d.status),
                f"{d.opened_by or EMPTY}\n{d.opened_at}",
                f"{d.closed_by or EMPTY}\n{d.closed_at or EMPTY}",
                d.close_reason or EMPTY,
            )
            for d in self.report.deviations
        ]
        return self._table(head, rows, DEVIATION_COLUMNS_MM)

    def _checks(self) -> Flowable | None:
        t = self.t
        rows = []
        for check in self.report.checks:
            result = None if check.entry_id is None else self.report.entry(check.entry_id)
            rows.append(
                (
                    check.name,
                    check.due_at,
                    EMPTY if check.entry_id is None else f"#{check.entry_id}",
                    t("not_done") if result is None else format_value(result.value),
                    EMPTY if result is None else t.yes_no(result.in_limits),
                )
            )
        head = (t("name"), t("due_at"), t("entry"), t("result"), t("in_limits"))
        return self._table(head, rows, CHECK_COLUMNS_MM)

    def _signatures(self) -> Flowable | None:
        t = self.t
        head = (
            t("printed_name"),
            t("username"),
            t("meaning"),
            t("action"),
            t("signed_record"),
            t("signed_at"),
            t("record_hash"),
        )
        rows = [
            (
                s.printed_name,
                s.username,
                t.term("meaning", s.meaning),
                s.action,
                f"{s.object_type}:{s.object_id}",
                s.signed_at,
                s.record_hash,
            )
            for s in self.report.signatures
        ]
        return self._table(head, rows, SIGNATURE_COLUMNS_MM)

    def _persons(self) -> Flowable | None:
        t = self.t
        rows = [(p.username, p.full_name) for p in self.report.persons]
        return self._table((t("username"), t("full_name")), rows, PERSON_COLUMNS_MM)

    def _counts(self) -> Flowable:
        t = self.t
        rows = [(t.term("count", name), str(n)) for name, n in self.report.counts.items()]
        rows.append((t("journal_verified"), t.yes_no(self.report.journal_verified)))
        return self._grid(None, rows, PAIR_COLUMNS_MM)

    def _reconciliation(self) -> Flowable:
        t = self.t
        done = self.report.reconciliation
        if done is None:
            return self._text(t("not_reconciled"))
        rows = [
            (t("balanced"), t.yes_no(done.balanced)),
            *((t.term("count", name), str(n)) for name, n in done.counts.items()),
            (t("journal_verified"), t.yes_no(done.journal_verified)),
            (t("done_by"), done.recorded_by or EMPTY),
            (t("done_at"), done.recorded_at),
        ]
        return self._grid(None, rows, PAIR_COLUMNS_MM)

    def _release(self) -> Flowable:
        t, release = self.t, self.report.release
        rows = [
            (t("status"), t.term("phase", release.status)),
            (t("decided_by"), release.decided_by or EMPTY),
            (t("decided_at"), release.decided_at or EMPTY),
            (t("reason"), release.reason or EMPTY),
        ]
        return self._grid(None, rows, PAIR_COLUMNS_MM)

    # --- plumbing ------------------------------------------------------------------------

    def _part(self, key: str, content: Flowable | None) -> list[Flowable]:
        return self._part_titled(self.t(key), content)

    def _part_titled(self, title: str, content: Flowable | None) -> list[Flowable]:
        shown = content if content is not None else self._text(self.t("none"))
        return [Spacer(1, 3 * mm), Paragraph(escape(title), self.heading), shown]

    def _text(self, text: str) -> Paragraph:
        return Paragraph(_markup(text), self.body)

    def _table(
        self, head: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float]
    ) -> LongTable | None:
        """A listing with a heading row; None when there is nothing to list."""
        return self._grid(head, rows, widths) if rows else None

    def _grid(
        self, head: Sequence[str] | None, rows: Sequence[Sequence[str]], widths: Sequence[float]
    ) -> LongTable:
        cells: list[list[Any]] = []
        if head is not None:
            cells.append([self._text(name) for name in head])
        cells += [[self._text(cell) for cell in row] for row in rows]
        style: list[tuple[Any, ...]] = [
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
            ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
            ("TOPPADDING", (0, 0), (-1, -1), CELL_PADDING),
            ("BOTTOMPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ]
        if head is not None:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey))
        table = LongTable(
            cells, colWidths=[w * mm for w in widths], repeatRows=1 if head is not None else 0
        )
        table.setStyle(TableStyle(style))
        return table


def _limits(entry: EntryRecord) -> str:
    low, high = entry.low, entry.high
    if low is not None and high is not None:
        return f"{low} … {high}"
    if low is not None:
        return f"≥ {low}"
    if high is not None:
        return f"≤ {high}"
    return EMPTY


def _markup(text: str) -> str:
    return "<br/>".join(escape(line) for line in text.split("\n"))
