"""The batch report printed in zh-CN and English: every signature's printed name, meaning and
time, every recorded value (the JSON's text and numbers are all on the pages), the † mark and
the replaced value of a correction, and on every page the batch, page x/y and record hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from ebr.report import LANGUAGES, ReportError, render_json, render_pdf
from ebr.report.model import BatchReport
from tests.ebr.report.report_fixtures import pdf_pages, recorded_leaves, sample_report, squeeze


@pytest.fixture(scope="module")
def report() -> BatchReport:
    return sample_report()


@pytest.fixture(scope="module", params=LANGUAGES)
def printed(
    request: pytest.FixtureRequest, report: BatchReport, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, list[str]]:
    lang = str(request.param)
    path = tmp_path_factory.mktemp("report") / f"batch-{lang}.pdf"
    render_pdf(report, lang, path)
    return lang, pdf_pages(path)


def test_every_signature_is_printed_with_name_meaning_and_time(
    printed: tuple[str, list[str]], report: BatchReport
) -> None:
    _, pages = printed
    text = "".join(pages)
    for signature in report.signatures:
        assert squeeze(signature.printed_name) in text
        assert signature.meaning in text
        assert signature.signed_at in text
        assert signature.record_hash in text


def test_the_pdf_and_the_json_agree_on_every_value(
    printed: tuple[str, list[str]], report: BatchReport
) -> None:
    _, pages = printed
    text = "".join(pages)
    missing = [
        (key, value)
        for key, value in recorded_leaves(render_json(report))
        if squeeze(str(value)) not in text
    ]
    assert missing == []


def test_a_value_changed_after_first_entry_is_marked_with_the_value_it_replaced(
    printed: tuple[str, list[str]],
) -> None:
    lang, pages = printed
    text = "".join(pages)
    if lang == "zh-CN":
        assert "†首次录入后修改" in text
        assert "修改前#3:12" in text
        assert "已被#4更正" in text
    else:
        assert "†changedafterfirstentry" in text
        assert "before#3:12" in text
        assert "supersededby#4" in text


def test_fixed_text_is_in_the_chosen_language(printed: tuple[str, list[str]]) -> None:
    lang, pages = printed
    text = "".join(pages)
    chinese = ("批包装记录", "电子签名", "签名含义", "异常", "偏差", "物料平衡", "放行")
    english = ("Batchpackagingrecord", "Electronicsignatures", "Meaning", "Exceptions")
    if lang == "zh-CN":
        assert all(word in text for word in chinese)
        assert "复核(verified)" in text
        assert "超限(out_of_limit)" in text
        assert not any(word in text for word in english)
    else:
        assert all(word in text for word in english)
        assert "Deviations" in text
        assert "批包装记录" not in text


def test_every_page_names_the_batch_its_number_and_the_record_hash(
    printed: tuple[str, list[str]], report: BatchReport
) -> None:
    lang, pages = printed
    record_hash = render_json(report)["RecordHash"]
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        counter = f"第{number}/{len(pages)}页" if lang == "zh-CN" else f"page{number}/{len(pages)}"
        assert counter in page
        assert record_hash in page
        assert "L-2026-11" in page


def test_an_unknown_language_is_refused_with_the_choices(
    report: BatchReport, tmp_path: Path
) -> None:
    with pytest.raises(ReportError, match="'fr'") as error:
        render_pdf(report, "fr", tmp_path / "r.pdf")
    assert error.value.hint == "choose one of zh-CN, en"
    assert not (tmp_path / "r.pdf").exists()


def test_an_unwritable_path_is_refused_with_a_fix(report: BatchReport, tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "r.pdf"
    with pytest.raises(ReportError, match="cannot write the batch report") as error:
        render_pdf(report, "en", target)
    assert error.value.hint is not None
    assert "folder" in error.value.hint
