"""Trust list and endpoint choice, without a network."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drivers.base import SecurityError, UsageError
from drivers.opcua.security import (
    POLICY_URIS,
    OfferedEndpoint,
    TrustList,
    choose_endpoint,
    first_certificate_of_chain,
)
from drivers.opcua.settings import OpcUaSettings, SecurityMode, SecurityPolicy
from simulators.line_plc.certs import make_self_signed


def settings(tmp_path: Path, **kwargs: object) -> OpcUaSettings:
    base: dict[str, object] = {
        "name": "plc",
        "endpoint": "opc.tcp://127.0.0.1:4840",
        "policy": SecurityPolicy.BASIC256SHA256,
        "mode": SecurityMode.SIGN_AND_ENCRYPT,
        "client_certificate": tmp_path / "c.der",
        "client_private_key": tmp_path / "c.pem",
        "trust_directory": tmp_path / "trusted",
    }
    return OpcUaSettings(**{**base, **kwargs})  # type: ignore[arg-type]


def test_only_the_exact_trusted_certificate_passes(tmp_path: Path) -> None:
    trusted = make_self_signed(tmp_path / "server", "server", application_uri="urn:s")
    (tmp_path / "trusted").mkdir()
    shutil.copy(trusted.certificate, tmp_path / "trusted")
    impostor = make_self_signed(tmp_path / "other", "server", application_uri="urn:s")
    trust = TrustList.from_settings(settings(tmp_path))
    trust.check(trusted.certificate.read_bytes())
    with pytest.raises(SecurityError, match="is not trusted") as caught:
        trust.check(impostor.certificate.read_bytes())
    assert "trust list" in (caught.value.hint or "")


def test_a_chain_is_checked_by_its_leaf(tmp_path: Path) -> None:
    leaf = make_self_signed(tmp_path, "leaf", application_uri="urn:s").certificate.read_bytes()
    issuer = make_self_signed(tmp_path, "ca", application_uri="urn:ca").certificate.read_bytes()
    assert first_certificate_of_chain(leaf + issuer) == leaf
    TrustList.from_paths([tmp_path / "leaf.der"]).check(leaf + issuer)


def test_an_expired_trusted_certificate_is_refused(tmp_path: Path) -> None:
    old = make_self_signed(
        tmp_path,
        "old",
        application_uri="urn:s",
        valid_days=1,
        not_before=datetime.now(UTC) - timedelta(days=10),
    )
    with pytest.raises(SecurityError, match="outside its validity"):
        TrustList.from_paths([old.certificate]).check(old.certificate.read_bytes())


def test_missing_trust_directory_and_garbage_files_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        TrustList.from_settings(settings(tmp_path))
    garbage = tmp_path / "garbage.der"
    garbage.write_bytes(b"not a certificate")
    with pytest.raises(UsageError, match=r"is not an X\.509 certificate"):
        TrustList.from_paths([garbage])


def test_endpoint_must_match_policy_and_mode_exactly(tmp_path: Path) -> None:
    s = settings(tmp_path)
    none_only = [OfferedEndpoint(POLICY_URIS[SecurityPolicy.NONE], "None", b"")]
    with pytest.raises(SecurityError, match=r"offers None/None\)"):
        choose_endpoint(s, none_only)
    sign_only = [OfferedEndpoint(POLICY_URIS[SecurityPolicy.BASIC256SHA256], "Sign", b"x")]
    with pytest.raises(SecurityError, match="never falls back"):
        choose_endpoint(s, sign_only)
    good = OfferedEndpoint(POLICY_URIS[SecurityPolicy.BASIC256SHA256], "SignAndEncrypt", b"y")
    assert choose_endpoint(s, [*sign_only, good]) is good
