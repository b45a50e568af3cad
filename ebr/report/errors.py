"""Why a batch report cannot be made, with what to do about it."""

from __future__ import annotations

from ebr.errors import StoreError


class ReportError(StoreError):
    pass
