"""A Modbus device's register map as data: points (a tag, a start value, how it changes)
and the register image they live in. Pure: no I/O, no pymodbus.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from drivers.base import TagScalar
from drivers.modbus.tagmap import DataType, Order, Table, Tag, TagMap, TagMapError, decode, encode


class Behaviour(StrEnum):
    CONSTANT = "constant"
    COUNTER = "counter"
    """initial + step for every elapsed period."""
    WAVE = "wave"
    """initial + step·sin(2π·t/period): a weight or a temperature wandering around a mean."""
    TOGGLE = "toggle"
    """A bit that flips every period."""


@dataclass(frozen=True, slots=True)
class Point:
    tag: Tag
    initial: TagScalar
    behaviour: Behaviour = Behaviour.CONSTANT
    step: float = 1.0
    period_s: float = 1.0

    def value_at(self, elapsed_s: float) -> TagScalar:
        ticks = math.floor(elapsed_s / self.period_s)
        match self.behaviour:
            case Behaviour.CONSTANT:
                return self.initial
            case Behaviour.COUNTER:
                assert isinstance(self.initial, int | float)
                total = self.initial + self.step * ticks
                return total if isinstance(self.initial, float) else int(total) % 2**32
            case Behaviour.WAVE:
                assert isinstance(self.initial, int | float)
                wave = self.initial + self.step * math.sin(2 * math.pi * elapsed_s / self.period_s)
                return wave if self.tag.data_type.value.startswith("float") else round(wave)
            case Behaviour.TOGGLE:
                return bool(self.initial) ^ (ticks % 2 == 1)


class RegisterImage:
    """The four tables of every slave, as plain lists; what the server reads and writes."""

    def __init__(self, points: Sequence[Point]) -> None:
        self.tags = TagMap(point.tag for point in points)
        self.points = {point.tag.name: point for point in points}
        self.tables: dict[int, dict[Table, list[int]]] = {}
        for point in points:
            slave = self.tables.setdefault(point.tag.slave, {table: [] for table in Table})
            table = slave[point.tag.table]
            needed = -(-point.tag.end // 16) * 16
            if len(table) < needed:
                table.extend([0] * (needed - len(table)))
        for slaves in self.tables.values():
            for table in slaves.values():
                if not table:
                    table.extend([0] * 16)
        for point in points:
            self.set(point.tag.name, point.initial)

    @property
    def slaves(self) -> list[int]:
        return sorted(self.tables)

    def set(self, name: str, value: TagScalar) -> None:
        tag = self.tags[name]
        table = self.tables[tag.slave][tag.table]
        if tag.table.is_bit:
            table[tag.address] = int(bool(value))
        else:
            table[tag.address : tag.end] = encode(tag, value)

    def get(self, name: str) -> TagScalar:
        tag = self.tags[name]
        table = self.tables[tag.slave][tag.table]
        if tag.table.is_bit:
            return bool(table[tag.address])
        return decode(tag, table[tag.address : tag.end])

    def advance(self, elapsed_s: float) -> None:
        """Bring every changing point to its value `elapsed_s` after start."""
        for point in self.points.values():
            if point.behaviour is not Behaviour.CONSTANT:
                self.set(point.tag.name, point.value_at(elapsed_s))

    def store(self, slave: int, table: Table, address: int, values: Iterable[int]) -> None:
        """Apply a client's write of raw registers or bits."""
        target = self.tables[slave][table]
        for offset, value in enumerate(values):
            target[address + offset] = int(value)


# --- maps from data --------------------------------------------------------------------------


def points_from_data(entries: Iterable[Mapping[str, Any]]) -> list[Point]:
    """Points from plain data (parsed JSON): one mapping per point; errors name the entry."""
    points = []
    for index, entry in enumerate(entries):
        where = f"point #{index + 1} ({entry.get('name', '?')!r})"
        try:
            tag = Tag(
                name=str(entry["name"]),
                slave=int(entry.get("slave", 1)),
                table=Table(entry["table"]),
                address=int(entry["address"]),
                data_type=DataType(entry["type"]),
                length=int(entry.get("length", 0)),
                byte_order=Order(entry.get("byte_order", "big")),
                word_order=Order(entry.get("word_order", "big")),
            )
            point = Point(
                tag=tag,
                initial=entry.get("initial", _zero(tag)),
                behaviour=Behaviour(entry.get("behaviour", "constant")),
                step=float(entry.get("step", 1.0)),
                period_s=float(entry.get("period_s", 1.0)),
            )
        except KeyError as missing:
            raise TagMapError(f"{where}: missing key {missing}") from None
        except ValueError as error:
            raise TagMapError(f"{where}: {error}") from None
        if point.period_s <= 0:
            raise TagMapError(f"{where}: period_s must be positive")
        numeric = not tag.table.is_bit and tag.data_type is not DataType.STRING
        if point.behaviour in (Behaviour.COUNTER, Behaviour.WAVE) and not numeric:
            raise TagMapError(f"{where}: behaviour {point.behaviour.value!r} needs a number type")
        if point.behaviour is Behaviour.TOGGLE and not tag.table.is_bit:
            raise TagMapError(f"{where}: behaviour 'toggle' needs a coil or discrete input")
        points.append(point)
    RegisterImage(points)
    return points


def _zero(tag: Tag) -> TagScalar:
    if tag.data_type is DataType.BOOL:
        return False
    if tag.data_type is DataType.STRING:
        return ""
    return 0.0 if tag.data_type.value.startswith("float") else 0


def _point(
    name: str,
    slave: int,
    table: Table,
    address: int,
    data_type: DataType,
    initial: TagScalar,
    **extra: Any,
) -> Point:
    tag_fields = {k: extra.pop(k) for k in ("length", "byte_order", "word_order") if k in extra}
    return Point(Tag(name, slave, table, address, data_type, **tag_fields), initial, **extra)


def checkweigher_points(slave: int = 1) -> list[Point]:
    """A checkweigher: live weight, counters, status bits, set-points and a product code."""
    ir, hr, di, co = Table.INPUT, Table.HOLDING, Table.DISCRETE_INPUT, Table.COIL
    return [
        _point(
            "weight_g", slave, ir, 0, DataType.FLOAT32, 250.0, behaviour=Behaviour.WAVE, step=2.5
        ),
        _point(
            "units_weighed",
            slave,
            ir,
            2,
            DataType.UINT32,
            0,
            behaviour=Behaviour.COUNTER,
            period_s=0.1,
        ),
        _point(
            "reject_count",
            slave,
            ir,
            4,
            DataType.UINT32,
            0,
            behaviour=Behaviour.COUNTER,
            period_s=2.0,
        ),
        _point("belt_speed_mpm", slave, ir, 6, DataType.INT16, 45),
        _point("status_word", slave, ir, 7, DataType.UINT16, 0x0001),
        _point("running", slave, di, 0, DataType.BOOL, True),
        _point("fault", slave, di, 1, DataType.BOOL, False),
        _point("reject_gate_open", slave, di, 2, DataType.BOOL, False, behaviour=Behaviour.TOGGLE),
        _point("target_weight_g", slave, hr, 0, DataType.FLOAT32, 250.0),
        _point("tolerance_g", slave, hr, 2, DataType.FLOAT32, 5.0, byte_order=Order.LITTLE),
        _point("product_code", slave, hr, 4, DataType.STRING, "CW-DEMO", length=16),
        _point("tare_mg", slave, hr, 12, DataType.INT32, -1500, word_order=Order.LITTLE),
        _point("calibration", slave, hr, 14, DataType.FLOAT64, 1.0),
        _point("batch_size", slave, hr, 18, DataType.UINT16, 1000),
        _point("reset_counters", slave, co, 0, DataType.BOOL, False),
        _point("reject_enable", slave, co, 1, DataType.BOOL, True),
    ]


def reject_station_points(slave: int = 2) -> list[Point]:
    """A reject station: a reject counter, a bin-full bit, a reject command and a delay."""
    return [
        _point(
            "rejects",
            slave,
            Table.INPUT,
            0,
            DataType.UINT32,
            0,
            behaviour=Behaviour.COUNTER,
            period_s=1.0,
        ),
        _point("bin_full", slave, Table.DISCRETE_INPUT, 0, DataType.BOOL, False),
        _point("reject_command", slave, Table.COIL, 0, DataType.BOOL, False),
        _point("reject_delay_ms", slave, Table.HOLDING, 0, DataType.UINT16, 350),
    ]


def default_points() -> list[Point]:
    """A checkweigher on slave 1 and a reject station on slave 2, sharing one bus."""
    return [*checkweigher_points(1), *reject_station_points(2)]
