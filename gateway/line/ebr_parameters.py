"""Process parameters of a batch: where each is read, its limits, and one sample of them all.

A parameter's tag is `<device id>:<tag>` for a tag of one of the line's devices,
`<device id>:health` for a device's link (1 while up, 0 otherwise), or a tag of the line PLC
alone (an alias of its tag map or a NodeId). The tags of one device are read in one request;
a device that cannot be read gives a sample without a value that says why, never an error that
would stop the others.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from config.ebr import HEALTH_TAG
from drivers.base import DeviceHealth, DriverError, LinkState, Quality, TagSource, UsageError

HealthOf = Callable[[], DeviceHealth]


@dataclass(frozen=True, slots=True)
class ParameterPlan:
    name: str
    device: str
    tag: str
    unit: str
    low: Decimal | None
    high: Decimal | None

    @property
    def is_health(self) -> bool:
        return self.tag == HEALTH_TAG

    def in_limits(self, value: Decimal) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


@dataclass(frozen=True, slots=True)
class Sample:
    plan: ParameterPlan
    value: Decimal | None
    """None when the value could not be read (`problem` says why)."""
    read_at: datetime
    problem: str | None = None
    detail: str | None = None
    """What else was read: the link state behind a health value, a tag's quality."""

    @property
    def out_of_limits(self) -> bool:
        return self.value is not None and not self.plan.in_limits(self.value)


def plan_parameter(
    name: str,
    tag: str,
    unit: str,
    low: Decimal | None,
    high: Decimal | None,
    *,
    devices: Sequence[str],
    plc: str,
) -> ParameterPlan:
    """Where parameter `name` is read: `tag` split into the device and its tag."""
    device, colon, rest = tag.partition(":")
    if colon and device in devices:
        return ParameterPlan(name, device, rest, unit, low, high)
    return ParameterPlan(name, plc, tag, unit, low, high)


class ParameterSampler:
    def __init__(
        self,
        plans: Sequence[ParameterPlan],
        *,
        sources: Mapping[str, TagSource],
        health: Mapping[str, HealthOf],
    ) -> None:
        for plan in plans:
            known = health if plan.is_health else sources
            if plan.device not in known:
                what = "link" if plan.is_health else "tags"
                raise UsageError(
                    f"parameter {plan.name}: the {what} of device {plan.device!r} cannot be "
                    "read by the line",
                    device=plan.device,
                    hint="name a device of the line, as <device id>:<tag>; readable here: "
                    + (", ".join(sorted(known)) or "none"),
                )
        self.plans = tuple(plans)
        self._sources = dict(sources)
        self._health = dict(health)

    async def sample(self) -> list[Sample]:
        """Every parameter once; tags of one device in one read."""
        samples: dict[str, Sample] = {}
        by_device: dict[str, list[ParameterPlan]] = {}
        for plan in self.plans:
            if plan.is_health:
                samples[plan.name] = self._link(plan)
            else:
                by_device.setdefault(plan.device, []).append(plan)
        for device, plans in by_device.items():
            for sample in await self._read(device, plans):
                samples[sample.plan.name] = sample
        return [samples[plan.name] for plan in self.plans]

    def _link(self, plan: ParameterPlan) -> Sample:
        health = self._health[plan.device]()
        up = health.state is LinkState.UP
        detail = health.state.value + (f": {health.last_error}" if health.last_error else "")
        return Sample(plan, Decimal(1 if up else 0), _now(), detail=detail)

    async def _read(self, device: str, plans: list[ParameterPlan]) -> list[Sample]:
        tags = list(dict.fromkeys(plan.tag for plan in plans))
        try:
            values = await self._sources[device].read(tags)
        except DriverError as error:
            return [Sample(plan, None, _now(), problem=str(error)) for plan in plans]
        samples = []
        for plan in plans:
            tag_value = values.get(plan.tag)
            read_at = tag_value.received_time if tag_value is not None else _now()
            if tag_value is None or tag_value.quality in (Quality.BAD, Quality.STALE):
                quality = "no value" if tag_value is None else f"quality {tag_value.quality}"
                samples.append(Sample(plan, None, read_at, problem=f"{device}: {quality}"))
                continue
            number = _number(tag_value.value)
            if number is None:
                samples.append(
                    Sample(
                        plan,
                        None,
                        read_at,
                        problem=f"{device}: {plan.tag} is {tag_value.value!r}, not a number",
                    )
                )
                continue
            samples.append(Sample(plan, number, read_at, detail=f"quality {tag_value.quality}"))
        return samples


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    return None


def _now() -> datetime:
    return datetime.now(UTC)
