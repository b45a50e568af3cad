"""QA's screens of the HMI: batches by status, a batch's record reviewed by exception, the
audit-trail review, release or rejection with e-signatures, the audit trail and its exports,
and the verification of an evidence bundle (docs/hmi.md, "QA review and release")."""

from gateway.hmi.qa.context import QaContext
from gateway.hmi.qa.install import install_qa

__all__ = ["QaContext", "install_qa"]
