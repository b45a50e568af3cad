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
    Nmpa20RuleConfig,
    RuleConfig,
    SsccRuleConfig,
)
from config.devices import check_devices
from config.fields import close_match_hint
from config.opcua_server import OpcUaServerSection, check_opcua_server
from config.operations import AuditSection, MaintenanceSection
from config.problems import Finding, Loc, Severity
from config.product_checks import check_product, known_ids
from config.products import ProductConfig
from config.resolve import company_prefix, gtin14, sscc_serial_length
from config.sections import DatabaseSection, LineConfig, SiteSection
from config.uplinks import UplinksSection, check_uplinks
from serialization.serials import MIN_FF1_DOMAIN
from serialization.uscc import validate_uscc


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
    audit: AuditSection | None = None
    maintenance: MaintenanceSection | None = None
    opcua_server: OpcUaServerSection | None = None
    uplinks: UplinksSection | None = None


def cross_check(parsed: Parsed) -> list[Finding]:
    rules = _first_by_id(parsed.rules)
    findings = [
        *_unique_ids("coding_rules", "coding rule", parsed.rule_ids),
        *_unique_ids("products", "product", parsed.product_ids),
        *_unique_ids("lines", "line", parsed.line_ids),
        *_site(parsed),
        *_serial_keys(parsed),
        *_audit_key(parsed),
        *_unique_product_keys(parsed.products),
        *_sscc_rules(parsed, rules),
        *_lines(parsed),
        *check_devices(parsed.lines),
        *_unused_rules(parsed),
        *check_opcua_server(parsed.opcua_server, parsed.base_dir),
        *check_uplinks(parsed.uplinks, parsed.site, parsed.base_dir),
    ]
    written_rules = [rule_id for rule_id in parsed.rule_ids if rule_id is not None]
    for index, product in enumerate(parsed.products):
        if product is not None:
            findings.extend(check_product(index, product, parsed.site, rules, written_rules))
    return findings


def _first_by_id(rules: Sequence[RuleConfig | None]) -> dict[str, RuleConfig]:
    found: dict[str, RuleConfig] = {}
    for rule in rules:
        if rule is not None:
            found.setdefault(rule.id, rule)
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


def _audit_key(parsed: Parsed) -> Iterator[Finding]:
    site = parsed.site
    if site is None or site.audit_key_file is None or parsed.base_dir is None:
        return
    path = parsed.base_dir / site.audit_key_file
    if path.is_dir():
        yield Finding(
            ("site", "audit_key_file"), f"{path} is a folder, not a key file", "name the file"
        )
    elif not path.exists():
        yield Finding(
            ("site", "audit_key_file"),
            f"audit key file {path} does not exist yet (audit checkpoints are not signed)",
            f"tracegate audit create-key {path}",
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


def _sscc_rules(parsed: Parsed, rules: Mapping[str, RuleConfig]) -> Iterator[Finding]:
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
    for index, rule in enumerate(parsed.rules):
        if not isinstance(rule, SsccRuleConfig) or rules.get(rule.id) is not rule:
            continue
        users = prefixes.get(rule.id) or ({site_prefix: ""} if site_prefix else {})
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
                    close_match_hint(product_id, known) or known_ids("products", known),
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
