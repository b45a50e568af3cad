"""The printer simulator: what lands on the units, print faults, the raw protocol, the CLI."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.base import PrintItem, PrintOutcome
from drivers.printer import TcpPrinter
from drivers.printer.framing import decode_frame, encode_frame
from simulators.printer import PrintedUnit, PrinterSimulator, PrintFaults, build_parser

ROOT = Path(__file__).resolve().parents[2]


async def print_units(sim: PrinterSimulator, count: int) -> list[PrintItem]:
    items = [PrintItem(f"U{i}", f"0109501101530003\x1d21S{i:04d}", ()) for i in range(count)]
    async with TcpPrinter("p", "127.0.0.1", sim.port) as printer:
        await printer.wait_until_up(5)
        await printer.load_job("j", ["code"])
        for item in items:
            await printer.send(item)
        reports = printer.reports()
        async with asyncio.timeout(10):
            for _ in items:
                assert (await anext(reports)).outcome is PrintOutcome.PRINTED
    return items


async def test_every_print_is_recorded_and_announced() -> None:
    seen: list[PrintedUnit] = []
    async with PrinterSimulator(on_print=seen.append) as sim:
        items = await print_units(sim, 5)
    assert [u.unit_ref for u in seen] == [i.unit_ref for i in items]
    for item in items:
        unit = sim.printed[item.unit_ref]
        assert unit.payload == item.payload == unit.sent_payload
        assert unit.job == "j"
        assert not unit.smudged
        assert not unit.wrong_data


@pytest.mark.parametrize("fault", ["skip", "smudge", "wrong_data"])
async def test_print_faults_are_confirmed_but_visible_on_the_unit(fault: str) -> None:
    faults = PrintFaults(**{fault: 1.0})
    async with PrinterSimulator(print_faults=faults, seed=1) as sim:
        items = await print_units(sim, 3)
    for item in items:
        unit = sim.printed[item.unit_ref]
        assert (unit.payload is None) == (fault == "skip")
        assert unit.smudged == (fault == "smudge")
        assert unit.wrong_data == (fault == "wrong_data")
        if fault == "wrong_data":
            assert unit.payload is not None
            assert len(unit.payload) == len(item.payload)


async def raw_exchange(port: int, *frames: list[str]) -> list[list[str]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        replies = []
        for frame in frames:
            writer.write(encode_frame(frame))
            decoded = decode_frame(await reader.readline())
            assert isinstance(decoded, list)
            replies.append(decoded)
        return replies
    finally:
        writer.close()
        await writer.wait_closed()


async def test_raw_protocol_hello_first_select_data_go() -> None:
    async with PrinterSimulator(jobs={"j": ["code"]}, print_interval=None) as sim:
        replies = await raw_exchange(
            sim.port,
            ["1", "STATUS"],
            ["2", "HELLO", "TGP/9"],
            ["3", "HELLO", "TGP/1"],
            ["4", "DATA", "U1", "x"],
            ["5", "SELECT", "k", "code"],
            ["6", "SELECT", "j", "code"],
            ["7", "DATA", "U1", "x"],
            ["8", "GO"],
        )
    assert [r[:3] for r in replies] == [
        ["1", "ERR", "STATE"],
        ["2", "ERR", "VERSION"],
        ["3", "OK", "TGP/1"],
        ["4", "ERR", "NOJOB"],
        ["5", "ERR", "UNKNOWN_JOB"],
        ["6", "OK"],
        ["7", "OK", "1"],
        ["8", "OK", "U1"],
    ]
    assert sim.printed["U1"].payload == "x"


async def test_garbage_from_the_client_is_answered_with_a_frame_error() -> None:
    async with PrinterSimulator() as sim:
        reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
        writer.write(b"hello printer\r\n")
        reply = decode_frame(await reader.readline())
        writer.close()
        await writer.wait_closed()
    assert isinstance(reply, list)
    assert reply[:3] == ["0", "ERR", "FRAME"]


def test_command_line_parses_jobs_and_rejects_bad_ones(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["--port", "0", "--job", "unit=code,lot", "--skip", "0.1"])
    assert args.job == [("unit", ("code", "lot"))]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--job", "unit"])
    assert "NAME=field1,field2" in capsys.readouterr().err


def test_command_line_reports_a_bad_rate() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "simulators.printer", "--port", "0", "--skip", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "skip=2.0 is not a probability" in result.stderr
