"""How to reach one OPC UA server: endpoint, security, identity, trust and timing.

Plain frozen data, validated on construction: a combination that cannot work, or that would
quietly weaken security, raises `UsageError` with a hint instead of failing at connect time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from drivers.base import UsageError


class SecurityPolicy(StrEnum):
    NONE = "None"
    BASIC256SHA256 = "Basic256Sha256"
    AES256_SHA256_RSAPSS = "Aes256Sha256RsaPss"


class SecurityMode(StrEnum):
    NONE = "None"
    SIGN = "Sign"
    SIGN_AND_ENCRYPT = "SignAndEncrypt"


class Identity(StrEnum):
    ANONYMOUS = "anonymous"
    USERNAME = "username"
    CERTIFICATE = "certificate"


MAX_RECONNECT_CAP_S = 5.0


@dataclass(frozen=True, slots=True)
class OpcUaSettings:
    name: str
    endpoint: str
    """`opc.tcp://host:port[/path]`."""
    policy: SecurityPolicy = SecurityPolicy.NONE
    mode: SecurityMode = SecurityMode.NONE
    identity: Identity = Identity.ANONYMOUS
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    client_certificate: Path | None = None
    """Application instance certificate (DER or PEM); the identity too with identity=certificate."""
    client_private_key: Path | None = None
    trusted_server_certificates: tuple[Path, ...] = ()
    trust_directory: Path | None = None
    """Every `.der`/`.pem`/`.crt` file in it is a trusted server certificate."""
    application_uri: str = "urn:tracegate:gateway"
    tags: Mapping[str, str] = field(default_factory=dict)
    """Optional aliases: tag name → NodeId string. Unlisted names are NodeId strings themselves."""
    connect_timeout_s: float = 5.0
    request_timeout_s: float = 2.0
    watchdog_interval_s: float = 0.5
    """Keepalive probe period; a dead peer is noticed within about twice this."""
    publishing_interval_ms: float = 100.0
    stale_after_s: float = 2.0
    """A subscription with no notification or keepalive for this long reports its tags STALE."""
    reconnect_initial_s: float = 0.2
    reconnect_cap_s: float = 2.0
    """Longest wait between reconnect attempts (at most 5 s): a returning peer is used again
    within about this long after it listens."""

    def __post_init__(self) -> None:
        _check(self)

    @property
    def secured(self) -> bool:
        return self.policy is not SecurityPolicy.NONE

    def node_id(self, tag: str) -> str:
        return self.tags.get(tag, tag)


def _fail(settings: OpcUaSettings, what: str, hint: str) -> UsageError:
    return UsageError(f"OPC UA settings: {what}", device=settings.name or None, hint=hint)


def _check(s: OpcUaSettings) -> None:
    if not s.name:
        raise _fail(s, "name is empty", "give every device a unique name")
    if not s.endpoint.startswith("opc.tcp://") or len(s.endpoint) <= len("opc.tcp://"):
        raise _fail(
            s, f"endpoint {s.endpoint!r} is not an opc.tcp URL", "e.g. opc.tcp://10.0.0.5:4840"
        )
    if (s.policy is SecurityPolicy.NONE) != (s.mode is SecurityMode.NONE):
        raise _fail(
            s,
            f"policy {s.policy.value} with mode {s.mode.value}",
            "policy None goes with mode None; Basic256Sha256 / Aes256Sha256RsaPss need Sign or "
            "SignAndEncrypt",
        )
    if s.secured:
        if s.client_certificate is None or s.client_private_key is None:
            raise _fail(
                s,
                f"policy {s.policy.value} without a client certificate and private key",
                "set client_certificate and client_private_key",
            )
        if not s.trusted_server_certificates and s.trust_directory is None:
            raise _fail(
                s,
                f"policy {s.policy.value} without a trust list",
                "set trusted_server_certificates or trust_directory; server certificates are never "
                "trusted silently",
            )
    if s.identity is Identity.USERNAME:
        if not s.username or s.password is None:
            raise _fail(s, "identity username without username and password", "set both")
        if s.mode is not SecurityMode.SIGN_AND_ENCRYPT:
            raise _fail(
                s,
                f"username identity over mode {s.mode.value}",
                "use mode SignAndEncrypt so the password never crosses the wire readable",
            )
    elif s.username is not None or s.password is not None:
        raise _fail(
            s, f"username/password given with identity {s.identity.value}", "set identity username"
        )
    if s.identity is Identity.CERTIFICATE and (
        not s.secured or s.client_certificate is None or s.client_private_key is None
    ):
        raise _fail(
            s,
            "certificate identity needs a secured channel and a client certificate with its key",
            "use Basic256Sha256 or Aes256Sha256RsaPss and set the client certificate and key",
        )
    for label, value in (
        ("connect_timeout_s", s.connect_timeout_s),
        ("request_timeout_s", s.request_timeout_s),
        ("watchdog_interval_s", s.watchdog_interval_s),
        ("publishing_interval_ms", s.publishing_interval_ms),
        ("stale_after_s", s.stale_after_s),
        ("reconnect_initial_s", s.reconnect_initial_s),
        ("reconnect_cap_s", s.reconnect_cap_s),
    ):
        if not value > 0:
            raise _fail(s, f"{label} = {value}", "must be a positive number")
    if s.reconnect_cap_s > MAX_RECONNECT_CAP_S:
        raise _fail(
            s,
            f"reconnect_cap_s = {s.reconnect_cap_s}",
            f"at most {MAX_RECONNECT_CAP_S} s, so a returning peer is used again within 5 s",
        )
    if s.stale_after_s * 1000 <= s.publishing_interval_ms:
        raise _fail(
            s,
            f"stale_after_s {s.stale_after_s} is not longer than the publishing interval",
            "make stale_after_s a few publishing intervals long",
        )
