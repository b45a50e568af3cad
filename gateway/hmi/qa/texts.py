"""The English texts of QA's codes (exception kinds, severities, signature meanings, the
signed decisions), marked for the catalogs, and dates in the viewer's language."""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

from babel import Locale
from babel.dates import format_date

from gateway.hmi.texts import N_

KINDS: Final = {
    "out_of_limit": N_("Out of limit"),
    "deviation": N_("Deviation"),
    "manual_override": N_("Manual override"),
    "missed_check": N_("Missed check"),
    "reconciliation_breach": N_("Reconciliation breach"),
    "yield_breach": N_("Yield breach"),
    "late_verdicts": N_("Late verdicts"),
    "data_changed": N_("Data changed"),
}
SEVERITIES: Final = {
    "minor": N_("Minor"),
    "major": N_("Major"),
    "critical": N_("Critical"),
}
MEANINGS: Final = {
    "authored": N_("Authored"),
    "performed": N_("Performed"),
    "reviewed": N_("Reviewed"),
    "verified": N_("Verified"),
    "approved": N_("Approved"),
    "released": N_("Released"),
}
DECISIONS: Final = {
    "review": N_("Reviewed: QA audit-trail review of this batch record"),
    "release": N_("Released: QA release of this batch"),
    "reject": N_("Rejected: QA rejection of this batch"),
}
"""The meaning each signature dialog shows, by the decision signed."""
DONE: Final = {
    "ack": N_("Exception acknowledged."),
    "review": N_("Audit-trail review signed."),
    "release": N_("Batch released."),
    "reject": N_("Batch rejected."),
}


def day(value: date | None, language: str) -> str:
    if value is None:
        return "—"
    return format_date(value, format="medium", locale=Locale.parse(language))


def utc(text: str | None) -> datetime | None:
    """A time as the store and the signatures write it (UTC ISO 8601 text), for `moment`."""
    return datetime.fromisoformat(text) if text else None
