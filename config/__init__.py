"""The site configuration: one YAML file describing a plant, its coding rules, products, lines.

`load_site` gives a `SiteConfig` or raises `ConfigError` listing every problem; `check_site_file`
reports errors and warnings without raising (`tracegate check-config FILE`). Each `Problem`
points at a key of the file (``products[2].gtin``) and its line; `format_problem` prints it.
"""

from config.coding_rules import (
    CodingRuleConfig,
    Gs1RuleConfig,
    NationalRuleConfig,
    Nmpa20RuleConfig,
    RuleConfig,
    SsccRuleConfig,
    TemplateRuleConfig,
)
from config.loader import check_site_file, check_site_text, load_site
from config.problems import CheckReport, ConfigError, Problem, Severity, format_problem
from config.products import LevelConfig, ProductConfig
from config.sections import LineConfig, SiteSection
from config.site import NotConfiguredError, SiteConfig

__all__ = [
    "CheckReport",
    "CodingRuleConfig",
    "ConfigError",
    "Gs1RuleConfig",
    "LevelConfig",
    "LineConfig",
    "NationalRuleConfig",
    "Nmpa20RuleConfig",
    "NotConfiguredError",
    "Problem",
    "ProductConfig",
    "RuleConfig",
    "Severity",
    "SiteConfig",
    "SiteSection",
    "SsccRuleConfig",
    "TemplateRuleConfig",
    "check_site_file",
    "check_site_text",
    "format_problem",
    "load_site",
]
