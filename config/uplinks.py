"""The `uplinks` section: where records go upward (docs/uplinks.md).

Absent means no outbox and no uplink. Every destination gets every message; each has its own
stream (sequence, hash chain) in the outbox and its own dispatcher.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Final, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from config.fields import Identifier, StrictModel, Text
from config.problems import Finding, InvalidValue, Severity
from config.sections import SiteSection

GIB: Final = 1024**3


class OutboxSection(StrictModel):
    """How much the outbox may hold while the uplinks are down."""

    max_rows: int = Field(
        default=5_000_000,
        ge=1000,
        description="Most messages kept (all destinations together). 5,000,000 is about 5.8 "
        "days of a 600 units/min line with one destination.",
    )
    max_gib: float = Field(
        default=4.0,
        gt=0,
        description="Most GiB of message bodies kept (the database file grows by about 2.4 "
        "times this, indexes and headers included).",
    )
    high_water: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="Share of either limit at which OUTBOX_HIGH_WATER is raised.",
    )

    @property
    def max_bytes(self) -> int:
        return int(self.max_gib * GIB)


class RetrySection(StrictModel):
    """How a destination that is down is tried again: capped exponential backoff, jittered."""

    initial_s: float = Field(default=0.5, gt=0, le=60, description="First wait, seconds.")
    max_s: float = Field(default=30.0, gt=0, le=3600, description="Longest wait, seconds.")


class _Destination(StrictModel):
    id: Identifier = Field(description="Name of the destination (at most 32 characters).")
    page: int = Field(
        default=500, ge=1, le=10_000, description="Messages read from the outbox at a time."
    )

    @field_validator("id")
    @classmethod
    def _short(cls, value: str) -> str:
        if len(value) > 32:
            raise InvalidValue(
                f"destination id {value!r} is {len(value)} characters long",
                hint="use at most 32 characters",
            )
        return value


class EpcisHttpDestination(_Destination):
    """An EPCIS 2.0 repository's REST capture interface."""

    type: Literal["epcis-http"] = Field(description="epcis-http")
    url: Text = Field(description="Base URL of the repository; events are POSTed to {url}/capture.")
    events_per_document: int = Field(
        default=500, ge=1, le=10_000, description="Events per capture document."
    )
    timeout_s: float = Field(default=10.0, gt=0, le=300, description="Per HTTP request.")
    job_timeout_s: float = Field(
        default=60.0, gt=0, le=3600, description="How long a capture job may run."
    )
    token_file: str | None = Field(
        default=None,
        description="File holding a bearer token, relative to the site file; keep it out of "
        "version control.",
    )

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidValue(
                f"{value!r} is not an http(s) URL",
                hint="write the repository's base URL, e.g. https://epcis.example.com/api",
            )
        return value


class MqttDestination(_Destination):
    """An MQTT broker: EPCIS events with QoS 1, and Sparkplug B-style telemetry."""

    type: Literal["mqtt"] = Field(description="mqtt")
    host: Text = Field(description="The broker's host name or address.")
    port: int = Field(default=1883, ge=1, le=65535, description="The broker's port.")
    topic_prefix: Text = Field(
        default="tracegate", description="First level of every topic the gateway publishes."
    )
    node_id: Identifier = Field(
        default="gateway", description="The gateway's name in the state topics (NBIRTH…)."
    )
    client_id: str | None = Field(default=None, description="MQTT client id; default derived.")
    username: str | None = Field(default=None, description="User name at the broker.")
    password_file: str | None = Field(
        default=None, description="File holding the password, relative to the site file."
    )
    telemetry_every_s: float = Field(
        default=10.0, gt=0, le=3600, description="How often NDATA telemetry is published."
    )


class SiteDatabaseDestination(_Destination):
    """A site server's database, receiving the events in its `tracegate_epcis_events` table."""

    type: Literal["site-database"] = Field(description="site-database")
    url: Text = Field(
        description="SQLAlchemy URL, e.g. postgresql+psycopg://tracegate@site-server/records."
    )

    @field_validator("url")
    @classmethod
    def _database(cls, value: str) -> str:
        if not value.startswith(("postgresql://", "postgresql+psycopg://", "sqlite://")):
            raise InvalidValue(
                f"{value!r} is not a PostgreSQL URL",
                hint="write postgresql+psycopg://USER@HOST/DATABASE",
            )
        return value


Destination = Annotated[
    EpcisHttpDestination | MqttDestination | SiteDatabaseDestination,
    Field(discriminator="type"),
]


class UplinksSection(StrictModel):
    """Records pushed upward through the outbox (store and forward, R-INT-1)."""

    destinations: list[Destination] = Field(
        min_length=1, description="Where messages go: epcis-http, mqtt or site-database."
    )
    outbox: OutboxSection = Field(default_factory=OutboxSection, description="The outbox's limits.")
    retry: RetrySection = Field(
        default_factory=RetrySection, description="Backoff of a destination that is down."
    )
    id_base: str | None = Field(
        default=None,
        description="Base URI of codes that are not GS1 keys (see docs/epcis.md); default "
        "urn:tracegate. Keep one per site: the event IDs depend on it.",
    )

    @model_validator(mode="after")
    def _unique_ids(self) -> UplinksSection:
        ids = [destination.id for destination in self.destinations]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise InvalidValue(
                f"destination id {', '.join(twice)} is used more than once",
                hint="give every destination its own id",
            )
        return self


def check_uplinks(
    section: UplinksSection | None, site: SiteSection | None, base_dir: Path | None
) -> Iterator[Finding]:
    """EPCIS needs the site's GLN and company prefix; secret files must exist."""
    if section is None:
        return
    if site is not None and (site.gln is None or site.gs1_company_prefix is None):
        yield Finding(
            ("uplinks",),
            "uplinks send EPCIS events, whose read point is the site's GLN, but the site has "
            "no gln or gs1_company_prefix",
            "add site.gln and site.gs1_company_prefix",
        )
    if base_dir is None:
        return
    for index, destination in enumerate(section.destinations):
        name = getattr(destination, "token_file", None) or getattr(
            destination, "password_file", None
        )
        key = "token_file" if getattr(destination, "token_file", None) else "password_file"
        if name is not None and not (base_dir / name).is_file():
            yield Finding(
                ("uplinks", "destinations", index, key),
                f"{base_dir / name} does not exist",
                "create it, or remove the key",
                Severity.WARNING,
            )
