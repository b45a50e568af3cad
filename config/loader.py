"""Loading a site file, in two stages, reporting every problem with its line.

Stage one validates each entry on its own (the site, the database, each rule, product and
line), so that one bad entry does not hide the others. Stage two (`config.crosscheck`) checks
what entries say about each other. Nothing is dropped: a file with any error gives no config.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ValidationError

from config.coding_rules import RULE_MODELS, RuleConfig
from config.crosscheck import Parsed, cross_check
from config.fields import close_match_hint
from config.opcua_server import OpcUaServerSection
from config.operations import AuditSection, MaintenanceSection
from config.problems import (
    CheckReport,
    ConfigError,
    Finding,
    Loc,
    Problem,
    format_location,
    sort_problems,
)
from config.products import ProductConfig
from config.sections import DatabaseSection, LineConfig, SiteSection
from config.site import SiteConfig
from config.translate import translate
from config.uplinks import UplinksSection
from config.yamlsource import SourceMap, YamlDocument, parse_yaml_text, read_yaml_file

_SECTIONS: Final = list(SiteConfig.model_fields)
_VERSION: Final = 1

M = TypeVar("M", bound=BaseModel)


def load_site(path: str | os.PathLike[str]) -> SiteConfig:
    """The site file at `path`, validated; `ConfigError` listing every problem otherwise."""
    report = check_site_file(path)
    if report.config is None:
        raise ConfigError(report.path, report.problems)
    return report.config


def check_site_file(path: str | os.PathLike[str]) -> CheckReport:
    """Every error and warning in the site file at `path`; never raises for bad content."""
    site_path = Path(path)
    return _report(str(site_path), read_yaml_file(site_path), site_path)


def check_site_text(
    text: str, *, name: str = "<site>", base_dir: Path | None = None
) -> CheckReport:
    """Like `check_site_file`, for YAML text; files it names are looked up under `base_dir`."""
    source = None if base_dir is None else base_dir / name
    return _report(name, parse_yaml_text(text), source)


def _report(name: str, document: YamlDocument, source: Path | None) -> CheckReport:
    problems = list(document.problems)
    config = None
    if document.data is not None or not problems:
        parsed, findings = _validate(document.data, document.source, source)
        problems += _place(findings, document.source)
        if parsed is not None and not any(p.is_error for p in problems):
            config = SiteConfig.assemble(parsed, source)
    return CheckReport(name, sort_problems(problems), config)


def _place(findings: Iterable[Finding], source: SourceMap) -> list[Problem]:
    return [
        Problem(format_location(f.loc), source.line(f.loc), f.message, f.hint, f.severity)
        for f in findings
    ]


def _validate(
    data: object, source: SourceMap, site_path: Path | None
) -> tuple[Parsed | None, list[Finding]]:
    if not isinstance(data, dict):
        return None, [
            Finding(
                (),
                "the file must be a mapping with the sections site:, coding_rules:, products: "
                "and lines:",
                "start from config/examples/site-minimal.yaml",
            )
        ]
    findings: list[Finding] = []
    for key in data:
        if key not in _SECTIONS:
            hint = close_match_hint(key, _SECTIONS) or f"the sections are {', '.join(_SECTIONS)}"
            findings.append(Finding((str(key),), f"unknown section {key!r}", hint))
    version = data.get("version", _VERSION)
    if version != _VERSION or isinstance(version, bool):
        findings.append(
            Finding(("version",), f"unsupported version {version!r}", "this gateway reads 1")
        )
    check = _Checker(source, findings)
    if "site" in data:
        site = check.one(SiteSection, data["site"], ("site",))
    else:
        findings.append(
            Finding(("site",), "required, but missing", "add site: with id, company_name, …")
        )
        site = None
    database = check.one(DatabaseSection, data.get("database", {}), ("database",))
    raw_rules = check.entries(data, "coding_rules")
    raw_products = check.entries(data, "products")
    raw_lines = check.entries(data, "lines")
    parsed = Parsed(
        site=site,
        database=database,
        rules=[check.rule(raw, ("coding_rules", i)) for i, raw in enumerate(raw_rules)],
        products=[
            check.one(ProductConfig, raw, ("products", i)) for i, raw in enumerate(raw_products)
        ],
        lines=[check.one(LineConfig, raw, ("lines", i)) for i, raw in enumerate(raw_lines)],
        rule_ids=[_written_id(raw) for raw in raw_rules],
        product_ids=[_written_id(raw) for raw in raw_products],
        line_ids=[_written_id(raw) for raw in raw_lines],
        base_dir=None if site_path is None else site_path.parent,
        audit=check.one(AuditSection, data.get("audit", {}), ("audit",)),
        maintenance=check.one(MaintenanceSection, data.get("maintenance", {}), ("maintenance",)),
        opcua_server=(
            check.one(OpcUaServerSection, data["opcua_server"] or {}, ("opcua_server",))
            if "opcua_server" in data
            else None
        ),
        uplinks=(
            check.one(UplinksSection, data["uplinks"] or {}, ("uplinks",))
            if "uplinks" in data
            else None
        ),
    )
    findings.extend(cross_check(parsed))
    return parsed, findings


def _written_id(raw: object) -> str | None:
    if isinstance(raw, dict):
        value = raw.get("id")
        if isinstance(value, str):
            return value
    return None


class _Checker:
    """First-stage validation of single entries, collecting findings as it goes."""

    def __init__(self, source: SourceMap, findings: list[Finding]) -> None:
        self.source = source
        self.findings = findings

    def one(self, model: type[M], raw: object, loc: Loc) -> M | None:
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            self.findings.extend(translate(exc, loc, model, self.source))
            return None

    def rule(self, raw: object, loc: Loc) -> RuleConfig | None:
        if not isinstance(raw, dict):
            self.findings.append(Finding(loc, "must be a mapping of key: value lines"))
            return None
        schemes = list(RULE_MODELS)
        if "scheme" not in raw:
            self.findings.append(
                Finding((*loc, "scheme"), "required, but missing", f"one of {', '.join(schemes)}")
            )
            return None
        scheme = raw["scheme"]
        model = RULE_MODELS.get(scheme) if isinstance(scheme, str) else None
        if model is None:
            self.findings.append(
                Finding(
                    (*loc, "scheme"),
                    f"{scheme!r} is not one of: {', '.join(schemes)}",
                    close_match_hint(scheme, schemes),
                )
            )
            return None
        return self.one(model, raw, loc)

    def entries(self, data: dict[Any, Any], key: str) -> list[object]:
        raw = data.get(key, [])
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.findings.append(
                Finding((key,), "must be a list", "write each entry on its own line, after '- '")
            )
            return []
        return raw
