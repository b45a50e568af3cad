"""zh-CN and English: every text of the HMI has its Chinese translation, the browser's
Accept-Language picks the first language, the switch changes it, numbers are localized."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

import pytest
from babel.messages.extract import extract_from_dir

from gateway.hmi.i18n import CHINESE, ENGLISH, moment, negotiate, number, translations
from tests.gateway.hmi.hmi_fixtures import Hmi, hmi, token_of

__all__ = ["hmi"]


def hmi_messages() -> set[str]:
    folder = str(resources.files("gateway.hmi"))
    found = extract_from_dir(
        folder,
        method_map=[("**/templates/**.html", "jinja2"), ("**.py", "python")],
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
        keywords={"_": None, "N_": None},
    )
    return {message for _, _, message, _, _ in found if isinstance(message, str)}


def test_every_text_has_a_chinese_translation() -> None:
    messages = hmi_messages()
    assert len(messages) > 100
    chinese = translations(CHINESE)
    untranslated = sorted(m for m in messages if chinese.gettext(m) == m)
    assert not untranslated, untranslated


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", CHINESE),
        ("en-US,en;q=0.9,zh-CN;q=0.5", ENGLISH),
        ("fr-FR, zh;q=0.7", CHINESE),
        ("de-DE", ENGLISH),
        (None, ENGLISH),
        ("zh-TW;q=0, en;q=0.1", ENGLISH),
    ],
)
def test_the_browsers_language_is_negotiated(header: str | None, language: str) -> None:
    assert negotiate(header) == language


def test_numbers_and_dates_are_localized() -> None:
    assert number(1234567, ENGLISH) == "1,234,567"
    assert number(1234567, CHINESE) == "1,234,567"
    assert number(None, CHINESE) == "—"
    when = datetime(2026, 11, 22, 8, 5, tzinfo=UTC)
    assert moment(when, ENGLISH).startswith("Nov 22, 2026")
    assert moment(when, CHINESE).startswith("2026年11月22日")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_login_page_follows_the_browser_and_the_switch(hmi: Hmi) -> None:
    chinese = await hmi.http.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-CN">' in chinese.text
    assert "<h1>登录</h1>" in chinese.text
    english = await hmi.http.get("/login", headers={"Accept-Language": "en"})
    assert "<h1>Log in</h1>" in english.text
    token = await hmi.log_in("op.li")
    switched = await hmi.http.post(
        "/language", data={"csrf_token": token, "language": "zh_CN", "next": "/alarms"}
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == "/alarms"
    page = await hmi.http.get("/alarms", headers={"Accept-Language": "en"})
    assert "<h1>报警</h1>" in page.text, "the user's choice wins over the browser"
    assert token_of(page) == token
    unknown = await hmi.http.post("/language", data={"csrf_token": token, "language": "xx"})
    assert unknown.status_code == 400
    assert "unknown language" in unknown.text
