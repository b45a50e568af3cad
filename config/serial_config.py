"""The `serial` block of a coding rule: how the random part of each code is made."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field, field_validator, model_validator

from config.fields import StrictModel
from config.problems import InvalidValue
from serialization.rules import SerialGenerator, SerialSpec
from serialization.serials import DIGITS, SAFE_ALPHANUMERIC, check_serial_policy

GeneratorName = Literal["csprng", "ff1", "imported"]

ALPHABETS: Final = {"digits": DIGITS, "safe-alphanumeric": SAFE_ALPHANUMERIC}
"""Named serial alphabets; any other `alphabet` value is the list of characters itself."""


def resolve_alphabet(name_or_chars: str) -> str:
    return ALPHABETS.get(name_or_chars, name_or_chars)


class SerialConfig(StrictModel):
    """How the serial part of each code is made (R-CODE-4: random, not guessable).

    The odds that someone guesses a real serial are `planned_volume` / alphabet size ^ `length`;
    they must stay below 1 in 10,000 (EU 2016/161 Art. 4(c), seed 001 annex 2 item 13).
    """

    generator: GeneratorName = Field(
        description="csprng: random draw, uniqueness kept by the database; ff1: FF1 encryption "
        "of a counter under the site's serial key (site.serial_key_file); imported: serials "
        "only from lists or ranges imported from the enterprise system."
    )
    alphabet: str = Field(
        description='"digits", "safe-alphanumeric" (0-9 and A-Z without letters a camera or '
        "a person confuses, such as I, O, Q, S, Z), or the characters themselves, e.g. "
        '"0123456789ABCDEF".'
    )
    length: int = Field(ge=1, le=20, description="Characters per serial (GS1 AI 21: at most 20).")
    planned_volume: int = Field(
        ge=1,
        description="Serials this rule will ever issue for one product at one level; it sets "
        "the guessing odds, so estimate high (e.g. 50_000_000).",
    )

    @model_validator(mode="after")
    def _safe(self) -> SerialConfig:
        check_serial_policy(self.spec())
        return self

    def spec(self) -> SerialSpec:
        return SerialSpec(
            generator=SerialGenerator(self.generator),
            alphabet=resolve_alphabet(self.alphabet),
            length=self.length,
            planned_volume=self.planned_volume,
        )


class SsccSerialConfig(StrictModel):
    """The serial reference of an SSCC: digits, as many as the company prefix leaves free.

    Unlike pack serials, SSCCs are not held to the 1-in-10,000 guessing odds: GS1 fixes their
    length (a 7-digit prefix leaves 9 digits, so the odds would cap a plant at 99,999 SSCCs
    for ever), and EU 2016/161 Art. 4 sets the odds for the pack's unique identifier, not for
    logistic units. They are still drawn at random or by FF1, never counted up.
    """

    generator: GeneratorName = Field(description="csprng, ff1 or imported, as for other serials.")
    alphabet: Literal["digits"] = Field(
        default="digits", description='Always "digits": an SSCC is numeric.'
    )
    length: int | None = Field(
        default=None,
        ge=1,
        description="16 minus the length of the company prefix (9 for a 7-digit prefix). "
        "Leave it out to have it computed; if given, it must match.",
    )
    planned_volume: int = Field(
        ge=1,
        description="SSCCs this rule will ever issue under one company prefix; must fit in "
        "the serial reference (fewer than 10^length).",
    )

    def spec(self, length: int) -> SerialSpec:
        return SerialSpec(SerialGenerator(self.generator), DIGITS, length, self.planned_volume)


class Nmpa20SerialConfig(StrictModel):
    """20-digit NMPA codes are only ever imported: see `Nmpa20RuleConfig`."""

    generator: GeneratorName = Field(default="imported", description='Must be "imported".')

    @field_validator("generator")
    @classmethod
    def _imported_only(cls, value: str) -> str:
        if value != "imported":
            raise InvalidValue(
                f"20-digit NMPA codes cannot use generator {value}: the platform issues them "
                "whole, and their 4 check digits come from an unpublished algorithm, so the "
                "gateway can neither make nor verify them",
                hint="write generator: imported and import the issued codes "
                "(tracegate codes import FILE)",
            )
        return value
