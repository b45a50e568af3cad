"""The shipped examples are valid, and what they configure makes codes."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

import config
from config import check_site_file, load_site
from gateway.cli import main
from serialization.codes import SchemeName
from serialization.coding import CodeFactory
from serialization.rules import LotData, PackagingLevel

EXAMPLES = Path(config.__file__).parent / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


def test_there_are_examples():
    assert {path.name for path in EXAMPLE_FILES} >= {"demo.yaml", "site-minimal.yaml"}


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[path.name for path in EXAMPLE_FILES])
def test_every_example_validates(path):
    report = check_site_file(path)

    assert report.errors == [], "\n".join(report.lines())
    assert report.config is not None
    assert {p.location for p in report.warnings} <= {"site.serial_key_file", "site.audit_key_file"}


def test_demo_warns_only_that_its_keys_are_not_created_yet():
    report = check_site_file(EXAMPLES / "demo.yaml")

    serial, audit = sorted(report.warnings, key=lambda w: w.location, reverse=True)
    assert serial.location == "site.serial_key_file"
    assert serial.hint == f"tracegate keys create {EXAMPLES / 'keys' / 'serial.key'}"
    assert serial.line is not None
    assert audit.location == "site.audit_key_file"
    assert audit.hint == f"tracegate audit create-key {EXAMPLES / 'keys' / 'audit.key'}"
    assert audit.line is not None


def test_demo_with_its_key_in_place_has_no_problem_at_all(tmp_path):
    shutil.copy(EXAMPLES / "demo.yaml", tmp_path / "demo.yaml")
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "serial.key").write_text("0" * 64)
    assert main(["audit", "create-key", str(tmp_path / "keys" / "audit.key")]) == 0

    report = check_site_file(tmp_path / "demo.yaml")

    assert report.problems == []
    assert report.config is not None
    assert report.config.serial_key_path == (tmp_path / "keys" / "serial.key").resolve()
    assert report.config.site.serial_key_file == "keys/serial.key"


def test_demo_has_a_product_for_every_scheme_on_line_1():
    site = load_site(EXAMPLES / "demo.yaml")

    on_line = site.product_ids_on_line("line-1")
    schemes = {
        site.rule_for(product_id, level).scheme
        for product_id in on_line
        for level, _rule, _quantity in site.levels_of(product_id)
    }
    assert schemes == set(SchemeName)
    assert set(on_line) == {product.id for product in site.products}
    gs1_product = site.product("amox-250-24")
    assert site.rule_for(gs1_product.id, "unit").scheme is SchemeName.GS1
    assert site.rule_for(gs1_product.id, "case").scheme is SchemeName.SSCC


def test_demo_rules_make_codes_with_the_serialization_code_factory():
    site = load_site(EXAMPLES / "demo.yaml")
    produced = date(2025, 5, 15)

    for product in site.products:
        master = site.product_master(product.id)
        expiry = site.expiry_for(product.id, produced) if product.expiry else None
        lot = LotData("A12345", expiry=expiry, production_date=produced)
        for level, rule, _quantity in site.levels_of(product.id):
            factory = CodeFactory(rule, master, lot)
            if rule.serial is None:
                issued = factory.from_data(f"{master.nmpa_drug_id}1234567890123")
            else:
                issued = factory.issue(rule.serial.alphabet[1] * rule.serial.length)
            assert issued.key, (product.id, level)

    amox = CodeFactory(
        site.rule_for("amox-250-24", PackagingLevel.UNIT),
        site.product_master("amox-250-24"),
        LotData("AB-123", expiry=site.expiry_for("amox-250-24", produced)),
    )
    assert (
        amox.issue("7Q2XK9PZ4M12").hri == "(01)09501101530003(17)270514(10)AB-123(21)7Q2XK9PZ4M12"
    )
