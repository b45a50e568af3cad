"""The `site`, `database` and `lines` sections of the site file."""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

from pydantic import Field, ValidationInfo, field_validator

from config.devices import DeviceConfig
from config.ebr import LineEbrConfig
from config.fields import (
    CompanyPrefix,
    Gln,
    Identifier,
    StrictModel,
    Text,
    TimeZoneName,
    Uscc,
)
from config.problems import InvalidValue

DEFAULT_DATABASE_FILE: Final = "tracegate.db"
_DATABASE_SCHEMES: Final = ("sqlite://", "postgresql://", "postgresql+psycopg://")


class SiteSection(StrictModel):
    """Who runs this plant, and the identifiers its codes are built on."""

    id: Identifier = Field(description="Short name of the site, e.g. bj-plant-1.")
    company_name: Text = Field(
        description="Legal name as on the business licence (营业执照), e.g. 北京示例制药有限公司."
    )
    company_name_en: Text | None = Field(
        default=None, description="English name, shown in the English UI and in reports."
    )
    uscc: Uscc = Field(
        description="Unified social credit code (统一社会信用代码, GB 32100), 18 characters; "
        "its check character is verified. Also the first segment of national trace codes."
    )
    gs1_company_prefix: CompanyPrefix | None = Field(
        default=None,
        description='GS1 company prefix from GS1 China (中国物品编码中心), quoted, e.g. "9501101". '
        "Its length (6-12 digits) is how long it is; products may override it.",
    )
    gln: Gln | None = Field(
        default=None,
        description="GLN of the site (13 digits, check digit verified), used as the EPCIS "
        "read point and business location.",
    )
    timezone: TimeZoneName = Field(
        description="IANA time zone of the plant, e.g. Asia/Shanghai: production and expiry "
        "dates are the plant's local dates."
    )
    serial_key_file: str | None = Field(
        default=None,
        description="Where the FF1 serial master key is kept, relative to this file (e.g. "
        "keys/serial.key). Required when a rule uses generator ff1. The key is runtime "
        "state, made with `tracegate keys create PATH`; keep it out of version control.",
    )

    audit_key_file: str | None = Field(
        default=None,
        description="Where the Ed25519 site key that signs audit checkpoints is kept, relative "
        "to this file (e.g. keys/audit.pem). Made with `tracegate audit create-key PATH`; keep "
        "it out of version control and record its public key outside the database.",
    )

    def serial_key_path(self, base_dir: Path) -> Path | None:
        if self.serial_key_file is None:
            return None
        return base_dir / self.serial_key_file

    def audit_key_path(self, base_dir: Path) -> Path | None:
        if self.audit_key_file is None:
            return None
        return base_dir / self.audit_key_file


class DatabaseSection(StrictModel):
    """Where records are kept."""

    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL: sqlite:///path (relative paths are relative to this "
        "file) or postgresql+psycopg://user@host/db. Default: sqlite file tracegate.db next "
        "to this file.",
    )

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(_DATABASE_SCHEMES):
            raise InvalidValue(
                f"unsupported database URL {value.split(':', 1)[0]!r}",
                hint="use sqlite:///tracegate.db or postgresql+psycopg://user@host/dbname",
            )
        return value

    def resolved_url(self, base_dir: Path) -> str:
        """The URL with a relative SQLite path made relative to the site file's folder."""
        if self.url is None:
            return f"sqlite:///{(base_dir / DEFAULT_DATABASE_FILE).resolve()}"
        prefix = "sqlite:///"
        if self.url.startswith(prefix):
            path = self.url.removeprefix(prefix)
            if path and path != ":memory:" and not path.startswith("/"):
                return f"{prefix}{(base_dir / path).resolve()}"
        return self.url

    def has_password(self) -> bool:
        if self.url is None or "@" not in self.url or "://" not in self.url:
            return False
        credentials = self.url.split("://", 1)[1].rsplit("@", 1)[0]
        return ":" in credentials


class CodeBufferConfig(StrictModel):
    """Codes allocated to the line ahead of the printer.

    A code is recorded as allocated before it is sent to the printer; after a crash every
    allocated-but-unseen code is reconciled. A bigger buffer rides out a slower database but
    leaves more codes to reconcile.
    """

    size: int = Field(default=1000, ge=1, description="Codes held ready for the line.")
    low_water: int = Field(
        default=250,
        ge=0,
        description="Refill when this few are left; must be below `size`.",
    )

    @field_validator("low_water")
    @classmethod
    def _below_size(cls, value: int, info: ValidationInfo) -> int:
        size = info.data.get("size")
        if isinstance(size, int) and value >= size:
            raise InvalidValue(
                f"low_water {value} must be below size {size}, or the buffer refills forever",
                hint=f"use a low_water such as {size // 4}",
            )
        return value


class LineRuntimeConfig(StrictModel):
    """How the gateway runs the line: time limits of the unit pipeline, aggregation, checks.

    The verdict deadline is the conveyor travel from the trigger sensor to the reject gate,
    less a safety margin: a verdict that cannot reach the PLC by then is a reject.
    """

    verdict_deadline_ms: float = Field(
        default=250.0,
        gt=0,
        description="Time from the unit trigger by which the PLC must have the verdict.",
    )
    reject_confirm_ms: float = Field(
        default=1500.0,
        gt=0,
        description="Time from the trigger by which the bin sensor must confirm a reject; "
        "a missed confirmation stops the line.",
    )
    case_mode: Literal["plc-count", "case-camera"] = Field(
        default="plc-count",
        description="plc-count: the PLC's case-complete signal takes the last N accepted "
        "units; case-camera: on the case-complete signal the case camera's frame of the case "
        "(unit ref case-<n>) is read and the case is recorded with exactly the units read, "
        "when every one is an accepted unit of the batch not yet in a case and the count is "
        "right; otherwise it is not recorded, an alarm is raised and its units go to rework.",
    )
    case_contents_timeout_s: float = Field(
        default=3.0,
        gt=0,
        le=60,
        description="case-camera mode: how long to wait, after the case-complete signal, for "
        "the case camera's frame of the case's contents; no frame by then refuses the case.",
    )
    units_per_case: int | None = Field(
        default=None,
        ge=1,
        description="Units in a full case; default: the product's case-level quantity.",
    )
    cases_per_pallet: int | None = Field(
        default=None,
        ge=1,
        description="Cases on a full pallet; default: the product's pallet-level quantity.",
    )
    challenge_after_stop_s: float = Field(
        default=1800.0,
        gt=0,
        description="A stop longer than this requires a new vision challenge.",
    )
    reconcile_every_s: float = Field(
        default=1.0, gt=0, description="Period of the live reconciliation check."
    )
    serial_pool_low: int = Field(
        default=100,
        ge=0,
        description="Alarm when fewer codes than this are ready for the line.",
    )
    clearance_checklist: list[Text] = Field(
        default_factory=lambda: [
            "previous batch's materials, labels and cartons removed",
            "printer and camera cleaned; no codes of another batch on the line",
            "correct product, lot and expiry loaded on the printer",
        ],
        description="Items the operator confirms at line clearance.",
    )


class LineConfig(StrictModel):
    """A packaging line: the products it may run and the devices it is built of."""

    id: Identifier = Field(description="Short name, e.g. line-1.")
    name: Text = Field(description="Name shown to operators, e.g. 1号包装线 Packaging line 1.")
    products: list[Identifier] = Field(
        min_length=1, description="Ids of the products this line may run."
    )
    code_buffer: CodeBufferConfig = Field(
        default_factory=CodeBufferConfig, description="Codes allocated ahead of printing."
    )
    runtime: LineRuntimeConfig = Field(
        default_factory=LineRuntimeConfig,
        description="Time limits, aggregation and checks of the line runtime.",
    )
    devices: list[DeviceConfig] = Field(
        default_factory=list,
        description="The line's PLC, printers, cameras, scanners and Modbus devices, each "
        "with its kind (transport) and role.",
    )
    ebr: LineEbrConfig = Field(
        default_factory=LineEbrConfig,
        description="What the line records in the batch record on its own: process "
        "parameters, in-process checks, counts and yield.",
    )
