"""Products: master data, shelf life and the packaging levels that get codes."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Annotated, Final, Literal

from pydantic import AfterValidator, Field

from config.fields import CompanyPrefix, Gtin, Identifier, NmpaDrugId, StrictModel, Text
from config.problems import InvalidValue

LevelName = Literal["unit", "bundle", "case", "pallet"]
LEVEL_ORDER: Final[tuple[str, ...]] = ("unit", "bundle", "case", "pallet")


def _digits(value: str) -> str:
    if not value.isascii() or not value.isdigit():
        raise InvalidValue(f"{value!r} is not all digits", hint="write the code as digits only")
    return value


Digits = Annotated[str, AfterValidator(_digits)]


class LevelConfig(StrictModel):
    """One packaging level of the product that gets a code of its own."""

    level: LevelName = Field(description="unit, bundle, case or pallet; smallest first.")
    coding_rule: Identifier = Field(description="Id of the coding rule for this level.")
    quantity: int | None = Field(
        default=None,
        ge=1,
        description="How many packages of the level listed before this one each package "
        "holds (e.g. 20 units per case). Required on every level but the first; not allowed "
        "on the first.",
    )


class ExpiryConfig(StrictModel):
    """Shelf life, from which each batch's expiry date is computed.

    China's labelling rule (药品说明书和标签管理规定, 局令第24号, 第二十三条) is followed: an
    expiry given to the day is the day before the date `months` after production; one given
    to the month is the month before, i.e. its last day. 2024-05-15 + 24 months gives
    2026-05-14, or 2026-04 (2026-04-30) to the month.
    """

    months: int = Field(ge=1, le=600, description="Shelf life in months (有效期).")
    day_zero: bool | None = Field(
        default=None,
        description="true: the expiry is a month (printed as YYMM00 in AI 17); false: an "
        "exact day. Left out: follows the product's GS1 rule (its expiry_day_zero).",
    )

    def expiry_for(self, production_date: date, *, month_only: bool) -> date:
        years, month_index = divmod(production_date.month - 1 + self.months, 12)
        year, month = production_date.year + years, month_index + 1
        if month_only:
            return date(year, month, 1) - timedelta(days=1)
        day = min(production_date.day, calendar.monthrange(year, month)[1])
        return date(year, month, day) - timedelta(days=1)


class NationalProductConfig(StrictModel):
    """The fixed segments of the national trace code; the USCC comes from `site.uscc`."""

    product_class: Digits = Field(
        description="GB/T 7635.1 product class, digits only (e.g. 8 digits for a full class)."
    )
    origin: Digits = Field(
        description="Place of origin: GB/T 2260 county code (6 digits) or a longer GB/T 10114 "
        "code, as the coding rule's format allows."
    )


class ProductConfig(StrictModel):
    """A product the site codes: what its coding rules need, and its packaging levels.

    Which fields are required depends on the rules its levels use: gs1 needs `gtin` and a
    company prefix, sscc a company prefix, nmpa20 `nmpa_drug_id`, national `national`, and
    template a value in `template_values` for every field the template does not fill itself.
    """

    id: Identifier = Field(description="Name used by lines and orders, e.g. amox-500-24.")
    name: Text = Field(description="Product name as on the pack, e.g. 阿莫西林胶囊 0.25g×24粒.")
    gtin: Gtin | None = Field(
        default=None,
        description='GTIN-8/12/13/14 of the coded level, in quotes ("09501101530003") so YAML '
        "keeps its leading zeros; the check digit is verified.",
    )
    company_prefix: CompanyPrefix | None = Field(
        default=None,
        description="GS1 company prefix of this product, if not the site's "
        "gs1_company_prefix. The GTIN must lie under it.",
    )
    nmpa_drug_id: NmpaDrugId | None = Field(
        default=None, description="7-digit NMPA drug identification code (药品标识码), quoted."
    )
    national: NationalProductConfig | None = Field(
        default=None, description="Segments of the national trace code."
    )
    template_values: dict[str, str] = Field(
        default_factory=dict,
        description="Values of this product's template fields, as quoted strings.",
    )
    expiry: ExpiryConfig | None = Field(
        default=None, description="Shelf life; required when a rule prints the expiry (17)."
    )
    levels: list[LevelConfig] = Field(
        min_length=1, description="Coded packaging levels, smallest first."
    )

    def level(self, name: str) -> LevelConfig | None:
        return next((entry for entry in self.levels if entry.level == name), None)
