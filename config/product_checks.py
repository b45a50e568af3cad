"""Second-stage checks of one product: its levels, and what its rules' schemes need of it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from config.coding_rules import (
    Gs1RuleConfig,
    NationalRuleConfig,
    Nmpa20RuleConfig,
    RuleConfig,
    SsccRuleConfig,
    TemplateRuleConfig,
)
from config.fields import close_match_hint
from config.problems import Finding, Loc, Severity
from config.products import LEVEL_ORDER, ProductConfig
from config.resolve import company_prefix, gtin14, under_prefix
from config.sections import SiteSection
from serialization.template import CHECK_FIELD

_FILLED_BY_GATEWAY = {
    "serial": "the serial",
    CHECK_FIELD: "the check character",
    "lot": "the batch's lot number",
    "gtin": "the product's GTIN",
    "drug_id": "the product's nmpa_drug_id",
    "expiry": "the batch's expiry date",
}


def known_ids(section: str, ids: Sequence[str]) -> str:
    return f"the {section} are: {', '.join(ids)}" if ids else f"no {section} are defined"


def check_product(
    index: int,
    product: ProductConfig,
    site: SiteSection | None,
    rules: Mapping[str, RuleConfig],
    rule_ids: Sequence[str],
) -> Iterator[Finding]:
    """`rules` are the valid rules by id; `rule_ids` every id written, valid rule or not.

    With `site` None (it failed its own checks) nothing is said about the company prefix.
    """
    at: Loc = ("products", index)
    yield from _levels(at, product, rule_ids)
    prefix = company_prefix(product, site)
    if product.gtin is not None and prefix is not None and not under_prefix(product.gtin, prefix):
        yield Finding(
            (*at, "gtin"),
            f"GTIN {product.gtin} is not under company prefix {prefix}: after the indicator "
            f"digit, {gtin14(product.gtin)} should continue with {prefix}",
            "check the GTIN, site.gs1_company_prefix, or set this product's company_prefix",
        )
    gs1_levels: list[str] = []
    template_fields: set[str] = set()
    for position, level in enumerate(product.levels):
        rule = rules.get(level.coding_rule)
        level_at: Loc = (*at, "levels", position, "coding_rule")
        if isinstance(rule, Gs1RuleConfig):
            gs1_levels.append(level.level)
            site_known = site is not None
            yield from _gs1_needs(at, level_at, product, rule, prefix, site_known, gs1_levels)
        elif isinstance(rule, SsccRuleConfig):
            if level.level == "unit":
                yield Finding(
                    level_at,
                    f"coding rule {rule.id!r} makes SSCCs, which identify logistic units "
                    "(cases, pallets), not single units",
                    "use a gs1, nmpa20, national or template rule for units",
                )
            if prefix is None and site is not None:
                yield _needs_prefix(at, rule.id)
        elif isinstance(rule, Nmpa20RuleConfig) and product.nmpa_drug_id is None:
            yield _needs(
                at, "nmpa_drug_id", rule, "its 7-digit drug identification code", '"1234567"'
            )
        elif isinstance(rule, NationalRuleConfig):
            yield from _national_needs(at, product, rule)
        elif isinstance(rule, TemplateRuleConfig):
            template_fields.update(rule.compiled().field_names)
            yield from _template_needs(at, product, rule)
    if any(level.coding_rule not in rules for level in product.levels):
        return
    for name in product.template_values:
        if name not in template_fields and name not in _FILLED_BY_GATEWAY:
            yield Finding(
                (*at, "template_values", name),
                f"template value {name!r} is not used by any template of this product",
                "remove it, or check its spelling against the template",
                Severity.WARNING,
            )


def _levels(at: Loc, product: ProductConfig, known_rules: Sequence[str]) -> Iterator[Finding]:
    previous: str | None = None
    seen: set[str] = set()
    for position, level in enumerate(product.levels):
        level_at: Loc = (*at, "levels", position)
        if level.level in seen:
            yield Finding(
                (*level_at, "level"),
                f"level {level.level} is listed twice",
                "give each packaging level once",
            )
        elif previous is not None and LEVEL_ORDER.index(level.level) < LEVEL_ORDER.index(previous):
            yield Finding(
                (*level_at, "level"),
                f"level {level.level} comes after {previous}: levels go from the smallest "
                "package to the largest",
                f"list them in the order {' < '.join(LEVEL_ORDER)}",
            )
        if position == 0 and level.quantity is not None:
            yield Finding(
                (*level_at, "quantity"),
                f"the first level ({level.level}) has no smaller coded level to count",
                "remove quantity here; give it on the levels above",
            )
        elif position > 0 and level.quantity is None and previous is not None:
            yield Finding(
                (*level_at, "quantity"),
                f"required: how many {previous} packages one {level.level} holds",
                "add quantity: N",
            )
        if level.coding_rule not in known_rules:
            yield Finding(
                (*level_at, "coding_rule"),
                f"unknown coding rule {level.coding_rule!r}",
                close_match_hint(level.coding_rule, known_rules)
                or known_ids("coding rules", known_rules),
            )
        seen.add(level.level)
        previous = level.level


def _needs(at: Loc, key: str, rule: RuleConfig, what: str, example: str) -> Finding:
    return Finding(
        (*at, key),
        f"required: coding rule {rule.id!r} ({rule.scheme_name.value}) needs {what}",
        f"add {key}: {example}",
    )


def _needs_prefix(at: Loc, rule_id: str) -> Finding:
    return Finding(
        (*at, "company_prefix"),
        f"required: coding rule {rule_id!r} needs a GS1 company prefix",
        "set gs1_company_prefix under site:, or company_prefix on this product",
    )


def _gs1_needs(
    at: Loc,
    level_at: Loc,
    product: ProductConfig,
    rule: Gs1RuleConfig,
    prefix: str | None,
    site_known: bool,
    gs1_levels: list[str],
) -> Iterator[Finding]:
    if len(gs1_levels) > 1:
        yield Finding(
            level_at,
            f"level {gs1_levels[-1]} would carry the same GTIN as level {gs1_levels[0]}; "
            "each packaging level has its own GTIN, and a product has one",
            "code this level with an sscc rule, or make the larger pack a product of its own",
        )
    if product.gtin is None:
        yield _needs(at, "gtin", rule, "the product's GTIN", '"09501101530003" (quoted)')
    if prefix is None and site_known:
        yield _needs_prefix(at, rule.id)
    if "17" in rule.ais:
        if product.expiry is None:
            yield _needs(
                at, "expiry", rule, "the shelf life, to print the expiry date (17)", "{months: 24}"
            )
        elif product.expiry.day_zero is False and rule.expiry_day_zero:
            yield Finding(
                (*at, "expiry", "day_zero"),
                f"coding rule {rule.id!r} prints the expiry as YYMM00 (the last day of the "
                "month), but this product's expiry is an exact day",
                "set day_zero: true, or use a rule with expiry_day_zero: false",
            )


def _national_needs(at: Loc, product: ProductConfig, rule: NationalRuleConfig) -> Iterator[Finding]:
    national = product.national
    if national is None:
        yield _needs(
            at,
            "national",
            rule,
            "its product_class and origin",
            '{product_class: "…", origin: "…"}',
        )
        return
    fmt = rule.format
    for key, value, lengths in (
        ("product_class", national.product_class, fmt.product_class_lengths),
        ("origin", national.origin, fmt.origin_lengths),
    ):
        if len(value) not in lengths:
            yield Finding(
                (*at, "national", key),
                f"{key} has {len(value)} digits; coding rule {rule.id!r} takes "
                f"{', '.join(map(str, sorted(lengths)))}",
                "GB/T 7635.1 classes have 1-5 or 8 digits, GB/T 2260 origins 6"
                if key == "product_class"
                else "a GB/T 2260 county code has 6 digits; GB/T 10114 codes 9 or 12",
            )


def _template_needs(at: Loc, product: ProductConfig, rule: TemplateRuleConfig) -> Iterator[Finding]:
    compiled = rule.compiled()
    built_in = {
        "gtin": (product.gtin, "gtin"),
        "drug_id": (product.nmpa_drug_id, "nmpa_drug_id"),
        "expiry": (product.expiry, "expiry"),
    }
    for name, (present, key) in built_in.items():
        if name in compiled.field_names and present is None:
            yield _needs(at, key, rule, f"{key}, for its {{{name}}} field", "…")
    for name in rule.value_fields():
        if name not in product.template_values:
            yield Finding(
                (*at, "template_values", name),
                f"required: coding rule {rule.id!r} has a field {{{name}}} and this product "
                "gives no value for it",
                f'add {name}: "…" under template_values, or remove {{{name}}} from the template',
            )
    for name, value in product.template_values.items():
        value_at: Loc = (*at, "template_values", name)
        if name in _FILLED_BY_GATEWAY:
            yield Finding(
                value_at,
                f"{{{name}}} is filled by the gateway with {_FILLED_BY_GATEWAY[name]}",
                f"remove {name} from template_values",
            )
            continue
        if name not in compiled.field_names:
            continue
        stray = sorted(set(value) - set(compiled.alphabet))
        low, high = compiled.width(name)
        if stray:
            fits = not set(value.upper()) - set(compiled.alphabet)
            yield Finding(
                value_at,
                f"{''.join(stray)!r} cannot appear in field {{{name}}} of coding rule {rule.id!r}",
                f'write "{value.upper()}"' if fits else f"use only {compiled.alphabet}",
            )
        elif not low <= len(value) <= high:
            width = str(low) if low == high else f"{low} to {high}"
            yield Finding(
                value_at,
                f"{value!r} has {len(value)} characters; field {{{name}}} of coding rule "
                f"{rule.id!r} takes {width}",
            )
