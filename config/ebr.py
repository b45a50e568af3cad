"""The `ebr` section of a line: what the line feeds into the executed batch record on its own.

The line samples its process parameters from device tags, schedules its in-process checks,
compares its counts with the PLC's counters and judges its yield, and writes all of it into the
batch record (`gateway/line/ebr_feed.py`). When the packaging order's control recipe prescribes
parameters, checks, yield limits or a reconciliation tolerance, those win: this section is what
a line records when it runs a batch without a recipe, and how the recipe's tag names are read.
Every default records nothing a plant has not asked for, so existing site files stay valid.
"""

from __future__ import annotations

from typing import Final

from pydantic import Field, model_validator

from config.fields import Identifier, StrictModel, Text
from config.problems import InvalidValue

HEALTH_TAG: Final = "health"
"""The pseudo-tag of a device's link: 1 while it is up, 0 otherwise."""


class EbrParameterConfig(StrictModel):
    """A process parameter sampled from a tag, with its limits."""

    name: Identifier = Field(description="Name in the batch record, e.g. line_speed.")
    tag: Text = Field(
        description="Where the value is read: <device id>:<tag> for a tag of one of the "
        "line's devices (a Modbus tag such as checkweigher-1:gross_weight_g, a PLC alias or "
        f"NodeId), <device id>:{HEALTH_TAG} for the device's link (1 up, 0 not), or a tag of "
        "the line PLC alone (its alias in the tag map, or a NodeId such as "
        "ns=1;s=Line.Conveyor.RateUpm)."
    )
    unit: Text = Field(default="1", description="Unit of the value, e.g. upm, g.")
    low: float | None = Field(default=None, description="Lowest value in limits.")
    high: float | None = Field(default=None, description="Highest value in limits.")

    @model_validator(mode="after")
    def _consistent(self) -> EbrParameterConfig:
        if self.low is None and self.high is None:
            raise InvalidValue(
                f"parameter {self.name} has neither low nor high",
                hint="a process parameter needs at least one limit",
            )
        if self.low is not None and self.high is not None and self.low > self.high:
            raise InvalidValue(
                f"parameter {self.name}: low {self.low:g} is above high {self.high:g}",
                hint="swap them, or correct the one that is wrong",
            )
        return self


class EbrCheckConfig(StrictModel):
    """An in-process check the operator records on a schedule (a weight, a code read)."""

    name: Identifier = Field(description="Name in the batch record, e.g. code_readability.")
    interval_minutes: float = Field(
        gt=0, description="Due when production starts and again after every interval."
    )


class EbrYieldConfig(StrictModel):
    """The batch's yield (units accepted of units coded), in percent."""

    low_pct: float = Field(ge=0, le=100, description="Lowest yield in limits, e.g. 95.")
    high_pct: float = Field(default=100.0, ge=0, le=100, description="Highest yield in limits.")

    @model_validator(mode="after")
    def _ordered(self) -> EbrYieldConfig:
        if self.low_pct > self.high_pct:
            raise InvalidValue(
                f"yield low_pct {self.low_pct:g} is above high_pct {self.high_pct:g}",
                hint="swap them, or correct the one that is wrong",
            )
        return self


class PlcCountersConfig(StrictModel):
    """The PLC tags (aliases of the line PLC's tag map) counting what the gateway also counts."""

    total: Text | None = Field(
        default="total", description="Units seen at the trigger sensor; none to skip."
    )
    rejected: Text | None = Field(
        default="bin_sensor", description="Units seen falling into the reject bin; none to skip."
    )


class LineEbrConfig(StrictModel):
    """The line's feed into the executed batch record: parameters, checks, counts, yield."""

    sample_every_s: float = Field(
        default=60.0,
        gt=0,
        description="Seconds between two samples of the process parameters while the batch "
        "runs (the first one period after the start, the last when production ends).",
    )
    parameters: list[EbrParameterConfig] = Field(
        default_factory=list,
        description="Process parameters sampled with limits, besides the link of the PLC, the "
        "unit printer and the unit camera, which are always sampled.",
    )
    checks: list[EbrCheckConfig] = Field(
        default_factory=list, description="In-process checks due on a schedule."
    )
    check_grace_minutes: float = Field(
        default=10.0,
        gt=0,
        description="How long a due check may wait for its result before it is missed.",
    )
    yield_limits: EbrYieldConfig | None = Field(
        default=None, description="Yield limits; none: the yield is recorded without limits."
    )
    reconciliation_tolerance: int = Field(
        default=0,
        ge=0,
        description="Codes the reconciliation may leave unaccounted for before it is a breach.",
    )
    plc_counters: PlcCountersConfig = Field(
        default_factory=PlcCountersConfig,
        description="The PLC's counters compared with the gateway's own at the batch's end.",
    )
    evidence_dir: Text = Field(
        default="evidence",
        description="Folder for evidence files (the coding specimen's image), relative to the "
        "site file.",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> LineEbrConfig:
        for what, names in (
            ("parameter", [p.name for p in self.parameters]),
            ("check", [c.name for c in self.checks]),
        ):
            repeated = sorted({name for name in names if names.count(name) > 1})
            if repeated:
                raise InvalidValue(
                    f"{what} {repeated[0]!r} is listed twice",
                    hint=f"give each {what} its own name",
                )
        return self
