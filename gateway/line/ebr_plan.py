"""What the line records for one batch and against which limits: from the packaging order's
control recipe when the batch has one, else from the line's `ebr` section.

The recipe prescribes the process parameters with their limits, the in-process checks with
their intervals, the yield limits and the reconciliation tolerance; the line's section says how
often to sample, how long a due check may wait, which PLC counters to compare and where to keep
evidence. A recipe that leaves the parameters or checks empty prescribes none, so none are
recorded for that batch beyond the device links the line always samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from config.ebr import HEALTH_TAG, LineEbrConfig
from ebr.orders import PackagingOrder
from gateway.line.ebr_checks import CheckPlan
from gateway.line.ebr_parameters import ParameterPlan, plan_parameter

LINK_UNIT = "1=up"


@dataclass(frozen=True, slots=True)
class YieldPlan:
    low_pct: Decimal | None
    high_pct: Decimal | None


@dataclass(frozen=True, slots=True)
class FeedPlan:
    parameters: tuple[ParameterPlan, ...]
    checks: tuple[CheckPlan, ...]
    check_grace: timedelta
    sample_every_s: float
    yield_limits: YieldPlan
    reconciliation_tolerance: int
    planned_quantity: int | None
    """The order's quantity, which the yield is a percentage of; None without an order (the
    yield is then of the units coded)."""
    order_number: str | None
    limits_from: str
    """"control recipe <id> v<version> (sha256 …)" or "line <id> ebr section"."""


def feed_plan(
    config: LineEbrConfig,
    order: PackagingOrder | None,
    *,
    line_id: str,
    devices: Sequence[str],
    plc: str,
    linked: Sequence[str],
) -> FeedPlan:
    """The plan for a batch on the line: `devices` are the line's device ids, `plc` its PLC's,
    `linked` the devices whose link is always sampled."""
    recipe = order.control_recipe if order is not None else None
    links = tuple(
        ParameterPlan(f"{device}.link", device, HEALTH_TAG, LINK_UNIT, Decimal(1), None)
        for device in linked
    )
    if recipe is not None and order is not None:
        parameters = tuple(
            plan_parameter(p.name, p.tag, p.unit, p.low, p.high, devices=devices, plc=plc)
            for p in recipe.parameters
        )
        checks = tuple(
            CheckPlan(c.name, timedelta(minutes=c.interval_minutes)) for c in recipe.checks
        )
        yields = YieldPlan(recipe.yield_limits.low_pct, recipe.yield_limits.high_pct)
        tolerance = recipe.reconciliation_tolerance
        source = (
            f"control recipe {order.recipe_id} v{order.recipe_version} "
            f"(sha256 {order.control_recipe_sha256})"
        )
    else:
        parameters = tuple(
            plan_parameter(
                p.name,
                p.tag,
                p.unit,
                _decimal(p.low),
                _decimal(p.high),
                devices=devices,
                plc=plc,
            )
            for p in config.parameters
        )
        checks = tuple(
            CheckPlan(c.name, timedelta(minutes=c.interval_minutes)) for c in config.checks
        )
        limits = config.yield_limits
        yields = YieldPlan(
            _decimal(limits.low_pct if limits else None),
            _decimal(limits.high_pct if limits else None),
        )
        tolerance = config.reconciliation_tolerance
        source = f"line {line_id} ebr section"
    return FeedPlan(
        parameters=links + parameters,
        checks=checks,
        check_grace=timedelta(minutes=config.check_grace_minutes),
        sample_every_s=config.sample_every_s,
        yield_limits=yields,
        reconciliation_tolerance=tolerance,
        planned_quantity=order.quantity if order is not None else None,
        order_number=order.number if order is not None else None,
        limits_from=source,
    )


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value))
