"""A batch report built by hand (no store), and how the tests read PDFs and walk JSON."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from ebr.report.json_export import CLASSIFICATION_KEYS
from ebr.report.model import (
    BatchReport,
    CheckRecord,
    ControlRecipeInfo,
    DeviationRecord,
    EntryRecord,
    ExceptionRecord,
    Person,
    ProductInfo,
    Reconciliation,
    ReleaseStatus,
    ReportHeader,
    Section,
    SignatureRecord,
    StepRecord,
)

T0 = "2026-11-22T08:00:00.000000+00:00"


def at(minute: int) -> str:
    return f"2026-11-22T08:{minute:02d}:00.000000+00:00"


def entry(entry_id: int, section: str, name: str, value: Any, **extra: Any) -> EntryRecord:
    fields: dict[str, Any] = {
        "unit": None,
        "low": None,
        "high": None,
        "in_limits": None,
        "source": "manual",
        "recorded_by": "olga",
        "recorded_at": at(entry_id),
        "reason": None,
        "evidence": None,
        "supersedes": None,
        "superseded_by": None,
    }
    fields.update(extra)
    return EntryRecord(id=entry_id, section=section, name=name, value=value, **fields)


def sample_report() -> BatchReport:
    setup = (
        entry(1, "setup", "标签卷批号", "LB-2026-0042"),
        entry(2, "setup", "封口温度", "182.5", unit="℃", low="180.0", high="190.0", in_limits=True),
        entry(
            3,
            "setup",
            "装量",
            12,
            unit="粒",
            low="10",
            high="14",
            in_limits=True,
            superseded_by=4,
        ),
        entry(
            4,
            "setup",
            "装量",
            11,
            unit="粒",
            low="10",
            high="14",
            in_limits=True,
            reason="读数抄错, 按复核更正",
            supersedes=3,
            recorded_at=at(9),
        ),
    )
    production = (
        entry(
            5,
            "parameters",
            "line_speed",
            "131.25",
            unit="upm",
            high="120.0",
            in_limits=False,
            source="tag",
            recorded_by="gateway",
            evidence={"tag": "ns=2;s=Line1.Speed", "frame": "f-0005.png", "sha256": "ab" * 32},
        ),
        entry(6, "checks", "label_legible", True, source="manual", recorded_by="pete"),
    )
    return BatchReport(
        header=ReportHeader(
            record_id="plant-1:7",
            batch_id=7,
            site_id="plant-1",
            site_name="北京示例制药有限公司",
            line_id="line-1",
            line_name="Line 1",
            product=ProductInfo("amox", "阿莫西林胶囊", "09501101530003"),
            lot="L-2026-11",
            expiry="2028-01-31",
            production_date="2026-11-22",
            planned_quantity=5000,
            batch_status="reconciled",
            created_at=T0,
            order_number="PO-2026-0815",
            control_recipe=ControlRecipeInfo("amox-pack", "3", "cd" * 32, "阿莫西林包装规程"),
        ),
        steps=(
            StepRecord("header", "olga", at(1)),
            StepRecord("clearance", "pete", at(2)),
        ),
        sections=(
            Section("setup", setup),
            Section("parameters", production[:1]),
            Section("checks", production[1:]),
        ),
        exceptions=(
            ExceptionRecord(
                1,
                "out_of_limit",
                "major",
                "line_speed 131.25 upm above 120.0",
                "5",
                at(12),
                "quinn",
                at(30),
                "速度超限已评估, 无质量影响",
            ),
            ExceptionRecord(
                2,
                "missed_check",
                "minor",
                "label_legible due 08:20",
                "label_legible",
                at(21),
                None,
                None,
                None,
            ),
        ),
        deviations=(
            DeviationRecord(
                1,
                "major",
                "线速超限",
                "line_speed above its high limit for 40 s",
                "PLC 设定值错误",
                "QMS-DEV-2026-017",
                5,
                "closed",
                "gateway",
                at(12),
                "quinn",
                at(31),
                "设定值已更正并复核",
            ),
        ),
        checks=(
            CheckRecord("label_legible", at(20), 6),
            CheckRecord("label_legible", at(40), None),
        ),
        signatures=(
            SignatureRecord(
                "Olga Operator",
                "olga",
                "performed",
                "line_clearance",
                "journal_entry",
                "7:3",
                at(2),
                "01" * 32,
            ),
            SignatureRecord(
                "王芳", "pete", "verified", "entry_verify", "ebr_entry", "4", at(9), "02" * 32
            ),
            SignatureRecord(
                "Quinn QA", "quinn", "released", "batch_release", "batch", "7", at(45), "03" * 32
            ),
        ),
        persons=(
            Person("olga", "Olga Operator"),
            Person("pete", "王芳"),
            Person("quinn", "Quinn QA"),
        ),
        counts={"issued": 5010, "accepted": 4990, "rejected": 20, "voided": 3},
        journal_verified=True,
        reconciliation=Reconciliation(
            True, {"allocated": 5013, "issued": 5010, "accepted": 4990}, True, "olga", at(40)
        ),
        release=ReleaseStatus("released", "quinn", at(45), "QA release"),
    )


def pdf_pages(path: Path) -> list[str]:
    """Each page's text without white space (table cells wrap lines anywhere)."""
    return [squeeze(page.extract_text()) for page in PdfReader(path).pages]


def squeeze(text: str) -> str:
    return "".join(text.split())


def recorded_leaves(value: Any, key: str | None = None) -> Iterator[tuple[str | None, Any]]:
    """Every text and number the JSON holds, with the member it sits in; BatchML's fixed
    vocabulary (`CLASSIFICATION_KEYS`), booleans and nulls are not recorded text."""
    if isinstance(value, dict):
        for name, item in value.items():
            if name not in CLASSIFICATION_KEYS:
                yield from recorded_leaves(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from recorded_leaves(item, key)
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        yield key, value
