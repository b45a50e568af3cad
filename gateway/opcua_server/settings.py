"""What the server is built from: its settings and the site it describes, as plain data.

Both come from the site file (`from_site_config`) or, in tests and benches, straight from the
constructors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from config import SiteConfig
from config.opcua_server import OpcUaServerSection, endpoint_host_port

MAX_PAGE_RECORDS: Final = 10_000
MAX_PAGE_BYTES: Final = 2 * 1024 * 1024
"""A GetRecords page stops before this much JSON: well inside the 4 MiB message size common
OPC UA stacks accept by default."""


class ServerNotConfiguredError(LookupError):
    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True, slots=True)
class ServerSettings:
    site_id: str
    endpoint: str = "opc.tcp://127.0.0.1:4840"
    security: tuple[tuple[str, str], ...] = (("None", "None"),)
    """(policy, mode) per endpoint: ("None", "None"), ("Basic256Sha256", "SignAndEncrypt"), …"""
    certificate: Path | None = None
    private_key: Path | None = None
    trust_dir: Path | None = None
    rejected_dir: Path | None = None
    min_publishing_interval_ms: float = 100.0
    allow_anonymous: bool = False
    max_page_records: int = MAX_PAGE_RECORDS
    max_page_bytes: int = MAX_PAGE_BYTES

    @property
    def namespace_uri(self) -> str:
        return f"urn:tracegate:{self.site_id}"

    @property
    def application_uri(self) -> str:
        """Also the URI in the server certificate's subjectAltName."""
        return f"urn:tracegate:{self.site_id}:opcua-server"

    @property
    def host(self) -> str:
        return endpoint_host_port(self.endpoint)[0]

    @property
    def secured(self) -> bool:
        return any(policy != "None" for policy, _mode in self.security)


@dataclass(frozen=True, slots=True)
class DeviceModel:
    id: str
    role: str


@dataclass(frozen=True, slots=True)
class LineModel:
    id: str
    name: str
    devices: tuple[DeviceModel, ...] = ()


@dataclass(frozen=True, slots=True)
class SiteModel:
    id: str
    company_name: str = ""
    gln: str | None = None
    lines: tuple[LineModel, ...] = field(default_factory=tuple)


def server_section(config: SiteConfig) -> OpcUaServerSection:
    if config.opcua_server is None:
        raise ServerNotConfiguredError(
            "the site file has no opcua_server section",
            hint="add opcua_server: (docs/site-file.md) to serve records to the MES",
        )
    return config.opcua_server


def settings_from_config(config: SiteConfig) -> ServerSettings:
    section = server_section(config)
    base = config.base_dir
    return ServerSettings(
        site_id=config.site.id,
        endpoint=section.endpoint,
        security=tuple((s.policy, s.effective_mode) for s in section.security),
        certificate=(base / section.certificate).resolve(),
        private_key=(base / section.private_key).resolve(),
        trust_dir=(base / section.trust_dir).resolve(),
        rejected_dir=(base / section.rejected_dir).resolve(),
        min_publishing_interval_ms=section.min_publishing_interval_ms,
        allow_anonymous=section.allow_anonymous,
    )


def site_model_from_config(config: SiteConfig) -> SiteModel:
    return SiteModel(
        id=config.site.id,
        company_name=config.site.company_name,
        gln=config.site.gln,
        lines=tuple(
            LineModel(
                line.id,
                line.name,
                tuple(DeviceModel(device.id, device.role) for device in line.devices),
            )
            for line in config.lines
        ),
    )
