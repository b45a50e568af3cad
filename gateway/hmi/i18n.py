"""zh-CN and English: gettext catalogs compiled from the .po files at start, language choice
from the user's switch or the browser's Accept-Language, and localized numbers and dates.

The .po files are the source, one per part of the HMI (operator, QA, engineer), merged into one
catalog per language; they are compiled in memory with Babel when first used, so a fresh clone
needs no build step and no .mo file is committed.
"""

from __future__ import annotations

import functools
import gettext
import io
from datetime import date, datetime
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Final

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

ENGLISH: Final = "en"
CHINESE: Final = "zh_CN"
LANGUAGES: Final = (CHINESE, ENGLISH)
LANGUAGE_NAMES: Final = {CHINESE: "中文", ENGLISH: "English"}
DOMAIN: Final = "hmi"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog of `language`; English is the source language."""
    if language == ENGLISH:
        return gettext.NullTranslations()
    folder = resources.files("gateway.hmi").joinpath(f"locale/{language}/LC_MESSAGES")
    catalog = Catalog(locale=language, domain=DOMAIN)
    for po in sorted((f for f in folder.iterdir() if f.name.endswith(".po")), key=_name):
        with po.open("rb") as source:
            for message in read_po(source, locale=language, domain=DOMAIN):
                if message.id:
                    catalog[message.id] = message
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _name(entry: Traversable) -> str:
    return entry.name


def supported(language: str | None) -> str | None:
    if language is None:
        return None
    wanted = language.strip().replace("-", "_").lower()
    for known in LANGUAGES:
        if wanted == known.lower() or wanted.split("_")[0] == known.split("_")[0].lower():
            return known
    return None


def negotiate(accept_language: str | None) -> str:
    """The first supported language of an Accept-Language header by quality, else English."""
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        choices.append((-quality, index, tag))
    for negative_quality, _, tag in sorted(choices):
        found = supported(tag)
        if found is not None and negative_quality < 0:
            return found
    return ENGLISH


def number(value: float | int | None, language: str) -> str:
    if value is None:
        return "—"
    return format_decimal(value, locale=Locale.parse(language), decimal_quantization=False)


def day(value: date | None, language: str) -> str:
    if value is None:
        return "—"
    return format_date(value, format="medium", locale=Locale.parse(language))


def moment(value: datetime | None, language: str) -> str:
    if value is None:
        return "—"
    return format_datetime(value, format="medium", locale=Locale.parse(language))
