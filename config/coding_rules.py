"""Coding rules: how a code is built, one model per scheme, chosen by the `scheme` key.

A rule is what a plant files with the traceability platform before it codes (R-CODE-5). A rule
says nothing about a particular product: `SiteConfig.rule_for` joins the two.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, ClassVar, Final, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator

from config.fields import Identifier, StrictModel
from config.problems import InvalidValue
from config.serial_config import (
    Nmpa20SerialConfig,
    SerialConfig,
    SsccSerialConfig,
    resolve_alphabet,
)
from serialization.codes import SchemeName
from serialization.gs1.ai import lookup
from serialization.national import AttributeId, NationalCodeFormat
from serialization.rules import Carrier, CodingRule, SerialSpec
from serialization.template import CHECK_FIELD, CodeTemplate

CarrierName = Literal["datamatrix", "gs1-128", "code128", "qr"]
CheckSystemName = Literal["mod11_10", "mod37_36", "mod97_10"]

FILLED_AIS: Final = {
    "01": "the product's GTIN",
    "10": "the batch's lot number",
    "11": "the batch's production date",
    "17": "the expiry date computed from the product's shelf life",
    "21": "the serial number",
}
"""The GS1 AIs whose values the gateway knows when it makes a code."""

BATCH_FIELDS: Final = ("lot", "gtin", "drug_id", "expiry")
"""Template fields filled from the batch and product master data, not from `template_values`."""

BUILT_IN_WIDTHS: Final = {"gtin": 14, "drug_id": 7, "expiry": 6}
"""Widths of the built-in template fields: GTIN-14, NMPA drug ID, expiry as YYMMDD."""

UNIT_ATTRIBUTES: Final = (AttributeId.TRADE_UNIT, AttributeId.SERIAL, AttributeId.LOGISTIC_UNIT)
"""National attribute ids whose attribute code can be a serial, one per package."""


def _carrier_error(scheme: str, carrier: str, allowed: tuple[str, ...], why: str) -> InvalidValue:
    return InvalidValue(
        f"a {scheme} code cannot be carried by {carrier}",
        hint=f"use {', '.join(allowed[:-1])} or {allowed[-1]}: {why}",
    )


class _RuleBase(StrictModel):
    """What every rule has; each scheme's model says which carriers suit it, and why."""

    id: Identifier = Field(description="Name the products' levels use to refer to this rule.")
    description: str | None = Field(
        default=None, description="Free text for people, e.g. the platform filing reference."
    )
    carrier: CarrierName

    carriers: ClassVar[tuple[str, ...]]
    carrier_why: ClassVar[str]
    scheme_name: ClassVar[SchemeName]

    @field_validator("carrier")
    @classmethod
    def _carrier_fits(cls, value: str) -> str:
        if value not in cls.carriers:
            raise _carrier_error(cls.scheme_name.value, value, cls.carriers, cls.carrier_why)
        return value

    def _rule(self, serial: SerialSpec | None) -> CodingRule:
        return CodingRule(
            id=self.id, scheme=self.scheme_name, carrier=Carrier(self.carrier), serial=serial
        )


def _gs1_ai(value: str) -> str:
    definition = lookup(value)
    if value not in FILLED_AIS:
        raise InvalidValue(
            f"AI ({value}) {definition.title} is a GS1 AI, but the gateway has no value to "
            "put in it",
            hint="use AIs the gateway fills: "
            + "; ".join(f"{ai} {what}" for ai, what in FILLED_AIS.items()),
        )
    return value


def _gs1_ai_list(values: list[str]) -> list[str]:
    for ai in values:
        if values.count(ai) > 1:
            raise InvalidValue(f"AI ({ai}) is listed twice", hint="list every AI once")
    missing = [ai for ai in ("01", "21") if ai not in values]
    if missing:
        raise InvalidValue(
            "a serialised GS1 code carries the GTIN (01) and a serial (21); "
            f"({') and ('.join(missing)}) missing",
            hint='for example ais: ["01", "17", "10", "21"]',
        )
    return values


Gs1Ai = Annotated[str, AfterValidator(_gs1_ai)]


class Gs1RuleConfig(_RuleBase):
    """GS1 element string: GTIN (01), serial (21) and optionally lot (10), dates (11, 17)."""

    scheme: Literal["gs1"] = Field(description="gs1: selects this kind of rule.")
    carrier: CarrierName = Field(
        default="datamatrix", description="datamatrix (GS1 DataMatrix), gs1-128 or qr (GS1 QR)."
    )
    ais: Annotated[list[Gs1Ai], AfterValidator(_gs1_ai_list)] = Field(
        description='AIs in print order, as quoted strings, e.g. ["01", "17", "10", "21"]. '
        "Must include 01 and 21; only 01, 10, 11, 17, 21 can be filled."
    )
    expiry_day_zero: bool = Field(
        default=False,
        description="Print the expiry (17) as YYMM00, meaning the last day of the month, "
        "instead of the exact day. Pick what the market's repository expects.",
    )
    serial: SerialConfig = Field(description="How the (21) serial is made.")

    carriers: ClassVar[tuple[str, ...]] = ("datamatrix", "gs1-128", "qr")
    carrier_why: ClassVar[str] = "a GS1 element string needs a carrier with FNC1"
    scheme_name: ClassVar[SchemeName] = SchemeName.GS1

    def to_rule(self) -> CodingRule:
        return replace(
            self._rule(self.serial.spec()),
            gs1_ais=tuple(self.ais),
            expiry_day_zero=self.expiry_day_zero,
        )


def _extension_digit(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _one_digit(value: str) -> str:
    if len(value) != 1 or not "0" <= value <= "9":
        raise InvalidValue(f"{value!r} is not one digit", hint="the extension digit is 0-9")
    return value


class SsccRuleConfig(_RuleBase):
    """GS1 SSCC for logistic units (cases, pallets): extension + company prefix + serial ref."""

    scheme: Literal["sscc"] = Field(description="sscc: selects this kind of rule.")
    carrier: CarrierName = Field(
        default="gs1-128", description="gs1-128 (the usual logistic label), datamatrix or qr."
    )
    extension: Annotated[str, BeforeValidator(_extension_digit), AfterValidator(_one_digit)] = (
        Field(default="0", description="The SSCC extension digit 0-9, chosen by the company.")
    )
    serial: SsccSerialConfig = Field(description="How the serial reference is made.")

    carriers: ClassVar[tuple[str, ...]] = ("gs1-128", "datamatrix", "qr")
    carrier_why: ClassVar[str] = "an SSCC needs a GS1 carrier with FNC1"
    scheme_name: ClassVar[SchemeName] = SchemeName.SSCC

    def to_rule(self, serial_length: int) -> CodingRule:
        return replace(self._rule(self.serial.spec(serial_length)), sscc_extension=self.extension)


class Nmpa20RuleConfig(_RuleBase):
    """China's 20-digit drug traceability code: 7-digit drug ID, 9-digit serial, 4 check digits.

    The platform issues these codes (码上放心 and similar); the gateway imports and prints them.
    """

    scheme: Literal["nmpa20"] = Field(description="nmpa20: selects this kind of rule.")
    carrier: CarrierName = Field(
        default="code128", description="code128 (Code 128 set C, the usual form), datamatrix or qr."
    )
    serial: Nmpa20SerialConfig = Field(
        default_factory=Nmpa20SerialConfig, description="Only {generator: imported}."
    )

    carriers: ClassVar[tuple[str, ...]] = ("code128", "datamatrix", "qr")
    carrier_why: ClassVar[str] = "the 20-digit code is not a GS1 element string"
    scheme_name: ClassVar[SchemeName] = SchemeName.NMPA20

    def to_rule(self) -> CodingRule:
        return self._rule(None)


class NationalFormatConfig(StrictModel):
    """Layout of national trace codes, for platforms that follow GB/T 44583-2024 differently."""

    delimiter: str = Field(default=".", description="Between the segments.")
    product_class_lengths: list[int] = Field(
        default=[1, 2, 3, 4, 5, 8], description="Accepted lengths of the GB/T 7635.1 class."
    )
    origin_lengths: list[int] = Field(
        default=[6, 9, 12], description="Accepted lengths of the GB/T 2260 / 10114 origin code."
    )

    @model_validator(mode="after")
    def _valid(self) -> NationalFormatConfig:
        self.to_format()
        return self

    def to_format(self) -> NationalCodeFormat:
        return NationalCodeFormat(
            delimiter=self.delimiter,
            product_class_lengths=tuple(self.product_class_lengths),
            origin_lengths=tuple(self.origin_lengths),
        )


def _unit_attribute(value: int) -> int:
    if value not in tuple(AttributeId):
        raise InvalidValue(
            f"attribute id {value} is not one of 1-6",
            hint="1 trade unit, 2 serial, 6 logistic unit",
        )
    attribute = AttributeId(value)
    if attribute not in UNIT_ATTRIBUTES:
        raise InvalidValue(
            f"attribute id {value} ({attribute.label_en}, {attribute.label_zh}) identifies a "
            "batch, so every package would carry the same code; the gateway gives every "
            "package its own code (一物一码)",
            hint="use 2 (serial) for units or 6 (logistic unit) for cases and pallets",
        )
    return value


class NationalRuleConfig(_RuleBase):
    """National important-product trace code: (USCC).(class).(origin).(attribute id).(code)."""

    scheme: Literal["national"] = Field(description="national: selects this kind of rule.")
    carrier: CarrierName = Field(default="qr", description="qr, datamatrix or code128.")
    attribute_id: Annotated[int, AfterValidator(_unit_attribute)] = Field(
        description="1 trade unit, 2 serial, 6 logistic unit. The batch ids 3-5 are refused: "
        "they would give every package the same code."
    )
    format: NationalFormatConfig = Field(
        default_factory=NationalFormatConfig,
        description="Delimiter and segment lengths; the defaults follow the 2017 trial rules.",
    )
    serial: SerialConfig = Field(description="How the attribute code (the serial) is made.")

    carriers: ClassVar[tuple[str, ...]] = ("qr", "datamatrix", "code128")
    carrier_why: ClassVar[str] = "the national trace code is not a GS1 element string"
    scheme_name: ClassVar[SchemeName] = SchemeName.NATIONAL

    @model_validator(mode="after")
    def _serial_fits_format(self) -> NationalRuleConfig:
        fmt = self.format.to_format()
        alphabet = resolve_alphabet(self.serial.alphabet)
        stray = sorted(set(alphabet) - set(fmt.attribute_code_alphabet))
        if stray:
            raise InvalidValue(
                f"serial alphabet has {''.join(stray)!r}, which an attribute code cannot hold",
                hint="use digits and upper-case letters A-Z only",
                field="serial",
            )
        shortest, longest = fmt.attribute_code_length
        if not shortest <= self.serial.length <= longest:
            raise InvalidValue(
                f"an attribute code has {shortest} to {longest} characters, "
                f"not {self.serial.length}",
                field="serial",
            )
        return self

    def to_rule(self) -> CodingRule:
        return replace(
            self._rule(self.serial.spec()),
            national_attribute_id=self.attribute_id,
            national_format=self.format.to_format(),
        )


class TemplateRuleConfig(_RuleBase):
    """A plant-specific code described by a template such as ``TG{lot:1-6}-{serial:10}{check}``.

    Fields: ``{serial:N}`` (required), ``{check}``, the built-ins ``{lot}`` (batch), ``{gtin:14}``,
    ``{drug_id:7}``, ``{expiry:6}`` (YYMMDD), and any other name, whose value each product
    gives under `template_values`.
    """

    scheme: Literal["template"] = Field(description="template: selects this kind of rule.")
    carrier: CarrierName = Field(default="datamatrix", description="datamatrix, qr or code128.")
    template: str = Field(description="Literal text and {field:width} placeholders.")
    check: CheckSystemName | None = Field(
        default=None,
        description="ISO/IEC 7064 system of the {check} field: mod11_10 (digits), mod37_36 "
        "(0-9A-Z), mod97_10 (two digits). Required when the template has {check}.",
    )
    serial: SerialConfig = Field(description="How the {serial} field is made.")

    carriers: ClassVar[tuple[str, ...]] = ("datamatrix", "qr", "code128")
    carrier_why: ClassVar[str] = "a template code is not a GS1 element string"
    scheme_name: ClassVar[SchemeName] = SchemeName.TEMPLATE

    @model_validator(mode="after")
    def _compiles(self) -> TemplateRuleConfig:
        compiled = self.compiled()
        if "serial" not in compiled.field_names:
            raise InvalidValue(
                "the template has no {serial} field, so every code would be the same",
                hint="add {serial:N} with N the serial length",
                field="template",
            )
        low, high = compiled.width("serial")
        if not low <= self.serial.length <= high:
            width = str(low) if low == high else f"{low}-{high}"
            raise InvalidValue(
                f"serial length {self.serial.length} does not fit the template's "
                f"{{serial:{width}}}",
                hint="make serial.length and the template's serial width agree",
                field="serial",
            )
        stray = sorted(set(resolve_alphabet(self.serial.alphabet)) - set(compiled.alphabet))
        if stray:
            raise InvalidValue(
                f"serial alphabet has {''.join(stray)!r}, which this template's fields cannot "
                f"hold (they take {compiled.alphabet})",
                hint="use a serial alphabet inside the template's alphabet",
                field="serial",
            )
        for name, size in BUILT_IN_WIDTHS.items():
            if name in compiled.field_names and compiled.width(name) != (size, size):
                raise InvalidValue(
                    f"{{{name}}} is always {size} characters: write {{{name}:{size}}}",
                    field="template",
                )
        return self

    def compiled(self) -> CodeTemplate:
        return CodeTemplate.compile(self.template, self.check)

    def value_fields(self) -> tuple[str, ...]:
        """Fields each product must fill through `template_values`."""
        return tuple(
            name
            for name in self.compiled().field_names
            if name not in ("serial", CHECK_FIELD, *BATCH_FIELDS)
        )

    def to_rule(self) -> CodingRule:
        return replace(self._rule(self.serial.spec()), template=self.template, check=self.check)


RuleConfig = (
    Gs1RuleConfig | SsccRuleConfig | Nmpa20RuleConfig | NationalRuleConfig | TemplateRuleConfig
)
CodingRuleConfig = Annotated[RuleConfig, Field(discriminator="scheme")]

RULE_MODELS: Final[dict[str, type[RuleConfig]]] = {
    "gs1": Gs1RuleConfig,
    "sscc": SsccRuleConfig,
    "nmpa20": Nmpa20RuleConfig,
    "national": NationalRuleConfig,
    "template": TemplateRuleConfig,
}
