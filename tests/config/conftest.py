"""Shared fixtures: a valid site file with one product per scheme, and ways to check text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from config import CheckReport, Problem, check_site_file

BASE_SITE = """\
site:
  id: test-site
  company_name: 测试制药有限公司
  uscc: 91110105MA01TG8P53
  gs1_company_prefix: "9501101"
  gln: "9501101000001"
  timezone: Asia/Shanghai

coding_rules:
  - id: gs1-unit
    scheme: gs1
    ais: ["01", "17", "10", "21"]
    serial:
      generator: csprng
      alphabet: digits
      length: 12
      planned_volume: 10_000_000
  - id: sscc-case
    scheme: sscc
    extension: 1
    serial:
      generator: csprng
      planned_volume: 1_000_000
  - id: nmpa
    scheme: nmpa20
  - id: national
    scheme: national
    attribute_id: 2
    serial:
      generator: csprng
      alphabet: safe-alphanumeric
      length: 10
      planned_volume: 1_000_000
  - id: tpl
    scheme: template
    template: "TG{plant:2}-{serial:10}{check}"
    check: mod37_36
    serial:
      generator: csprng
      alphabet: safe-alphanumeric
      length: 10
      planned_volume: 1_000_000

products:
  - id: p-gs1
    name: GS1 product
    gtin: "09501101530003"
    expiry:
      months: 24
    levels:
      - level: unit
        coding_rule: gs1-unit
      - level: case
        coding_rule: sscc-case
        quantity: 20
  - id: p-nmpa
    name: NMPA product
    nmpa_drug_id: "8123456"
    levels:
      - level: unit
        coding_rule: nmpa
  - id: p-national
    name: National product
    national:
      product_class: "27010101"
      origin: "110105"
    levels:
      - level: unit
        coding_rule: national
  - id: p-template
    name: Template product
    template_values:
      plant: BJ
    levels:
      - level: unit
        coding_rule: tpl

lines:
  - id: line-1
    name: Line 1
    products: [p-gs1, p-nmpa, p-national, p-template]
    code_buffer:
      size: 100
      low_water: 20
"""

Check = Callable[[str], CheckReport]


@pytest.fixture
def base_site() -> str:
    return BASE_SITE


@pytest.fixture
def check(tmp_path: Path) -> Check:
    """Write the text to a site file and check it, the way `tracegate check-config` does."""

    def run(text: str) -> CheckReport:
        path = tmp_path / "site.yaml"
        path.write_text(text, encoding="utf-8")
        return check_site_file(path)

    return run


def line_of(text: str, marker: str, occurrence: int = 1) -> int:
    """1-based line of the `occurrence`-th line containing `marker`."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if marker in line]
    return found[occurrence - 1]


@pytest.fixture
def line_at() -> Callable[..., int]:
    return line_of


def at(report: CheckReport, location: str) -> list[Problem]:
    return [p for p in report.problems if p.location == location]


@pytest.fixture
def problems_at() -> Callable[[CheckReport, str], list[Problem]]:
    return at
