"""The feed's parts that need no line: the checks' schedule and the writes' order (both as state
machines, property-based), parameters read from devices, the PLC's counters, the coding specimen,
the reconciliation's arithmetic, and the `ebr` section of the site file."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from config.ebr import LineEbrConfig, PlcCountersConfig
from drivers.base import (
    DeviceHealth,
    DeviceUnavailableError,
    Frame,
    LinkState,
    PixelFormat,
    Quality,
    SmartResult,
    TagValue,
    UsageError,
)
from ebr.execution.errors import ExecutionError, SequenceError
from ebr.execution.kinds import Step
from ebr.orders import PackagingOrder
from ebr.recipes.content import parse_content
from gateway.line.ebr_checks import CheckPlan, CheckSchedule, DueCheck
from gateway.line.ebr_closing import unaccounted, yield_percent
from gateway.line.ebr_counts import compare_counts
from gateway.line.ebr_parameters import ParameterSampler, plan_parameter
from gateway.line.ebr_plan import feed_plan
from gateway.line.ebr_specimen import SpecimenTap, write_specimen
from gateway.line.ebr_writes import Waiting, Write, WriteQueue
from gateway.line.pipeline import UnitTrack
from serialization.coding import IssuedCode

START = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

# --- the checks' schedule -------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    intervals=st.lists(st.integers(1, 90), min_size=1, max_size=3),
    grace=st.integers(1, 30),
    steps=st.lists(st.integers(0, 45), min_size=1, max_size=12),
    done_every=st.integers(1, 4),
)
def test_each_check_falls_due_once_per_interval_and_is_missed_at_most_once(
    intervals: list[int], grace: int, steps: list[int], done_every: int
) -> None:
    plans = tuple(CheckPlan(f"check-{i}", timedelta(minutes=m)) for i, m in enumerate(intervals))
    schedule = CheckSchedule(plans, timedelta(minutes=grace))
    assert schedule.due(START) == []
    schedule.start(START)
    schedule.start(START + timedelta(minutes=5))
    announced: list[DueCheck] = []
    missed: list[DueCheck] = []
    done: list[DueCheck] = []
    now = START
    for step in steps:
        now += timedelta(minutes=step)
        fresh = schedule.due(now)
        assert all(check.due_at <= now for check in fresh)
        announced += fresh
        finished = announced[::done_every]
        schedule.done(finished)
        done += finished
        late = schedule.missed(now)
        assert all(check.due_at + timedelta(minutes=grace) < now for check in late)
        missed += late
    missed += schedule.missed(now, ended=True)
    schedule.stop()
    assert schedule.due(now + timedelta(days=1)) == []
    for plan in plans:
        times = [c.due_at for c in announced if c.name == plan.name]
        expected = []
        at = START
        while at <= now:
            expected.append(at)
            at += plan.interval
        assert times == expected
    assert len(set(missed)) == len(missed)
    assert not set(missed) & set(done)
    assert set(missed) | set(done) == set(announced)


# --- the writes' order ----------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(st.sampled_from(list(Step)[:8]), min_size=1, max_size=20),
    blocked=st.sampled_from([None, *list(Step)[:8]]),
)
def test_writes_are_made_in_the_records_step_order_and_wait_for_a_step_not_done(
    steps: list[Step], blocked: Step | None
) -> None:
    made: list[tuple[Step, int]] = []
    queue = WriteQueue(gap_s=0)
    for number, step in enumerate(steps):
        queue.add(Write(step, f"write {number}", functools.partial(made.append, (step, number))))
    order = list(Step)

    def missing(step: Step) -> Step | None:
        return blocked if blocked is not None and order.index(step) > order.index(blocked) else None

    result = queue.flush(missing)
    expected = sorted(enumerate(steps), key=lambda item: (order.index(item[1]), item[0]))
    runnable = [
        (step, n)
        for n, step in expected
        if blocked is None or order.index(step) <= order.index(blocked)
    ]
    assert made == runnable
    assert len(queue) == len(steps) - len(runnable)
    assert (result.waiting is None) == (len(queue) == 0)
    queue.flush()
    assert len(queue) == 0
    assert sorted(made[len(runnable) :]) == sorted(
        (step, n) for n, step in expected if (step, n) not in runnable
    )


def test_a_refused_write_is_dropped_and_an_unreachable_database_tried_again() -> None:
    queue = WriteQueue(gap_s=0)
    tries: list[str] = []

    def refused() -> None:
        tries.append("refused")
        raise ExecutionError("value 'x' has limits but is not a number", hint="record a number")

    def unreachable() -> None:
        tries.append("unreachable")
        if tries.count("unreachable") == 1:
            raise OperationalError("INSERT", {}, Exception("database is locked"))

    def waiting() -> None:
        tries.append("waiting")
        raise Waiting("it needs a second person's verifying signature")

    queue.add(Write(Step.PRODUCTION, "the weight", refused))
    queue.add(Write(Step.PRODUCTION, "the speed", unreachable))
    first = queue.flush()
    assert [reason for _, reason in first.dropped] == [
        "value 'x' has limits but is not a number (record a number)"
    ]
    assert first.error is not None
    assert "database is locked" in first.error
    assert len(queue) == 1
    second = queue.flush()
    assert (second.error, len(second.done), len(queue)) == (None, 1, 0)
    queue.add(Write(Step.CLEARANCE, "the verification", waiting))
    queue.add(Write(Step.COUNTS, "the counts", lambda: tries.append("counts")))
    third = queue.flush()
    assert third.waiting == ("the verification: it needs a second person's verifying signature")
    assert tries[-1] == "waiting"

    def out_of_order() -> None:
        raise SequenceError("refused before step setup is done", missing="setup")

    queue = WriteQueue(gap_s=0)
    queue.add(Write(Step.CHALLENGE, "the challenge", out_of_order))
    assert queue.flush().waiting == "the challenge: refused before step setup is done"
    assert len(queue) == 1


# --- parameters, counters -------------------------------------------------------------------


@dataclass
class FakeTags:
    name: str
    values: dict[str, Any]
    quality: Quality = Quality.GOOD
    down: bool = False
    reads: list[list[str]] = field(default_factory=list)

    async def read(self, tags: Sequence[str]) -> dict[str, TagValue]:
        self.reads.append(list(tags))
        if self.down:
            raise DeviceUnavailableError("not connected", device=self.name)
        return {t: TagValue(self.values.get(t), self.quality, None, NOW) for t in tags}

    async def write(self, values: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def subscribe(self, tags: Sequence[str]) -> Any:
        raise NotImplementedError

    def health(self) -> DeviceHealth:
        return _health(self.name, LinkState.DOWN if self.down else LinkState.UP)


def _health(name: str, state: LinkState) -> DeviceHealth:
    return DeviceHealth(
        name, "fake", state, NOW, None, 0, "closed" if state.value != "up" else None
    )


def _plans(*specs: tuple[str, str]) -> list[Any]:
    devices = ["plc-1", "checkweigher-1", "printer-1"]
    return [
        plan_parameter(name, tag, "u", Decimal(0), Decimal(10), devices=devices, plc="plc-1")
        for name, tag in specs
    ]


async def test_parameters_are_read_per_device_and_a_device_down_spoils_only_its_own() -> None:
    plc = FakeTags("plc-1", {"ns=1;s=Speed": 6.5, "ns=1;s=Mode": "auto", "total": 3})
    scale = FakeTags("checkweigher-1", {"gross_weight_g": 12.0}, down=True)
    plans = _plans(
        ("speed", "ns=1;s=Speed"),
        ("mode", "ns=1;s=Mode"),
        ("count", "plc-1:total"),
        ("weight", "checkweigher-1:gross_weight_g"),
        ("printer", "printer-1:health"),
        ("odd", "other:thing"),
    )
    assert [(p.device, p.tag) for p in plans] == [
        ("plc-1", "ns=1;s=Speed"),
        ("plc-1", "ns=1;s=Mode"),
        ("plc-1", "total"),
        ("checkweigher-1", "gross_weight_g"),
        ("printer-1", "health"),
        ("plc-1", "other:thing"),
    ]
    sampler = ParameterSampler(
        plans,
        sources={"plc-1": plc, "checkweigher-1": scale},
        health={"printer-1": lambda: _health("printer-1", LinkState.DEGRADED)},
    )
    samples = {s.plan.name: s for s in await sampler.sample()}
    assert plc.reads == [["ns=1;s=Speed", "ns=1;s=Mode", "total", "other:thing"]]
    assert samples["speed"].value == Decimal("6.5")
    assert samples["count"].value == 3
    assert samples["mode"].problem == "plc-1: ns=1;s=Mode is 'auto', not a number"
    assert samples["weight"].value is None
    assert "not connected" in (samples["weight"].problem or "")
    assert (samples["printer"].value, samples["printer"].out_of_limits) == (Decimal(0), False)
    assert samples["printer"].detail == "degraded: closed"
    plc.quality = Quality.STALE
    stale = {s.plan.name: s for s in await sampler.sample()}
    assert stale["speed"].problem == "plc-1: quality stale"


def test_a_parameter_of_a_device_the_line_cannot_read_is_refused_with_a_hint() -> None:
    (plan,) = _plans(("weight", "checkweigher-1:gross_weight_g"))
    with pytest.raises(UsageError, match="cannot be read by the line") as refused:
        ParameterSampler([plan], sources={}, health={})
    assert refused.value.hint is not None
    assert "<device id>:<tag>" in refused.value.hint


async def test_the_plcs_counters_are_read_again_while_they_still_move() -> None:
    plc = FakeTags("plc-1", {"total": 120, "bin_sensor": 7})
    gateway = iter([{"total": 119, "rejected": 7}, {"total": 120, "rejected": 7}])
    counted = await compare_counts(plc, PlcCountersConfig(), lambda: next(gateway), settle_s=5)
    assert [(c.name, c.plc, c.gateway, c.differs) for c in counted] == [
        ("total", 120, 120, False),
        ("rejected", 7, 7, False),
    ]
    stuck = await compare_counts(
        plc, PlcCountersConfig(rejected=None), lambda: {"total": 118}, settle_s=0
    )
    assert [(c.name, c.differs) for c in stuck] == [("total", True)]
    plc.down = True
    (unread,) = await compare_counts(
        plc, PlcCountersConfig(rejected=None), lambda: {"total": 118}, settle_s=0
    )
    assert unread.plc is None
    assert not unread.differs
    assert "not connected" in (unread.problem or "")
    assert await compare_counts(plc, PlcCountersConfig(total=None, rejected=None), dict) == []


# --- the coding specimen --------------------------------------------------------------------


def _track(ref: int) -> UnitTrack:
    track = UnitTrack(ref, 0.0, 0.25)
    track.code = IssuedCode(f"key-{ref}", f"S{ref}", f"]d2DATA{ref}", f"(21)S{ref}")
    return track


def test_the_first_accepted_unit_and_its_frame_are_the_specimen(tmp_path: Path) -> None:
    tap = SpecimenTap(keep=2)
    pixels = np.arange(12 * 8, dtype=np.uint8).reshape(8, 12)
    for ref in (1, 2, 3):
        tap.frame(Frame(str(ref), 12, 8, PixelFormat.MONO8, pixels.tobytes(), NOW))
    tap.accepted(_track(1))
    assert not tap.taken
    tap.accepted(_track(3))
    assert tap.specimen is not None
    assert (tap.specimen.unit_ref, tap.specimen.code_key) == ("3", "key-3")
    tap.frame(Frame("4", 12, 8, PixelFormat.MONO8, bytes(96), NOW))
    tap.accepted(_track(4))
    assert tap.specimen.unit_ref == "3"

    image = write_specimen(tap.specimen, tmp_path / "evidence", 7)
    assert image is not None
    png = image.path.read_bytes()
    assert image.path.name == "batch-7-specimen-unit-3.png"
    assert hashlib.sha256(png).hexdigest() == image.sha256
    decoded = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert decoded is not None
    assert np.array_equal(decoded, pixels)

    smart = SpecimenTap()
    smart.frame(SmartResult("5", "]d2DATA5", "]d2", "A", NOW))
    smart.accepted(_track(5))
    assert smart.specimen is not None
    assert write_specimen(smart.specimen, tmp_path, 7) is None


# --- arithmetic and configuration -----------------------------------------------------------


def test_the_counts_add_up_or_say_by_how_much_they_do_not() -> None:
    balanced = {"allocated": 10, "issued": 8, "buffered": 2, "accepted": 6, "rejected": 2}
    assert unaccounted(balanced) == 0
    assert unaccounted({**balanced, "accepted": 5}) == 1
    assert unaccounted({**balanced, "allocated": 12, "accepted": 7}) == 3
    assert yield_percent(2, 3) == Decimal("66.67")


def test_the_ebr_section_says_what_is_wrong_and_how_to_fix_it() -> None:
    assert LineEbrConfig().parameters == []
    for section, message in (
        ({"parameters": [{"name": "speed", "tag": "plc-1:speed"}]}, "neither low nor high"),
        (
            {"parameters": [{"name": "speed", "tag": "s", "low": 9, "high": 3}]},
            "low 9 is above high 3",
        ),
        (
            {"checks": [{"name": "a", "interval_minutes": 5}] * 2},
            "check 'a' is listed twice",
        ),
        ({"yield_limits": {"low_pct": 99, "high_pct": 98}}, "low_pct 99 is above high_pct 98"),
        ({"sample_every_s": 0}, "greater than 0"),
    ):
        with pytest.raises(ValidationError, match=message):
            LineEbrConfig.model_validate(section)


def test_a_control_recipe_prescribes_the_limits_and_the_line_its_own_otherwise() -> None:
    config = LineEbrConfig.model_validate(
        {
            "parameters": [{"name": "speed", "tag": "ns=1;s=Speed", "low": 100, "high": 900.5}],
            "checks": [{"name": "weight", "interval_minutes": 30}],
            "yield_limits": {"low_pct": 97.5},
            "reconciliation_tolerance": 2,
        }
    )
    devices = ["plc-1", "printer-1", "camera-1"]
    plan = feed_plan(
        config, None, line_id="line-1", devices=devices, plc="plc-1", linked=["printer-1"]
    )
    assert [(p.name, p.device, p.tag, p.low, p.high) for p in plan.parameters] == [
        ("printer-1.link", "printer-1", "health", Decimal(1), None),
        ("speed", "plc-1", "ns=1;s=Speed", Decimal(100), Decimal("900.5")),
    ]
    assert [(c.name, c.interval) for c in plan.checks] == [("weight", timedelta(minutes=30))]
    assert (plan.yield_limits.low_pct, plan.yield_limits.high_pct) == (
        Decimal("97.5"),
        Decimal(100),
    )
    assert (plan.reconciliation_tolerance, plan.planned_quantity) == (2, None)
    assert plan.limits_from == "line line-1 ebr section"

    content = parse_content(
        {
            "levels": [{"level": "unit", "coding_rule": "gs1-unit"}],
            "lines": ["line-1"],
            "clearance_checklist": ["line empty"],
            "materials": [],
            "parameters": [
                {"name": "weight", "tag": "checkweigher-1:g", "unit": "g", "low": "11.5"}
            ],
            "checks": [{"name": "code", "interval_minutes": 15}],
            "yield_limits": {"low_pct": 99, "high_pct": 100},
            "reconciliation_tolerance": 0,
        }
    )
    order = PackagingOrder(
        id=1,
        number="PO-7",
        source="download",
        product_id="amox",
        line_id="line-1",
        lot="L7",
        expiry=None,
        production_date=START.date(),
        quantity=5000,
        levels=content.levels,
        recipe_id="amox-pack",
        recipe_version=3,
        control_recipe=content,
        control_recipe_sha256=content.sha256(),
        control_recipe_intact=True,
        status="ready",
        batch_id=7,
        created_at=START,
        created_by="eng.liu",
    )
    devices.append("checkweigher-1")
    ordered = feed_plan(config, order, line_id="line-1", devices=devices, plc="plc-1", linked=[])
    assert [(p.name, p.device, p.tag, p.low, p.high) for p in ordered.parameters] == [
        ("weight", "checkweigher-1", "g", Decimal("11.5"), None)
    ]
    assert [(c.name, c.interval) for c in ordered.checks] == [("code", timedelta(minutes=15))]
    assert (ordered.yield_limits.low_pct, ordered.reconciliation_tolerance) == (Decimal(99), 0)
    assert (ordered.planned_quantity, ordered.order_number) == (5000, "PO-7")
    assert ordered.limits_from == f"control recipe amox-pack v3 (sha256 {content.sha256()})"
    assert ordered.sample_every_s == config.sample_every_s
