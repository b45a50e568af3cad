"""The `opcua_server` section: the gateway's own OPC UA server for the upstream MES.

Absent means no server. Security policy None is refused unless the endpoint's host is a
loopback address: without security anyone on the network could read the records and see the
passwords of the accounts that log on.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Final, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from config.fields import StrictModel, Text
from config.problems import Finding, InvalidValue, Severity

DEFAULT_PORT: Final = 4840
LOOPBACK_NAMES: Final = frozenset({"localhost"})


class EndpointSecurity(StrictModel):
    """One security policy and mode the server offers its clients."""

    policy: Literal["None", "Basic256Sha256", "Aes256Sha256RsaPss"] = Field(
        description="None (loopback endpoints only), Basic256Sha256 or Aes256Sha256RsaPss."
    )
    mode: Literal["Sign", "SignAndEncrypt"] | None = Field(
        default=None,
        description="Sign or SignAndEncrypt for a secured policy (default SignAndEncrypt); "
        "leave it out with policy None.",
    )

    @model_validator(mode="after")
    def _mode_fits_policy(self) -> EndpointSecurity:
        if self.policy == "None" and self.mode is not None:
            raise InvalidValue(
                f"policy None has no mode, but mode {self.mode} is given",
                hint="remove mode:, or choose policy Basic256Sha256 or Aes256Sha256RsaPss",
            )
        return self

    @property
    def effective_mode(self) -> str:
        """The message security mode: None with policy None, SignAndEncrypt by default."""
        if self.policy == "None":
            return "None"
        return self.mode or "SignAndEncrypt"

    @property
    def label(self) -> str:
        return "None" if self.policy == "None" else f"{self.policy}/{self.effective_mode}"


def _default_security() -> list[EndpointSecurity]:
    return [
        EndpointSecurity(policy="Basic256Sha256", mode="SignAndEncrypt"),
        EndpointSecurity(policy="Aes256Sha256RsaPss", mode="SignAndEncrypt"),
    ]


class OpcUaServerSection(StrictModel):
    """The gateway's OPC UA server, from which the upstream MES pulls records (docs/opcua.md)."""

    endpoint: Text = Field(
        default=f"opc.tcp://127.0.0.1:{DEFAULT_PORT}",
        description="opc.tcp://host:port the server listens on; the host is the address to "
        "bind (0.0.0.0 for every interface).",
    )
    security: list[EndpointSecurity] = Field(
        default_factory=_default_security,
        min_length=1,
        description="Policies and modes offered, one endpoint each. Default: Basic256Sha256 and "
        "Aes256Sha256RsaPss with SignAndEncrypt. None only on a loopback endpoint.",
    )
    certificate: Text = Field(
        default="pki/server.der",
        description="The server's application certificate (DER), relative to this file; made "
        "with `tracegate certs create --config FILE`.",
    )
    private_key: Text = Field(
        default="pki/server.key.pem",
        description="Its private key (PEM), relative to this file; readable by the gateway only.",
    )
    trust_dir: Text = Field(
        default="pki/trusted",
        description="Folder of trusted client certificates, relative to this file; a client "
        "whose certificate is not in it is refused.",
    )
    rejected_dir: Text = Field(
        default="pki/rejected",
        description="Folder where refused client certificates are written, relative to this "
        "file; `tracegate certs trust` moves one into trust_dir.",
    )
    min_publishing_interval_ms: float = Field(
        default=100.0,
        ge=1,
        le=60_000,
        description="Shortest publishing interval granted to a subscription; a client asking "
        "for less gets this.",
    )
    allow_anonymous: bool = Field(
        default=False,
        description="Let clients read without logging on (never the methods that change "
        "anything). Default: every session logs on with a gateway account.",
    )

    @field_validator("endpoint")
    @classmethod
    def _opc_tcp(cls, value: str) -> str:
        host, _port = endpoint_host_port(value)
        if not host:
            raise InvalidValue(
                f"endpoint {value!r} has no host", hint="e.g. opc.tcp://127.0.0.1:4840"
            )
        return value

    @model_validator(mode="after")
    def _none_only_on_loopback(self) -> OpcUaServerSection:
        host, _port = endpoint_host_port(self.endpoint)
        if any(s.policy == "None" for s in self.security) and not is_loopback(host):
            raise InvalidValue(
                f"security policy None on {host}, which is not a loopback address",
                hint="use Basic256Sha256 or Aes256Sha256RsaPss, or serve on 127.0.0.1 only",
            )
        labels = [s.label for s in self.security]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise InvalidValue(
                f"security {', '.join(repeated)} is listed twice", hint="list each endpoint once"
            )
        return self

    @property
    def secured(self) -> bool:
        """Whether any endpoint needs the server certificate."""
        return any(s.policy != "None" for s in self.security)


def endpoint_host_port(endpoint: str) -> tuple[str, int]:
    """Host and port of an opc.tcp URL (port 4840 when not given); InvalidValue otherwise."""
    if not endpoint.startswith("opc.tcp://"):
        raise InvalidValue(
            f"endpoint {endpoint!r} is not an opc.tcp URL", hint="e.g. opc.tcp://127.0.0.1:4840"
        )
    parts = urlsplit(endpoint)
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise InvalidValue(
            f"endpoint {endpoint!r} has no valid port", hint="a port is 1-65535, e.g. :4840"
        ) from None
    return parts.hostname or "", port


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_opcua_server(
    section: OpcUaServerSection | None, base_dir: Path | None
) -> Iterator[Finding]:
    """Warnings for what the server needs on disk before it can offer secured endpoints."""
    if section is None or base_dir is None or not section.secured:
        return
    hint = "run `tracegate certs create --config FILE`"
    for key in ("certificate", "private_key"):
        path = base_dir / getattr(section, key)
        if not path.is_file():
            yield Finding(
                ("opcua_server", key),
                f"{path} does not exist; the secured endpoints cannot start without it",
                hint,
                Severity.WARNING,
            )
