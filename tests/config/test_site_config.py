"""`SiteConfig` as the rest of the gateway uses it, and `load_site` / `ConfigError`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from config import ConfigError, NotConfiguredError, SiteConfig, check_site_text, load_site
from serialization.codes import SchemeName
from serialization.rules import Carrier, NationalIdentity, PackagingLevel, SerialGenerator


@pytest.fixture
def site(check, base_site) -> SiteConfig:
    report = check(base_site)
    assert report.config is not None, report.lines()
    return report.config


def test_load_site_returns_the_config(tmp_path, base_site):
    path = tmp_path / "site.yaml"
    path.write_text(base_site, encoding="utf-8")

    loaded = load_site(path)

    assert loaded.site.id == "test-site"
    assert loaded.source == path
    assert loaded.base_dir == tmp_path


def test_load_site_raises_with_every_problem(tmp_path, base_site):
    path = tmp_path / "site.yaml"
    path.write_text(
        base_site.replace('"09501101530003"', '"09501101530004"').replace(
            "low_water: 20", "low_water: 200"
        ),
        encoding="utf-8",
    )

    with pytest.raises(ConfigError) as caught:
        load_site(path)

    error = caught.value
    assert [p.location for p in error.errors] == [
        "products[0].gtin",
        "lines[0].code_buffer.low_water",
    ]
    assert error.problems == error.errors
    assert f"{path}:" in str(error)
    assert "2 error(s)" in str(error)


def test_warnings_do_not_stop_loading(tmp_path, base_site):
    path = tmp_path / "site.yaml"
    path.write_text(
        base_site.replace(
            "  timezone: Asia/Shanghai\n",
            "  timezone: Asia/Shanghai\n  serial_key_file: keys/serial.key\n",
        ),
        encoding="utf-8",
    )

    loaded = load_site(path)

    assert loaded.serial_key_path == (tmp_path / "keys" / "serial.key").resolve()


def test_rule_for_fills_the_sscc_serial_length_from_the_company_prefix(site):
    rule = site.rule_for("p-gs1", PackagingLevel.CASE)

    assert rule.scheme is SchemeName.SSCC
    assert rule.carrier is Carrier.GS1_128
    assert rule.sscc_extension == "1"
    assert rule.serial is not None
    assert rule.serial.length == 16 - len("9501101")
    assert rule.serial.alphabet == "0123456789"


def test_a_product_company_prefix_overrides_the_sites(check, base_site):
    text = base_site.replace(
        '    gtin: "09501101530003"\n',
        '    gtin: "09501101530003"\n    company_prefix: "950110153"\n',
    )
    config = check(text).config
    assert config is not None

    assert config.product_master("p-gs1").company_prefix == "950110153"
    case_rule = config.rule_for("p-gs1", "case")
    assert case_rule.serial is not None
    assert case_rule.serial.length == 7


def test_rule_for_every_scheme(site):
    unit = site.rule_for("p-gs1", "unit")
    assert unit.gs1_ais == ("01", "17", "10", "21")
    assert unit.serial is not None
    assert unit.serial.generator is SerialGenerator.CSPRNG

    nmpa = site.rule_for("p-nmpa", "unit")
    assert (nmpa.scheme, nmpa.carrier, nmpa.serial) == (SchemeName.NMPA20, Carrier.CODE128, None)

    national = site.rule_for("p-national", "unit")
    assert (national.national_attribute_id, national.carrier) == (2, Carrier.QR)

    template = site.rule_for("p-template", "unit")
    assert template.template == "TG{plant:2}-{serial:10}{check}"
    assert template.check == "mod37_36"


def test_rule_for_refuses_what_is_not_configured(site):
    with pytest.raises(NotConfiguredError, match="has no pallet level"):
        site.rule_for("p-gs1", "pallet")
    with pytest.raises(NotConfiguredError, match="product 'nope' is not configured"):
        site.rule_for("nope", "unit")


def test_product_masters(site):
    masters = site.product_masters()

    assert list(masters) == ["p-gs1", "p-nmpa", "p-national", "p-template"]
    assert masters["p-gs1"].gtin == "09501101530003"
    assert masters["p-gs1"].company_prefix == "9501101"
    assert masters["p-nmpa"].nmpa_drug_id == "8123456"
    assert masters["p-national"].national == NationalIdentity(
        uscc="91110105MA01TG8P53", product_class="27010101", origin="110105"
    )
    assert masters["p-template"].template_values == {"plant": "BJ"}


def test_a_gtin_13_is_given_as_14_digits(check, base_site):
    config = check(base_site.replace('"09501101530003"', '"9501101530003"')).config
    assert config is not None

    assert config.product_master("p-gs1").gtin == "09501101530003"


def test_expiry_to_the_day_is_the_day_before(site):
    assert site.expiry_for("p-gs1", date(2024, 5, 15)) == date(2026, 5, 14)
    assert site.expiry_for("p-gs1", date(2024, 1, 1)) == date(2025, 12, 31)


def test_expiry_to_the_month_is_the_month_before(check, base_site):
    text = base_site.replace("      months: 24\n", "      months: 24\n      day_zero: true\n")
    config = check(text).config
    assert config is not None

    assert config.expiry_for("p-gs1", date(2024, 5, 15)) == date(2026, 4, 30)
    assert config.expiry_for("p-gs1", date(2024, 3, 1)) == date(2026, 2, 28)


def test_expiry_follows_the_rules_day_zero_when_the_product_does_not_say(check, base_site):
    text = base_site.replace("    scheme: gs1\n", "    scheme: gs1\n    expiry_day_zero: true\n")
    config = check(text).config
    assert config is not None

    assert config.expiry_for("p-gs1", date(2024, 5, 15)) == date(2026, 4, 30)


def test_expiry_of_a_product_without_shelf_life(site):
    with pytest.raises(NotConfiguredError, match="no shelf life"):
        site.expiry_for("p-nmpa", date(2024, 5, 15))


def test_exact_day_expiry_cannot_be_printed_as_a_month(check, base_site):
    text = base_site.replace(
        "    scheme: gs1\n", "    scheme: gs1\n    expiry_day_zero: true\n"
    ).replace("      months: 24\n", "      months: 24\n      day_zero: false\n")

    report = check(text)

    assert [p.location for p in report.errors] == ["products[0].expiry.day_zero"]


def test_lines(site):
    assert site.product_ids_on_line("line-1") == ("p-gs1", "p-nmpa", "p-national", "p-template")
    assert site.line("line-1").code_buffer.size == 100
    with pytest.raises(NotConfiguredError, match="line 'line-9'"):
        site.product_ids_on_line("line-9")


def test_national_format(site):
    fmt = site.national_format("national")

    assert fmt.delimiter == "."
    assert fmt.origin_lengths == (6, 9, 12)


def test_database_defaults_to_sqlite_next_to_the_site_file(site, tmp_path):
    assert site.database_url == f"sqlite:///{(tmp_path / 'tracegate.db').resolve()}"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/t.db", "sqlite:///{base}/data/t.db"),
        ("sqlite:////var/lib/t.db", "sqlite:////var/lib/t.db"),
        ("sqlite://", "sqlite://"),
        ("postgresql+psycopg://tg@db/tg", "postgresql+psycopg://tg@db/tg"),
    ],
)
def test_database_urls(check, base_site, tmp_path, url, expected):
    config = check(base_site + f"database:\n  url: {url}\n").config
    assert config is not None

    assert config.database_url == expected.format(base=tmp_path.resolve())


def test_unsupported_database_and_passwords(check, base_site):
    mysql = check(base_site + "database:\n  url: mysql://tg@db/tg\n")
    assert [p.location for p in mysql.errors] == ["database.url"]

    secret = check(base_site + "database:\n  url: postgresql://tg:secret@db/tg\n")
    assert secret.errors == []
    assert [p.location for p in secret.warnings] == ["database.url"]


def test_model_validate_applies_the_cross_checks_too(base_site):
    data = yaml.safe_load(base_site)
    assert SiteConfig.model_validate(data).site.id == "test-site"

    data["products"][0]["levels"][0]["coding_rule"] = "missing-rule"
    with pytest.raises(ValueError, match=r"products\[0\]\.levels\[0\]\.coding_rule"):
        SiteConfig.model_validate(data)


def test_check_site_text_without_a_folder_skips_file_checks(base_site):
    text = base_site.replace(
        "  timezone: Asia/Shanghai\n",
        "  timezone: Asia/Shanghai\n  serial_key_file: keys/serial.key\n",
    )

    report = check_site_text(text)

    assert report.problems == []
    assert report.config is not None
    assert report.config.base_dir == Path()
