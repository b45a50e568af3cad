"""The record's steps before production, as the line did them: header, line clearance with its
two signatures, set-up (the coding specimen) and the vision challenge.

The clearance step is completed once the journal entry of the confirmed checklist carries both
the operator's signature and a second person's verifying one (`ebr_clearance`); until then the
write waits, and everything after it with it. The challenge step is completed by the first
challenge that passed; the record takes it after the set-up, which the line only learns of
when its first unit is accepted, so the writes wait for each other in the record's order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ebr.audit.actor import Actor
from ebr.audit.chain import utc_text
from ebr.audit.trail import AuditTrail
from ebr.execution.kinds import Source, Step
from ebr.signatures import ESignatures, Meaning, Requirement, SignatureInfo
from ebr.users import UserError
from gateway.line.clearance import CLEARANCE_ACTION
from gateway.line.ebr_clearance import ClearanceVerifier
from gateway.line.ebr_journal import LineNote
from gateway.line.ebr_recorder import LineRecorder
from gateway.line.ebr_specimen import Specimen, SpecimenFile, shown_path
from gateway.line.ebr_writes import Waiting, Write


class Preparation:
    def __init__(
        self, recorder: LineRecorder, trail: AuditTrail, verifier: ClearanceVerifier | None
    ) -> None:
        self.recorder = recorder
        self.verifier = verifier
        """The second person's signature for the clearance; dropped when it was refused."""
        self._signatures = ESignatures(recorder.users, trail, {CLEARANCE_ACTION: Requirement.DUAL})

    def header(self, values: dict[str, Any]) -> Write:
        def header() -> None:
            for name, value in values.items():
                self.recorder.value("header", name, value, ref="batch")
            self.recorder.complete(Step.HEADER)

        return Write(Step.HEADER, "the header", header)

    def clearance(self, note: LineNote) -> list[Write]:
        return [
            Write(Step.CLEARANCE, "the line clearance", lambda: self._clearance(note)),
            Write(Step.CLEARANCE, "the clearance's verification", lambda: self._verified(note)),
        ]

    def specimen(self, specimen: Specimen, image: SpecimenFile | None, base: Path) -> Write:
        evidence: dict[str, Any] = {
            "unit_ref": specimen.unit_ref,
            "taken_at": utc_text(specimen.frame.taken_at),
        }
        if image is not None:
            evidence["image"] = {
                "file": shown_path(image.path, base),
                "sha256": image.sha256,
                "format": "png",
                "width": image.width,
                "height": image.height,
            }
        value = {"data": specimen.data, "hri": specimen.hri, "code_key": specimen.code_key}

        def setup() -> None:
            self.recorder.value(
                "setup",
                "coding_specimen",
                value,
                ref=f"unit:{specimen.unit_ref}",
                evidence=evidence,
            )
            self.recorder.complete(Step.SETUP)

        return Write(Step.SETUP, "the coding specimen", setup)

    def challenge(self, note: LineNote, value: dict[str, Any], passed: bool) -> Write:
        operator = self.recorder.actor(str(note.data.get("user") or ""))

        def challenge() -> None:
            self.recorder.value(
                "challenge",
                "vision_challenge",
                value,
                ref=f"journal:{note.seq}",
                evidence={"journal_seq": note.seq, "at": utc_text(note.at)},
            )
            if passed:
                self.recorder.complete(Step.CHALLENGE, operator)

        return Write(Step.CHALLENGE, "the vision challenge", challenge)

    # --- the clearance ----------------------------------------------------------------------

    def _clearance(self, note: LineNote) -> None:
        operator = self.recorder.actor(str(note.data.get("user") or ""))
        source = Source.MANUAL if operator.user_id is not None else Source.LINE
        ref = f"journal:{note.seq}"
        evidence = {"journal_seq": note.seq, "at": utc_text(note.at)}
        for index, item in enumerate(note.data.get("checklist", []), start=1):
            self.recorder.value(
                "clearance",
                f"checklist item {index}",
                {"item": item, "confirmed": True},
                ref=ref,
                source=source,
                by=operator,
                evidence=evidence,
            )
        signed = self._signed(note, Meaning.PERFORMED)
        self.recorder.value(
            "clearance",
            "performed",
            {"journal_entry": self._entry(note), "signed_by": _signers(signed)},
            ref=ref,
            source=source,
            by=operator,
            evidence={**evidence, "signatures": [s.id for s in signed]},
        )

    def _verified(self, note: LineNote) -> None:
        if not self._signed(note, Meaning.PERFORMED):
            raise Waiting(
                f"the clearance entry (journal seq {note.seq}) is not signed by the operator "
                "who confirmed it"
            )
        verified = self._signed(note, Meaning.VERIFIED)
        if not verified:
            verifier = self.verifier
            if verifier is None:
                raise Waiting("it needs a second person's verifying signature")
            try:
                verified = [verifier(self.recorder.batch_id, note.seq)]
            except UserError as refused:
                self.verifier = None
                raise Waiting(f"the verifying signature was refused: {refused}") from None
        signature = verified[0]
        verifier_actor = Actor(signature.user_id, signature.username)
        self.recorder.value(
            "clearance",
            "verified",
            {"journal_entry": self._entry(note), "signed_by": _signers(verified)},
            ref=f"journal:{note.seq}",
            source=Source.MANUAL,
            by=verifier_actor,
            evidence={"journal_seq": note.seq, "signatures": [s.id for s in verified]},
        )
        self.recorder.complete(Step.CLEARANCE, verifier_actor)

    def _signed(self, note: LineNote, meaning: Meaning) -> list[SignatureInfo]:
        return [
            s
            for s in self._signatures.signatures("journal_entry", self._entry(note))
            if s.action == CLEARANCE_ACTION and s.meaning == meaning.value
        ]

    def _entry(self, note: LineNote) -> str:
        return f"{self.recorder.batch_id}:{note.seq}"


def _signers(signatures: list[SignatureInfo]) -> list[str]:
    return [f"{s.printed_name} ({s.username}), {s.meaning}, {s.signed_at}" for s in signatures]
