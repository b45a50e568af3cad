"""`SiteConfig`: the validated site file, and what the rest of the gateway asks of it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, PrivateAttr, model_validator

from config.coding_rules import CodingRuleConfig, NationalRuleConfig, RuleConfig, SsccRuleConfig
from config.crosscheck import Parsed, cross_check
from config.fields import StrictModel
from config.opcua_server import OpcUaServerSection
from config.operations import AuditSection, MaintenanceSection
from config.problems import InvalidValue, Severity, format_location
from config.products import ProductConfig
from config.resolve import company_prefix, gtin14, month_only_expiry, sscc_serial_length
from config.sections import DatabaseSection, LineConfig, SiteSection
from config.uplinks import UplinksSection
from serialization.national import NationalCodeFormat
from serialization.rules import CodingRule, NationalIdentity, PackagingLevel, ProductMaster


class NotConfiguredError(LookupError):
    """Asked for a product, level, rule or line the site file does not have.

    The gateway refuses to code what is not configured (R-CODE-5), so callers let this stop
    the operation and show it.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class SiteConfig(StrictModel):
    """A whole site file: the plant, its coding rules, products and lines.

    Build one with `config.load_site`, which also says where in the file each problem is.
    `SiteConfig.model_validate` works too (cross-item checks included), without line numbers.
    """

    version: Literal[1] = Field(default=1, description="Version of the site file format: 1.")
    site: SiteSection = Field(description="The plant and the company that runs it.")
    database: DatabaseSection = Field(
        default_factory=DatabaseSection, description="Where records are kept."
    )
    coding_rules: list[CodingRuleConfig] = Field(
        default_factory=list, description="How codes are built, one entry per filed rule."
    )
    products: list[ProductConfig] = Field(
        default_factory=list, description="Products and their coded packaging levels."
    )
    lines: list[LineConfig] = Field(
        default_factory=list, description="Packaging lines and the products each may run."
    )
    audit: AuditSection = Field(
        default_factory=AuditSection, description="When audit checkpoints are signed."
    )
    maintenance: MaintenanceSection = Field(
        default_factory=MaintenanceSection,
        description="Periodic work: clock checks against the time source, backups.",
    )
    opcua_server: OpcUaServerSection | None = Field(
        default=None,
        description="The gateway's OPC UA server for the upstream MES; absent: no server.",
    )
    uplinks: UplinksSection | None = Field(
        default=None,
        description="Where records go upward through the outbox; absent: nowhere.",
    )

    _base_dir: Path = PrivateAttr(default=Path())
    _source: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _consistent(self) -> SiteConfig:
        errors = [f for f in cross_check(self.parsed()) if f.severity is Severity.ERROR]
        if errors:
            raise InvalidValue(
                "; ".join(f"{format_location(f.loc)}: {f.message}" for f in errors),
                hint="run `tracegate check-config FILE` for every problem with its line",
            )
        return self

    @classmethod
    def assemble(cls, parsed: Parsed, source: Path | None = None) -> SiteConfig:
        """The config from entries that all passed both stages (no re-validation)."""
        assert parsed.site is not None
        assert parsed.database is not None
        config = cls.model_construct(
            site=parsed.site,
            database=parsed.database,
            coding_rules=[rule for rule in parsed.rules if rule is not None],
            products=[product for product in parsed.products if product is not None],
            lines=[line for line in parsed.lines if line is not None],
            audit=parsed.audit or AuditSection(),
            maintenance=parsed.maintenance or MaintenanceSection(),
            opcua_server=parsed.opcua_server,
            uplinks=parsed.uplinks,
        )
        if source is not None:
            config._source = source
            config._base_dir = source.parent
        return config

    def parsed(self) -> Parsed:
        return Parsed(
            site=self.site,
            database=self.database,
            rules=self.coding_rules,
            products=self.products,
            lines=self.lines,
            rule_ids=[rule.id for rule in self.coding_rules],
            product_ids=[product.id for product in self.products],
            line_ids=[line.id for line in self.lines],
            audit=self.audit,
            maintenance=self.maintenance,
            opcua_server=self.opcua_server,
            uplinks=self.uplinks,
        )

    @property
    def source(self) -> Path | None:
        """The site file this was loaded from."""
        return self._source

    @property
    def base_dir(self) -> Path:
        """The site file's folder: relative paths in the file are relative to it."""
        return self._base_dir

    @property
    def database_url(self) -> str:
        return self.database.resolved_url(self._base_dir)

    @property
    def serial_key_path(self) -> Path | None:
        """The FF1 master key file, as an absolute path; None when not configured."""
        path = self.site.serial_key_path(self._base_dir)
        return None if path is None else path.resolve()

    @property
    def audit_key_path(self) -> Path | None:
        """The audit checkpoint signing key file, absolute; None when not configured."""
        path = self.site.audit_key_path(self._base_dir)
        return None if path is None else path.resolve()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.site.timezone)

    def coding_rule(self, rule_id: str) -> RuleConfig:
        for rule in self.coding_rules:
            if rule.id == rule_id:
                return rule
        raise NotConfiguredError(
            f"coding rule {rule_id!r} is not configured",
            hint=f"configured rules: {', '.join(r.id for r in self.coding_rules) or 'none'}",
        )

    def product(self, product_id: str) -> ProductConfig:
        for product in self.products:
            if product.id == product_id:
                return product
        raise NotConfiguredError(
            f"product {product_id!r} is not configured",
            hint="add it to products: in the site file",
        )

    def line(self, line_id: str) -> LineConfig:
        for line in self.lines:
            if line.id == line_id:
                return line
        raise NotConfiguredError(
            f"line {line_id!r} is not configured",
            hint=f"configured lines: {', '.join(x.id for x in self.lines) or 'none'}",
        )

    def product_master(self, product_id: str) -> ProductMaster:
        """Master data as `serialization` uses it; the GTIN as 14 digits, as AI (01) takes it."""
        product = self.product(product_id)
        national = None
        if product.national is not None:
            national = NationalIdentity(
                uscc=self.site.uscc,
                product_class=product.national.product_class,
                origin=product.national.origin,
            )
        return ProductMaster(
            id=product.id,
            name=product.name,
            gtin=None if product.gtin is None else gtin14(product.gtin),
            company_prefix=company_prefix(product, self.site),
            nmpa_drug_id=product.nmpa_drug_id,
            national=national,
            template_values=dict(product.template_values),
        )

    def product_masters(self) -> dict[str, ProductMaster]:
        return {product.id: self.product_master(product.id) for product in self.products}

    def rule_for(self, product_id: str, level: PackagingLevel | str) -> CodingRule:
        """The coding rule of one product level, resolved for that product.

        For an SSCC rule the serial reference length is filled in from the product's company
        prefix (16 minus its length).
        """
        product = self.product(product_id)
        entry = product.level(PackagingLevel(level).value)
        if entry is None:
            raise NotConfiguredError(
                f"product {product_id!r} has no {PackagingLevel(level).value} level",
                hint=f"its levels are {', '.join(e.level for e in product.levels)}",
            )
        rule = self.coding_rule(entry.coding_rule)
        if isinstance(rule, SsccRuleConfig):
            prefix = company_prefix(product, self.site)
            assert prefix is not None, "checked when the site file was loaded"
            return rule.to_rule(sscc_serial_length(prefix))
        return rule.to_rule()

    def levels_of(self, product_id: str) -> list[tuple[PackagingLevel, CodingRule, int | None]]:
        """Each coded level of a product, smallest first: level, resolved rule, quantity."""
        product = self.product(product_id)
        return [
            (PackagingLevel(entry.level), self.rule_for(product_id, entry.level), entry.quantity)
            for entry in product.levels
        ]

    def expiry_for(self, product_id: str, production_date: date) -> date:
        """Expiry of a batch produced on `production_date` (see `ExpiryConfig`)."""
        product = self.product(product_id)
        if product.expiry is None:
            raise NotConfiguredError(
                f"product {product_id!r} has no shelf life configured",
                hint="add expiry: {months: N} to the product",
            )
        rules = {rule.id: rule for rule in self.coding_rules}
        month_only = month_only_expiry(product, rules)
        return product.expiry.expiry_for(production_date, month_only=month_only)

    def product_ids_on_line(self, line_id: str) -> tuple[str, ...]:
        return tuple(self.line(line_id).products)

    def national_format(self, rule_id: str) -> NationalCodeFormat:
        rule = self.coding_rule(rule_id)
        if not isinstance(rule, NationalRuleConfig):
            raise NotConfiguredError(f"coding rule {rule_id!r} is not a national rule")
        return rule.format.to_format()
