"""The Modbus device simulator's pure parts (points, image, maps from data), its pty link and
its command line."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import serial

from drivers.modbus import DataType, Table, Tag, TagMapError
from simulators.modbus_device import (
    Behaviour,
    Point,
    PtyLink,
    RegisterImage,
    default_points,
    points_from_data,
)


def test_behaviours_over_time() -> None:
    counter = Point(Tag("c", 1, Table.INPUT, 0, DataType.UINT32), 5, Behaviour.COUNTER, 2, 0.5)
    assert [counter.value_at(t) for t in (0.0, 0.49, 0.5, 1.6)] == [5, 5, 7, 11]
    wave = Point(Tag("w", 1, Table.INPUT, 0, DataType.FLOAT32), 250.0, Behaviour.WAVE, 2.0, 4.0)
    assert wave.value_at(1.0) == pytest.approx(252.0)
    assert wave.value_at(3.0) == pytest.approx(248.0)
    toggle = Point(Tag("t", 1, Table.COIL, 0, DataType.BOOL), False, Behaviour.TOGGLE)
    assert [toggle.value_at(t) for t in (0.5, 1.5, 2.5)] == [False, True, False]


def test_image_holds_encoded_values_and_applies_writes() -> None:
    image = RegisterImage(default_points())
    assert image.slaves == [1, 2]
    assert image.get("product_code") == "CW-DEMO"
    assert image.get("tare_mg") == -1500
    image.store(1, Table.HOLDING, 18, [7])
    assert image.get("batch_size") == 7
    image.store(2, Table.COIL, 0, [1])
    assert image.get("reject_command") is True
    image.advance(3.0)
    assert image.get("units_weighed") == 30


def test_points_from_data() -> None:
    points = points_from_data(
        [
            {"name": "speed", "table": "holding", "address": 3, "type": "int16", "initial": -4},
            {
                "name": "count",
                "slave": 5,
                "table": "input",
                "address": 0,
                "type": "uint32",
                "word_order": "little",
                "behaviour": "counter",
                "period_s": 0.2,
            },
        ]
    )
    image = RegisterImage(points)
    assert image.get("speed") == -4
    assert image.slaves == [1, 5]
    assert points[1].tag.word_order == "little"


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ({"table": "holding", "address": 0, "type": "int16"}, "missing key 'name'"),
        ({"name": "a", "table": "flash", "address": 0, "type": "int16"}, "'flash'"),
        ({"name": "a", "table": "holding", "address": 0, "type": "int9"}, "'int9'"),
        (
            {"name": "a", "table": "holding", "address": 0, "type": "int16", "initial": 1e6},
            "expected an integer",
        ),
        (
            {"name": "a", "table": "holding", "address": 0, "type": "int16", "period_s": 0},
            "period_s must be positive",
        ),
        (
            {"name": "a", "table": "coil", "address": 0, "type": "bool", "behaviour": "wave"},
            "needs a number type",
        ),
        (
            {"name": "a", "table": "input", "address": 0, "type": "int16", "behaviour": "toggle"},
            "needs a coil",
        ),
    ],
)
def test_bad_map_entries_are_named(entry: dict[str, object], fragment: str) -> None:
    with pytest.raises(TagMapError, match=fragment) as caught:
        points_from_data([entry])
    assert "point #1" in str(caught.value) or "'a'" in str(caught.value)


async def test_pty_link_carries_bytes_both_ways() -> None:
    async with PtyLink() as link:
        left = serial.Serial(link.ends[0], baudrate=115200, timeout=0)
        right = serial.Serial(link.ends[1], baudrate=115200, timeout=0)
        try:
            left.write(b"\x01\x03ping")
            right.write(b"pong")
            received: dict[str, bytes] = {"left": b"", "right": b""}
            for _ in range(100):
                await asyncio.sleep(0.01)
                received["right"] += right.read(64)
                received["left"] += left.read(64)
                if received == {"left": b"pong", "right": b"\x01\x03ping"}:
                    break
            assert received == {"left": b"pong", "right": b"\x01\x03ping"}
        finally:
            left.close()
            right.close()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulators.modbus_device", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )


def test_cli_refuses_a_bad_map(tmp_path: Path) -> None:
    bad = tmp_path / "map.json"
    bad.write_text(json.dumps([{"name": "a", "table": "coil", "address": 0, "type": "int16"}]))
    result = run_cli("--tcp-port", "0", "--map", str(bad))
    assert result.returncode == 2
    assert "use data type 'bool'" in result.stderr
    not_a_list = tmp_path / "other.json"
    not_a_list.write_text("{}")
    result = run_cli("--tcp-port", "0", "--map", str(not_a_list))
    assert "expected a JSON list" in result.stderr
