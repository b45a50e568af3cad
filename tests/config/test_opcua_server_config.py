"""The `opcua_server` section: defaults, security None on loopback only, certificate files."""

from __future__ import annotations

import pytest

from config import Severity
from config.opcua_server import EndpointSecurity, OpcUaServerSection, is_loopback
from tests.config.conftest import BASE_SITE, Check, at


def test_absent_means_no_server_and_an_empty_section_means_the_secure_defaults(
    check: Check,
) -> None:
    assert check(BASE_SITE).config is not None
    assert check(BASE_SITE).config.opcua_server is None  # type: ignore[union-attr]
    report = check(BASE_SITE + "opcua_server:\n")
    assert report.config is not None
    section = report.config.opcua_server
    assert section is not None
    assert section.endpoint == "opc.tcp://127.0.0.1:4840"
    assert [s.label for s in section.security] == [
        "Basic256Sha256/SignAndEncrypt",
        "Aes256Sha256RsaPss/SignAndEncrypt",
    ]
    assert not section.allow_anonymous
    warnings = at(report, "opcua_server.certificate") + at(report, "opcua_server.private_key")
    assert [w.severity for w in warnings] == [Severity.WARNING, Severity.WARNING]
    assert "tracegate certs create" in (warnings[0].hint or "")


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
        ("mes-gw.plant.local", False),
    ],
)
def test_security_none_only_on_a_loopback_endpoint(check: Check, host: str, allowed: bool) -> None:
    text = (
        BASE_SITE
        + f"opcua_server:\n  endpoint: opc.tcp://{host}:4840\n  security:\n"
        + ("    - policy: None\n")
    )
    report = check(text)
    if allowed:
        assert report.config is not None
        return
    (problem,) = at(report, "opcua_server")
    assert "not a loopback address" in problem.message
    assert "Basic256Sha256" in (problem.hint or "")


def test_policy_none_has_no_mode_and_each_endpoint_is_listed_once(check: Check) -> None:
    report = check(BASE_SITE + "opcua_server:\n  security:\n    - policy: None\n      mode: Sign\n")
    (problem,) = at(report, "opcua_server.security[0]")
    assert "policy None has no mode" in problem.message
    report = check(
        BASE_SITE
        + "opcua_server:\n  security:\n    - policy: Basic256Sha256\n"
        + "    - policy: Basic256Sha256\n      mode: SignAndEncrypt\n"
    )
    (problem,) = at(report, "opcua_server")
    assert "listed twice" in problem.message


def test_misspelled_keys_and_bad_values_are_errors(check: Check) -> None:
    report = check(BASE_SITE + "opcua_server:\n  endpiont: opc.tcp://127.0.0.1:4840\n")
    assert at(report, "opcua_server.endpiont")
    report = check(BASE_SITE + "opcua_server:\n  endpoint: http://127.0.0.1\n")
    (problem,) = at(report, "opcua_server.endpoint")
    assert "not an opc.tcp URL" in problem.message
    report = check(BASE_SITE + "opcua_server:\n  min_publishing_interval_ms: 0\n")
    assert at(report, "opcua_server.min_publishing_interval_ms")


def test_the_models_say_what_they_mean() -> None:
    assert EndpointSecurity(policy="Aes256Sha256RsaPss", mode="Sign").label == (
        "Aes256Sha256RsaPss/Sign"
    )
    assert EndpointSecurity(policy="None").effective_mode == "None"
    assert OpcUaServerSection(security=[EndpointSecurity(policy="None")]).secured is False
    assert not is_loopback("")
