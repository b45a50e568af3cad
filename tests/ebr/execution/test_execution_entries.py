"""Recorded values: a person's value out of its limits needs a reason and a second person's
signature; a tag's opens a deviation and an exception; a correction keeps the original."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from ebr.audit.actor import GATEWAY
from ebr.execution import (
    ExceptionKind,
    ExecutionError,
    SignatureRequest,
    Source,
    Step,
    VerificationRequiredError,
)
from ebr.users import AuthenticationError
from tests.ebr.audit.audit_users import OWN
from tests.ebr.execution.execution_fixtures import ExecutionSite


@pytest.fixture
def site(engine: Engine) -> ExecutionSite:
    site = ExecutionSite(engine)
    site.complete_through(Step.CHALLENGE)
    return site


def test_a_manual_value_out_of_limits_needs_a_reason_and_another_persons_signature(
    site: ExecutionSite,
) -> None:
    olga, pete = site.session("olga"), site.session("pete")

    def weigh(**extra: Any) -> int:
        return site.record.record(
            site.batch,
            "checks",
            "fill weight",
            Decimal("10.7"),
            unit="g",
            low="9.5",
            high="10.5",
            source=Source.MANUAL,
            by=olga,
            **extra,
        )

    with pytest.raises(VerificationRequiredError, match=r"outside its limits \[9.5, 10.5\]"):
        weigh()
    with pytest.raises(VerificationRequiredError, match="outside its limits"):
        weigh(reason="scale recalibrated, value confirmed")
    with pytest.raises(VerificationRequiredError, match="needs a reason"):
        weigh(verifier=SignatureRequest(pete, OWN, "pete"))
    with pytest.raises(VerificationRequiredError, match="cannot verify their own value"):
        weigh(reason="confirmed", verifier=SignatureRequest(olga, OWN, "olga"))
    with pytest.raises(AuthenticationError):
        weigh(reason="confirmed", verifier=SignatureRequest(pete, "not-my-password", "pete"))
    assert site.entry_count() == 0
    assert site.record.exceptions(site.batch) == []

    entry_id = weigh(reason="reweighed twice", verifier=SignatureRequest(pete, OWN, "pete"))

    entry = site.record.entry(entry_id)
    assert (entry.value, entry.low, entry.high, entry.in_limits) == ("10.7", "9.5", "10.5", False)
    assert (entry.recorded_by, entry.reason, entry.source) == ("olga", "reweighed twice", "manual")
    (signature,) = site.signatures.signatures("ebr_entry", str(entry_id))
    assert (signature.username, signature.meaning) == ("pete", "verified")
    assert signature.action == "ebr_value_verification"
    assert site.signatures.verify("ebr_entry", str(entry_id)).ok
    (exception,) = site.record.exceptions(site.batch)
    assert (exception.kind, exception.ref) == (ExceptionKind.OUT_OF_LIMIT, str(entry_id))
    assert site.record.deviations(site.batch) == []
    in_limits = site.record.record(
        site.batch, "checks", "fill weight", 10, low="9.5", high="10.5", source="manual", by=olga
    )
    assert site.record.entry(in_limits).in_limits is True


def test_a_tag_value_out_of_limits_is_recorded_and_opens_a_deviation(site: ExecutionSite) -> None:
    entry_id = site.record.record(
        site.batch,
        "parameters",
        "sealing temperature",
        Decimal("182.50"),
        unit="°C",
        low=170,
        high=180.0,
        source=Source.TAG,
        by=GATEWAY,
        evidence={"tag": "ns=2;s=Sealer.Temp", "read_at": "2026-11-22T08:00:00+00:00"},
    )

    entry = site.record.entry(entry_id)
    assert (entry.value, entry.low, entry.high, entry.in_limits) == (
        "182.50",
        "170",
        "180.0",
        False,
    )
    assert entry.evidence == {"tag": "ns=2;s=Sealer.Temp", "read_at": "2026-11-22T08:00:00+00:00"}
    (deviation,) = site.record.deviations(site.batch)
    assert (deviation.entry_id, deviation.status, deviation.severity) == (entry_id, "open", "major")
    assert deviation.is_open
    assert not deviation.close_signed
    (exception,) = site.record.exceptions(site.batch)
    assert (exception.kind, exception.ref) == (ExceptionKind.OUT_OF_LIMIT, str(entry_id))
    assert f"deviation {deviation.id} opened" in exception.subject, "one exception, naming both"
    with pytest.raises(ExecutionError, match="has limits but is not a number"):
        site.record.record(
            site.batch, "parameters", "mode", "auto", high=1, source="tag", by=GATEWAY
        )
    with pytest.raises(ExecutionError, match="not a finite decimal number"):
        site.record.record(
            site.batch, "parameters", "speed", 1, high="fast", source="tag", by=GATEWAY
        )


def test_a_correction_keeps_the_original_and_its_limits_and_is_audited_as_a_modify(
    site: ExecutionSite,
) -> None:
    olga = site.session("olga")
    original = site.record.record(
        site.batch, "setup", "label roll", "LR-0001", source="manual", by=olga
    )
    with pytest.raises(ExecutionError, match="needs a reason"):
        site.record.record(
            site.batch,
            "setup",
            "label roll",
            "LR-0010",
            source="manual",
            by=olga,
            supersedes=original,
        )
    corrected = site.record.record(
        site.batch,
        "setup",
        "label roll",
        "LR-0010",
        source="manual",
        by=olga,
        supersedes=original,
        reason="typing error: the roll is LR-0010",
    )

    first, second = site.record.entries(site.batch, "setup")
    assert (first.id, first.value, first.superseded_by, first.current) == (
        original,
        "LR-0001",
        corrected,
        False,
    )
    assert (second.id, second.supersedes, second.current) == (corrected, original, True)
    (audit,) = site.trail.entries(event="ebr.entry_corrected")
    assert (audit.action, audit.object_id, audit.reason) == (
        "modify",
        str(original),
        "typing error: the roll is LR-0010",
    )
    assert (audit.old["value"], audit.new) == ("LR-0001", {"entry": corrected, "value": "LR-0010"})
    with pytest.raises(ExecutionError, match=f"already corrected by entry {corrected}") as error:
        site.record.record(
            site.batch,
            "setup",
            "label roll",
            "LR-0011",
            source="manual",
            by=olga,
            supersedes=original,
            reason="again",
        )
    assert error.value.hint == f"correct the current version, entry {corrected}"
    with pytest.raises(ExecutionError, match="not the value being corrected"):
        site.record.record(
            site.batch,
            "setup",
            "format",
            "A5",
            source="manual",
            by=olga,
            supersedes=corrected,
            reason="wrong field",
        )
    torque = site.record.record(
        site.batch, "checks", "torque", 12, unit="N·cm", low=10, high=14, source="manual", by=olga
    )
    with pytest.raises(VerificationRequiredError):
        site.record.record(
            site.batch,
            "checks",
            "torque",
            15,
            source="manual",
            by=olga,
            supersedes=torque,
            reason="read again",
        )
    retorqued = site.record.entry(
        site.record.record(
            site.batch,
            "checks",
            "torque",
            13,
            source="manual",
            by=olga,
            supersedes=torque,
            reason="read again",
        )
    )
    assert (retorqued.unit, retorqued.low, retorqued.high, retorqued.in_limits) == (
        "N·cm",
        "10",
        "14",
        True,
    )
    with pytest.raises(ExecutionError, match="needs the person who entered it"):
        site.record.record(site.batch, "checks", "torque", 12, source="manual", by=GATEWAY)
    with pytest.raises(ExecutionError, match="no section 'packing'"):
        site.record.record(site.batch, "packing", "x", 1, source="line", by=GATEWAY)
