"""Values derived from more than one section, computed the same way by checks and helpers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from config.coding_rules import Gs1RuleConfig, RuleConfig
from config.products import ProductConfig
from config.sections import SiteSection

SSCC_BODY: Final = 16
"""Company prefix + serial reference of an SSCC (extension digit and check digit aside)."""


def company_prefix(product: ProductConfig, site: SiteSection | None) -> str | None:
    if product.company_prefix is not None:
        return product.company_prefix
    return None if site is None else site.gs1_company_prefix


def sscc_serial_length(prefix: str) -> int:
    return SSCC_BODY - len(prefix)


def gtin14(gtin: str) -> str:
    return gtin.rjust(14, "0")


def under_prefix(gtin: str, prefix: str) -> bool:
    """Whether a GTIN lies under a company prefix: after the indicator digit it starts with it.

    A GTIN-8 is allocated one by one from its own number space, not under a company prefix,
    so it is not checked.
    """
    return len(gtin) == 8 or gtin14(gtin)[1:].startswith(prefix)


def month_only_expiry(product: ProductConfig, rules: Mapping[str, RuleConfig]) -> bool:
    """Whether the product's expiry is a month: its own `day_zero`, else its GS1 rule's."""
    if product.expiry is not None and product.expiry.day_zero is not None:
        return product.expiry.day_zero
    return any(
        isinstance(rule, Gs1RuleConfig) and rule.expiry_day_zero and "17" in rule.ais
        for rule in (rules.get(level.coding_rule) for level in product.levels)
    )
