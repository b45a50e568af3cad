"""The batch report (`docs/ebr.md`, "The report"): `collect_report` reads one batch's record
from the store into a `BatchReport`; `render_pdf` prints it in zh-CN or English and
`render_json` shapes it after BatchML's batch production record, sealed with a record hash."""

from ebr.report.collect import collect_report
from ebr.report.errors import ReportError
from ebr.report.json_export import render_json, verify_record_hash
from ebr.report.labels import LANGUAGES
from ebr.report.model import BatchReport
from ebr.report.pdf import render_pdf

__all__ = [
    "LANGUAGES",
    "BatchReport",
    "ReportError",
    "collect_report",
    "render_json",
    "render_pdf",
    "verify_record_hash",
]
