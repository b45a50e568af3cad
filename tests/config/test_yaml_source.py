"""The file itself: missing, empty, not UTF-8, not YAML, duplicate keys, and line numbers."""

from __future__ import annotations

from config import Problem, Severity, check_site_file, check_site_text, format_problem
from config.yamlsource import parse_yaml_text


def only_file_problem(problems: list[Problem]) -> Problem:
    [problem] = problems
    assert problem.location == "(file)"
    assert problem.severity is Severity.ERROR
    return problem


def test_missing_file(tmp_path):
    report = check_site_file(tmp_path / "nowhere.yaml")

    problem = only_file_problem(report.problems)
    assert problem.message == f"file not found: {tmp_path / 'nowhere.yaml'}"
    assert problem.line is None
    assert problem.hint is not None
    assert "site-minimal.yaml" in problem.hint
    assert report.config is None


def test_a_folder_is_not_a_site_file(tmp_path):
    problem = only_file_problem(check_site_file(tmp_path).problems)

    assert "is a directory" in problem.message


def test_empty_file(tmp_path):
    (tmp_path / "site.yaml").write_text("")

    problem = only_file_problem(check_site_file(tmp_path / "site.yaml").problems)
    assert problem.message == "the file is empty"
    assert problem.line == 1


def test_a_file_of_comments_is_empty():
    problem = only_file_problem(check_site_text("# nothing yet\n\n# still nothing\n").problems)

    assert problem.message == "the file is empty"


def test_non_utf8_bytes_are_located(tmp_path):
    (tmp_path / "site.yaml").write_bytes("site:\n  company_name: 示例制药\n".encode("gbk"))

    problem = only_file_problem(check_site_file(tmp_path / "site.yaml").problems)
    assert problem.message == "not UTF-8 text: byte 0xc0 at column 19"
    assert problem.line == 2
    assert problem.hint is not None
    assert "UTF-8" in problem.hint


def test_a_utf8_byte_order_mark_is_accepted(tmp_path, base_site):
    (tmp_path / "site.yaml").write_bytes(b"\xef\xbb\xbf" + base_site.encode())

    assert check_site_file(tmp_path / "site.yaml").problems == []


def test_syntax_error_reports_its_line():
    text = "site:\n  id: x\n  company_name: a: b\n"

    problem = only_file_problem(check_site_text(text).problems)
    assert problem.message.startswith("YAML syntax: mapping values are not allowed here")
    assert problem.line == 3
    assert problem.hint is not None
    assert "quote" in problem.hint


def test_tabs_get_their_own_hint():
    problem = only_file_problem(check_site_text("site:\n\tid: x\n").problems)

    assert problem.line == 2
    assert problem.hint == "YAML indents with spaces, not tabs"


def test_two_documents_are_refused():
    problem = only_file_problem(check_site_text("site: {}\n---\nsite: {}\n").problems)

    assert "expected a single document" in problem.message
    assert problem.line == 2


def test_control_characters_are_refused():
    problem = only_file_problem(check_site_text("site:\n  id: a\x1fb\n").problems)

    assert problem.message == "control character U+001F cannot appear in a YAML file"
    assert problem.line == 2


def test_python_tags_are_refused():
    problem = only_file_problem(check_site_text("site: !!python/object:os.system {}\n").problems)

    assert "could not determine a constructor" in problem.message


def test_top_level_must_be_a_mapping():
    [problem] = check_site_text("- site\n- lines\n").problems

    assert problem.location == "(file)"
    assert "must be a mapping" in problem.message


def test_duplicate_keys_are_errors_at_the_second_key(base_site, line_at):
    text = base_site.replace(
        '    gtin: "09501101530003"\n',
        '    gtin: "09501101530003"\n    gtin: "09501101530010"\n',
    )

    report = check_site_text(text)

    [problem] = report.problems
    assert problem.location == "products[0].gtin"
    assert problem.line == line_at(text, '"09501101530010"')
    assert problem.message == (
        f"duplicate key 'gtin' (first written at line {line_at(text, '09501101530003')}); "
        "YAML would silently keep only the last one"
    )
    assert report.config is None


def test_duplicate_keys_in_the_top_level_are_found_too(base_site):
    text = base_site + "lines: []\n"

    [problem] = check_site_text(text).problems

    assert problem.location == "lines"
    assert problem.line == len(text.splitlines())


def test_anchors_and_merge_keys_share_settings_without_false_duplicates(base_site):
    text = base_site.replace(
        "    serial:\n      generator: csprng\n      alphabet: safe-alphanumeric\n"
        "      length: 10\n      planned_volume: 1_000_000\n  - id: tpl",
        "    serial: &random10\n      generator: csprng\n      alphabet: safe-alphanumeric\n"
        "      length: 10\n      planned_volume: 1_000_000\n  - id: tpl",
    ).replace(
        "    check: mod37_36\n    serial:\n      generator: csprng\n"
        "      alphabet: safe-alphanumeric\n      length: 10\n      planned_volume: 1_000_000\n",
        "    check: mod37_36\n    serial:\n      <<: *random10\n      planned_volume: 2_000_000\n",
    )
    assert "<<: *random10" in text

    report = check_site_text(text)

    assert report.problems == []
    assert report.config is not None
    template_rule = report.config.rule_for("p-template", "unit")
    assert template_rule.serial is not None
    assert template_rule.serial.planned_volume == 2_000_000
    assert template_rule.serial.length == 10


def test_recursive_aliases_do_not_hang():
    report = check_site_text("x: &a [*a]\n")

    assert {p.location for p in report.problems} == {"x", "site"}


def test_source_map_points_a_missing_key_at_its_mapping():
    document = parse_yaml_text("a:\n  b:\n    - c: 1\n    - d: 2\n")

    assert document.source.line(("a", "b", 1, "d")) == 4
    assert document.source.line(("a", "b", 1, "missing")) == 4
    assert document.source.line(("a", "nothing", 3)) == 1
    assert document.source.text(("a", "b", 0, "c")) == "1"


def test_format_problem():
    problem = Problem(
        "products[2].gtin",
        41,
        "check digit should be 3, not 4",
        hint="the key with a correct check digit is 09501101530003",
    )

    assert format_problem(problem, "demo.yaml") == (
        "demo.yaml:41: products[2].gtin: check digit should be 3, not 4 "
        "(fix: the key with a correct check digit is 09501101530003)"
    )
    assert format_problem(Problem("(file)", None, "file not found: x.yaml"), "x.yaml") == (
        "x.yaml: (file): file not found: x.yaml"
    )
    warning = Problem("site.serial_key_file", 9, "missing", None, Severity.WARNING)
    assert format_problem(warning, "demo.yaml") == (
        "demo.yaml:9: warning: site.serial_key_file: missing"
    )
