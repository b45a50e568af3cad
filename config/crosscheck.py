"""Second stage of validation: what no single entry can know about itself.

Unique ids and GTINs, references between sections, what each product needs for the schemes of
its rules, SSCC lengths from company prefixes, the serial key. Entries that failed their own
schema are `None` here and are skipped, but their ids still count as written, so one broken
rule does not also produce "unknown coding rule" errors everywhere it is used.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

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
from config.resolve import company_prefix, gtin14, sscc_serial_length, under_prefix
from config.sections import DatabaseSection, LineConfig, SiteSection
from serialization.serials import MIN_FF1_DOMAIN
from serialization.template import CHECK_FIELD
from serialization.uscc import validate_uscc

_FILLED_BY_GATEWAY = {
    "serial": "the serial",
    CHECK_FIELD: "the check character",
    "lot": "the batch's lot number",
    "gtin": "the product's GTIN",
    "drug_id": "the product's nmpa_drug_id",
    "expiry": "the batch's expiry date",
}


@dataclass(frozen=True, slots=True)
class Parsed:
    """The document after the first stage: each entry validated, or `None` if it failed."""

    site: SiteSection | None
    database: DatabaseSection | None
    rules: Sequence[RuleConfig | None]
    products: Sequence[ProductConfig | None]
    lines: Sequence[LineConfig | None]
    rule_ids: Sequence[str | None]
    """The id written on each rule entry, valid entry or not."""
    product_ids: Sequence[str | None]
    line_ids: Sequence[str | None]
    base_dir: Path | None = None
    """Folder of the site file, as given (not resolved), for files named relative to it."""


def cross_check(parsed: Parsed) -> list[Finding]:
    rules = _first_by_id(parsed.rules)
    rule_index = _index_by_id(parsed.rule_ids)
    findings = [
        *_unique_ids("coding_rules", "coding rule", parsed.rule_ids),
        *_unique_ids("products", "product", parsed.product_ids),
        *_unique_ids("lines", "line", parsed.line_ids),
        *_site(parsed),
        *_serial_keys(parsed),
        *_unique_product_keys(parsed.products),
        *_sscc_rules(parsed, rules, rule_index),
        *_lines(parsed),
        *_unused_rules(parsed),
    ]
    for index, product in enumerate(parsed.products):
        if product is not None:
            findings.extend(_product(index, product, parsed, rules))
    return findings


def _first_by_id(rules: Sequence[RuleConfig | None]) -> dict[str, RuleConfig]:
    found: dict[str, RuleConfig] = {}
    for rule in rules:
        if rule is not None:
            found.setdefault(rule.id, rule)
    return found


def _index_by_id(ids: Sequence[str | None]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, item_id in enumerate(ids):
        if item_id is not None:
            found.setdefault(item_id, index)
    return found


def _unique_ids(section: str, what: str, ids: Sequence[str | None]) -> Iterator[Finding]:
    first: dict[str, int] = {}
    for index, item_id in enumerate(ids):
        if item_id is None:
            continue
        if item_id in first:
            yield Finding(
                (section, index, "id"),
                f"duplicate {what} id {item_id!r} (also {section}[{first[item_id]}])",
                f"give every {what} its own id",
            )
        else:
            first[item_id] = index


def _site(parsed: Parsed) -> Iterator[Finding]:
    site = parsed.site
    if site is not None:
        for warning in validate_uscc(site.uscc, field="uscc"):
            yield Finding(
                ("site", "uscc"),
                warning.removeprefix("uscc: "),
                "check the code against the business licence",
                Severity.WARNING,
            )
    if parsed.database is not None and parsed.database.has_password():
        yield Finding(
            ("database", "url"),
            "the URL holds a password, readable by anyone who can read this file",
            "use peer or certificate authentication, or a ~/.pgpass file",
            Severity.WARNING,
        )


def _serial_keys(parsed: Parsed) -> Iterator[Finding]:
    ff1_rules = [
        index
        for index, rule in enumerate(parsed.rules)
        if rule is not None
        and not isinstance(rule, Nmpa20RuleConfig)
        and rule.serial.generator == "ff1"
    ]
    site = parsed.site
    if site is None:
        return
    if site.serial_key_file is None:
        for index in ff1_rules:
            yield Finding(
                ("coding_rules", index, "serial", "generator"),
                "generator ff1 needs the site's serial key, and site.serial_key_file is not set",
                "add serial_key_file: keys/serial.key under site:, then run "
                "tracegate keys create keys/serial.key",
            )
        return
    if parsed.base_dir is None:
        return
    path = parsed.base_dir / site.serial_key_file
    if path.is_dir():
        yield Finding(
            ("site", "serial_key_file"), f"{path} is a folder, not a key file", "name the file"
        )
    elif not path.exists():
        needed = "rules using generator ff1 cannot make serials" if ff1_rules else "unused now"
        yield Finding(
            ("site", "serial_key_file"),
            f"serial key file {path} does not exist yet ({needed})",
            f"tracegate keys create {path}",
            Severity.WARNING,
        )


def _unique_product_keys(products: Sequence[ProductConfig | None]) -> Iterator[Finding]:
    gtins: dict[str, int] = {}
    drug_ids: dict[str, int] = {}
    for index, product in enumerate(products):
        if product is None:
            continue
        if product.gtin is not None:
            key = gtin14(product.gtin)
            if key in gtins:
                yield Finding(
                    ("products", index, "gtin"),
                    f"GTIN {product.gtin} is also the GTIN of products[{gtins[key]}]",
                    "a GTIN identifies one product at one packaging level",
                )
            else:
                gtins[key] = index
        if product.nmpa_drug_id is not None:
            if product.nmpa_drug_id in drug_ids:
                yield Finding(
                    ("products", index, "nmpa_drug_id"),
                    f"drug ID {product.nmpa_drug_id} is also the drug ID of "
                    f"products[{drug_ids[product.nmpa_drug_id]}]",
                    "a drug identification code identifies one drug at one packaging level",
                )
            else:
                drug_ids[product.nmpa_drug_id] = index


def _sscc_rules(
    parsed: Parsed, rules: Mapping[str, RuleConfig], rule_index: Mapping[str, int]
) -> Iterator[Finding]:
    """Serial reference length against each company prefix, then its capacity."""
    site_prefix = parsed.site.gs1_company_prefix if parsed.site else None
    prefixes: dict[str, dict[str, str]] = {}
    for product in parsed.products:
        if product is None:
            continue
        prefix = company_prefix(product, parsed.site)
        for level in product.levels:
            if isinstance(rules.get(level.coding_rule), SsccRuleConfig) and prefix:
                prefixes.setdefault(level.coding_rule, {}).setdefault(prefix, product.id)
    for rule_id, rule in rules.items():
        if not isinstance(rule, SsccRuleConfig):
            continue
        index = rule_index[rule_id]
        users = prefixes.get(rule_id) or ({site_prefix: ""} if site_prefix else {})
        checked: set[int] = set()
        for prefix, product_id in users.items():
            length = sscc_serial_length(prefix)
            if rule.serial.length is not None and rule.serial.length != length:
                whose = f"product {product_id!r}" if product_id else "the site"
                yield Finding(
                    ("coding_rules", index, "serial", "length"),
                    f"{whose} has company prefix {prefix} ({len(prefix)} digits), which "
                    f"leaves {length} digits for the serial reference, not {rule.serial.length}",
                    "leave length out: it is 16 minus the company prefix length",
                )
                continue
            if length in checked:
                continue
            checked.add(length)
            yield from _sscc_capacity(index, rule, length)


def _sscc_capacity(index: int, rule: SsccRuleConfig, length: int) -> Iterator[Finding]:
    space = 10**length
    at: Loc = ("coding_rules", index, "serial")
    if rule.serial.planned_volume >= space:
        yield Finding(
            (*at, "planned_volume"),
            f"{rule.serial.planned_volume:,} SSCCs do not fit in a {length}-digit serial "
            f"reference ({space:,} possible)",
            "add a second SSCC rule with another extension digit, or ask GS1 China for a "
            "shorter company prefix",
        )
    if rule.serial.generator == "ff1" and space < MIN_FF1_DOMAIN:
        yield Finding(
            (*at, "generator"),
            f"an FF1 domain of {space:,} is below the minimum of {MIN_FF1_DOMAIN:,} in the "
            "NIST SP 800-38G Rev. 1 draft",
            "use generator csprng",
        )


def _lines(parsed: Parsed) -> Iterator[Finding]:
    known = [product_id for product_id in parsed.product_ids if product_id is not None]
    for index, line in enumerate(parsed.lines):
        if line is None:
            continue
        seen: set[str] = set()
        for position, product_id in enumerate(line.products):
            loc: Loc = ("lines", index, "products", position)
            if product_id in seen:
                yield Finding(loc, f"product {product_id!r} is listed twice", "list it once")
            elif product_id not in known:
                yield Finding(
                    loc,
                    f"unknown product {product_id!r}",
                    close_match_hint(product_id, known) or _known("products", known),
                )
            seen.add(product_id)


def _unused_rules(parsed: Parsed) -> Iterator[Finding]:
    if any(product is None for product in parsed.products):
        return
    used = {
        level.coding_rule
        for product in parsed.products
        if product is not None
        for level in product.levels
    }
    for index, rule in enumerate(parsed.rules):
        if rule is not None and rule.id not in used:
            yield Finding(
                ("coding_rules", index, "id"),
                f"coding rule {rule.id!r} is not used by any product",
                "use it in a product's levels, or remove it",
                Severity.WARNING,
            )


def _known(section: str, ids: Sequence[str]) -> str:
    return f"the {section} are: {', '.join(ids)}" if ids else f"no {section} are defined"


def _product(
    index: int, product: ProductConfig, parsed: Parsed, rules: Mapping[str, RuleConfig]
) -> Iterator[Finding]:
    at: Loc = ("products", index)
    yield from _levels(at, product, parsed)
    prefix = company_prefix(product, parsed.site)
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
            site_known = parsed.site is not None
            yield from _gs1_needs(at, level_at, product, rule, prefix, site_known, gs1_levels)
        elif isinstance(rule, SsccRuleConfig):
            if level.level == "unit":
                yield Finding(
                    level_at,
                    f"coding rule {rule.id!r} makes SSCCs, which identify logistic units "
                    "(cases, pallets), not single units",
                    "use a gs1, nmpa20, national or template rule for units",
                )
            if prefix is None and parsed.site is not None:
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


def _levels(at: Loc, product: ProductConfig, parsed: Parsed) -> Iterator[Finding]:
    known_rules = [rule_id for rule_id in parsed.rule_ids if rule_id is not None]
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
                or _known("coding rules", known_rules),
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
