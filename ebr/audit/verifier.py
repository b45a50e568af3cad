"""Offline verifier of an audit evidence bundle. Needs only the standard library and
`cryptography`, so an auditor can run it on any machine without trusting the gateway:

    python -m ebr.audit.verifier bundle.json [--trusted-key HEX ...]

It recomputes every entry's hash and link, checks every checkpoint's Ed25519 signature and that
the chain still holds the head each checkpoint signed, finds missing ranges, and checks every
e-signature against its audit entry and the record version it signed. It reports each finding,
the first broken entry, and exits 0 only when everything verifies.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ebr.audit.chain import (
    ENTRY_FIELDS,
    GENESIS,
    CanonicalJsonError,
    canonical_json,
    checkpoint_message,
    entry_hash,
    key_id_for,
    sha256_hex,
)

BUNDLE_FORMAT = "tracegate-audit-bundle/1"
SIGNATURE_EVENT = "e_signature"
SIGNED_FIELDS = (
    "user_id",
    "username",
    "printed_name",
    "meaning",
    "action",
    "object_type",
    "object_id",
    "record_hash",
    "signed_at",
)
"""The signature fields repeated in its audit entry: change one and the two disagree."""


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    message: str
    index: int | None = None
    """The first audit entry the finding concerns, when it concerns entries."""


@dataclass(slots=True)
class VerificationReport:
    entries: int = 0
    checkpoints: int = 0
    signatures: int = 0
    findings: list[Finding] = field(default_factory=list)
    missing_ranges: list[tuple[int, int]] = field(default_factory=list)
    unsigned_tail: tuple[int, int] | None = None
    """Entries after the last checkpoint: valid so far, but no site signature covers them."""

    @property
    def ok(self) -> bool:
        return not self.findings and not self.missing_ranges

    @property
    def first_broken(self) -> int | None:
        indexes = [f.index for f in self.findings if f.index is not None]
        indexes += [start for start, _ in self.missing_ranges]
        return min(indexes) if indexes else None

    def add(self, kind: str, message: str, index: int | None = None) -> None:
        self.findings.append(Finding(kind, message, index))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "checkpoints": self.checkpoints,
            "signatures": self.signatures,
            "first_broken": self.first_broken,
            "missing_ranges": [list(r) for r in self.missing_ranges],
            "unsigned_tail": list(self.unsigned_tail) if self.unsigned_tail else None,
            "findings": [
                {"kind": f.kind, "index": f.index, "message": f.message} for f in self.findings
            ],
        }

    def lines(self) -> list[str]:
        out = [
            f"audit entries: {self.entries}, checkpoints: {self.checkpoints}, "
            f"e-signatures: {self.signatures}"
        ]
        if self.first_broken is not None:
            out.append(f"FIRST BROKEN ENTRY: #{self.first_broken}")
        out += [f"MISSING: entries #{a}..#{b}" for a, b in self.missing_ranges]
        out += [f"{f.kind}: {f.message}" for f in self.findings]
        if self.unsigned_tail:
            a, b = self.unsigned_tail
            out.append(f"note: entries #{a}..#{b} are not yet covered by a signed checkpoint")
        out.append("VERIFIED" if self.ok else "NOT VERIFIED")
        return out


class BundleError(ValueError):
    pass


def load_bundle(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise BundleError(f"cannot read {path}: {error.strerror}") from error
    except json.JSONDecodeError as error:
        raise BundleError(f"{path} is not JSON (line {error.lineno}): {error.msg}") from error
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{path} is not a {BUNDLE_FORMAT} evidence bundle")
    return data


def verify_bundle(
    bundle: Mapping[str, Any],
    *,
    trusted_keys: Collection[str] | None = None,
    continues: tuple[int, str] | None = None,
) -> VerificationReport:
    """Verify everything in a bundle. `trusted_keys` are public keys (hex) known from outside
    the database; when given, a checkpoint signed by any other key is a finding. `continues`
    is the (seq, hash) a partial chain (an incremental backup) must continue from."""
    report = VerificationReport()
    entries = list(bundle.get("entries", []))
    checkpoints = list(bundle.get("checkpoints", []))
    stored_hashes = _verify_chain(entries, report, continues or (0, GENESIS))
    _verify_checkpoints(
        checkpoints,
        list(bundle.get("public_keys", [])),
        stored_hashes,
        report,
        trusted_keys,
        partial=continues is not None,
    )
    verify_signatures(
        list(bundle.get("signatures", [])),
        {int(e["seq"]): e for e in entries},
        list(bundle.get("records", [])),
        report,
    )
    for name in bundle.get("missing_triggers", []):
        report.add("triggers", f"append-only trigger {name} is missing or disabled")
    return report


def _verify_chain(
    entries: Sequence[Mapping[str, Any]], report: VerificationReport, start: tuple[int, str]
) -> dict[int, str]:
    stored: dict[int, str] = {}
    expected_seq, prev = start[0] + 1, start[1]
    for entry in sorted(entries, key=lambda e: int(e["seq"])):
        seq = int(entry["seq"])
        report.entries += 1
        if seq in stored:
            report.add("duplicate", f"entry #{seq} appears twice", seq)
            continue
        if seq > expected_seq:
            report.missing_ranges.append((expected_seq, seq - 1))
        if entry["prev_hash"] != prev:
            report.add(
                "link",
                f"entry #{seq} does not link to the entry before it "
                "(inserted, removed or reordered entries)",
                seq,
            )
        try:
            computed = entry_hash({name: entry.get(name) for name in ENTRY_FIELDS})
        except CanonicalJsonError as error:
            computed = f"unhashable: {error}"
        if computed != entry["hash"]:
            report.add(
                "content",
                f"entry #{seq} was altered: its content no longer hashes to its hash",
                seq,
            )
        stored[seq] = str(entry["hash"])
        prev, expected_seq = str(entry["hash"]), seq + 1
    return stored


def _verify_checkpoints(
    checkpoints: Sequence[Mapping[str, Any]],
    public_keys: Iterable[Mapping[str, Any]],
    stored: Mapping[int, str],
    report: VerificationReport,
    trusted_keys: Collection[str] | None,
    *,
    partial: bool = False,
) -> None:
    keys: dict[str, Ed25519PublicKey] = {}
    for key in public_keys:
        raw = bytes.fromhex(str(key["public_key"]))
        if key_id_for(raw) != key["key_id"]:
            report.add("key", f"public key {key['key_id']} does not match its id")
            continue
        if trusted_keys is not None and key["public_key"] not in trusted_keys:
            report.add("key", f"public key {key['key_id']} is not one of the trusted site keys")
            continue
        keys[str(key["key_id"])] = Ed25519PublicKey.from_public_bytes(raw)
    ordered = sorted(checkpoints, key=lambda c: int(c["seq"]))
    first = min(stored, default=1) - 1 if partial else 0
    last_good, last_covered = first, first
    expected_seq = int(ordered[0]["seq"]) if partial and ordered else 1
    head = max(stored) if stored else 0
    for checkpoint in ordered:
        seq, entry_seq = int(checkpoint["seq"]), int(checkpoint["entry_seq"])
        report.checkpoints += 1
        if seq != expected_seq:
            report.add("checkpoint", f"checkpoints #{expected_seq}..#{seq - 1} are missing")
        expected_seq = seq + 1
        public = keys.get(str(checkpoint["key_id"]))
        if public is None:
            report.add(
                "checkpoint",
                f"checkpoint #{seq} is signed by unknown key {checkpoint['key_id']}",
            )
            continue
        try:
            public.verify(
                bytes.fromhex(str(checkpoint["signature"])), checkpoint_message(checkpoint)
            )
        except (InvalidSignature, ValueError):
            report.add(
                "checkpoint",
                f"checkpoint #{seq}: the site signature does not verify (forged or altered)",
            )
            continue
        last_covered = max(last_covered, entry_seq)
        if entry_seq > head:
            report.missing_ranges.append((head + 1, entry_seq))
            report.add(
                "truncated",
                f"checkpoint #{seq} signed the chain up to entry #{entry_seq}, "
                f"but the trail ends at #{head}",
            )
        elif stored.get(entry_seq) != checkpoint["entry_hash"]:
            in_range = [
                f.index
                for f in report.findings
                if f.index is not None and last_good < f.index <= entry_seq
            ]
            report.add(
                "rewritten",
                f"checkpoint #{seq} signed entry #{entry_seq} with another hash: entries after "
                f"#{last_good} up to #{entry_seq} were rewritten",
                min(in_range, default=last_good + 1),
            )
        else:
            last_good = entry_seq
    if head > last_covered:
        report.unsigned_tail = (last_covered + 1, head)


def verify_signatures(
    signatures: Sequence[Mapping[str, Any]],
    entries: Mapping[int, Mapping[str, Any]],
    records: Sequence[Mapping[str, Any]],
    report: VerificationReport,
) -> None:
    """Each signature must equal the audit entry that recorded it (so it cannot be moved or
    copied), hold the hash of the record version it stored, and that version must still be
    the record's current one (so a signed record cannot be edited)."""
    current = {(str(r["object_type"]), str(r["object_id"])): r.get("record") for r in records}
    bound: set[int] = set()
    for signature in signatures:
        report.signatures += 1
        label = f"e-signature {signature['id']} ({signature['meaning']} by {signature['username']})"
        entry = entries.get(int(signature["audit_seq"]))
        expected = canonical_json({name: signature[name] for name in SIGNED_FIELDS})
        if int(signature["audit_seq"]) in bound:
            report.add("signature", f"{label} claims an audit entry another signature has: copied")
            continue
        if entry is None or entry["event"] != SIGNATURE_EVENT or entry["new_value"] != expected:
            report.add(
                "signature",
                f"{label} on {signature['object_type']} {signature['object_id']} does not match "
                "the audit entry that recorded it: moved, copied or altered",
            )
            continue
        bound.add(int(signature["audit_seq"]))
        if sha256_hex(str(signature["record"])) != signature["record_hash"]:
            report.add("signature", f"{label}: the stored record version does not match its hash")
        key = (str(signature["object_type"]), str(signature["object_id"]))
        if key in current:
            now = current[key]
            if now is None:
                report.add("signature", f"{label}: the signed record no longer exists")
            elif sha256_hex(str(now)) != signature["record_hash"]:
                report.add("signature", f"{label}: the record was changed after it was signed")
    for seq, entry in entries.items():
        if entry["event"] == SIGNATURE_EVENT and seq not in bound:
            report.add(
                "signature", f"the e-signature recorded by entry #{seq} is missing or altered"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ebr.audit.verifier", description=__doc__)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--trusted-key", action="append", help="a site public key, hex")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        bundle = load_bundle(args.bundle)
    except BundleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report = verify_bundle(bundle, trusted_keys=args.trusted_key)
    print(json.dumps(report.to_dict(), indent=2) if args.json else "\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
