"""Properties over generated site files: reports stay located whatever is wrong."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from config import check_site_text
from config.products import ExpiryConfig
from serialization.gs1.checkdigit import check_digit

HEADER = """\
site:
  id: prop
  company_name: Property Pharma
  uscc: 91110105MA01TG8P53
  gs1_company_prefix: "9501101"
  timezone: Asia/Shanghai
coding_rules:
  - id: unit
    scheme: gs1
    ais: ["01", "21"]
    serial: {generator: csprng, alphabet: digits, length: 12, planned_volume: 1000000}
products:
"""


def gtin_for(item: int) -> str:
    body = f"09501101{item:05d}"
    return body + check_digit(body)


def site_with(gtins: list[str]) -> str:
    products = "".join(
        f'  - id: p{i}\n    name: Product {i}\n    gtin: "{gtin}"\n'
        f"    levels: [{{level: unit, coding_rule: unit}}]\n"
        for i, gtin in enumerate(gtins)
    )
    return HEADER + products


@st.composite
def corrupted_site(draw: st.DrawFn) -> tuple[str, int, str]:
    items = draw(st.lists(st.integers(0, 99_999), min_size=1, max_size=6, unique=True))
    gtins = [gtin_for(item) for item in items]
    index = draw(st.integers(0, len(gtins) - 1))
    position = draw(st.integers(0, 13))
    original = gtins[index][position]
    digit = draw(st.sampled_from([d for d in "0123456789" if d != original]))
    gtins[index] = gtins[index][:position] + digit + gtins[index][position + 1 :]
    return site_with(gtins), index, gtins[index]


@given(corrupted_site())
def test_any_single_digit_corruption_of_a_gtin_is_reported_at_that_gtin(case):
    text, index, bad_gtin = case

    report = check_site_text(text)

    assert report.config is None
    problems = [p for p in report.errors if p.location == f"products[{index}].gtin"]
    assert problems, report.lines()
    lines = text.splitlines()
    assert any(
        lines[p.line - 1].strip() == f'gtin: "{bad_gtin}"' for p in problems if p.line is not None
    )


@given(st.lists(st.integers(0, 99_999), min_size=1, max_size=6, unique=True))
def test_valid_generated_sites_load(items):
    report = check_site_text(site_with([gtin_for(item) for item in items]))

    assert report.problems == []


@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data):
    from config.yamlsource import parse_yaml_bytes

    document = parse_yaml_bytes(data)

    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
    lines = 1 + sum(text.count(brk) for brk in ("\n", "\r", "\x85", "\u2028", "\u2029"))
    assert all(p.line is None or 1 <= p.line <= lines for p in document.problems)


@given(st.text(max_size=300))
def test_arbitrary_text_is_reported_not_raised(text):
    report = check_site_text(text)

    assert report.config is None or report.ok
    assert all(p.location for p in report.problems)


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    st.integers(1, 120),
)
def test_expiry_rules(produced, months):
    shelf_life = ExpiryConfig(months=months)

    month_end = shelf_life.expiry_for(produced, month_only=True)
    exact = shelf_life.expiry_for(produced, month_only=False)

    assert produced <= month_end <= exact
    assert produced < exact
    assert (month_end + timedelta(days=1)).day == 1
    assert (exact - month_end).days < 31
    months_later = (exact + timedelta(days=1)).year * 12 + (exact + timedelta(days=1)).month
    assert months_later - (produced.year * 12 + produced.month) == months


KEYS_OF_A_PRODUCT = ["id", "name", "gtin", "levels"]


@given(
    st.sampled_from(KEYS_OF_A_PRODUCT),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=3),
)
def test_a_misspelled_key_is_reported_where_it_is_written(key, extra):
    text = site_with([gtin_for(1), gtin_for(2)])
    lines = text.splitlines(keepends=True)
    start = lines.index("products:\n")
    target = next(
        n for n, line in enumerate(lines) if n > start and line.lstrip(" -").startswith(f"{key}:")
    )
    lines[target] = lines[target].replace(f"{key}:", f"{key}{extra}:", 1)

    report = check_site_text("".join(lines))

    unknown = [p for p in report.errors if p.message == f"unknown key {key + extra!r}"]
    assert [(p.location, p.line) for p in unknown] == [(f"products[0].{key}{extra}", target + 1)]
