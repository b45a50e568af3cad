"""One JSON stream for the gateway's and the protocol libraries' logs, with the line, batch and
unit context bound where the work happens."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import warnings

from gateway.logs import LIBRARY_LOGGERS, configure_logging, get_logger, log_context


def records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_context_is_carried_into_the_tasks_a_batch_starts() -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", stream=stream)

    async def unit_task(ref: int) -> None:
        with log_context(unit=ref):
            logging.getLogger("tracegate.line.pipeline").info("verdict")

    with log_context(line="line-1", batch=17):
        get_logger("tracegate.line").info("batch.started")
        await asyncio.gather(unit_task(1), unit_task(2))
    get_logger("tracegate.line").info("after")

    lines = records(stream)
    assert [(r.get("line"), r.get("batch"), r.get("unit")) for r in lines] == [
        ("line-1", 17, None),
        ("line-1", 17, 1),
        ("line-1", 17, 2),
        (None, None, None),
    ]
    assert lines[1]["logger"] == "tracegate.line.pipeline"
    assert lines[0]["logger"] == "tracegate.line"


def test_libraries_log_warnings_and_above_in_the_same_format() -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", stream=stream)
    for name in ("asyncua", "pymodbus", "aiomqtt", "paho", "httpx", "uvicorn.error"):
        logging.getLogger(f"{name}.client").info("chatter")
        logging.getLogger(f"{name}.client").warning("%s lost its peer", name)
    logging.getLogger("tracegate.drivers").info("printer-1 up")

    lines = records(stream)
    assert [r["event"] for r in lines] == [
        "asyncua lost its peer",
        "pymodbus lost its peer",
        "aiomqtt lost its peer",
        "paho lost its peer",
        "httpx lost its peer",
        "uvicorn.error lost its peer",
        "printer-1 up",
    ]
    assert all(r["level"] in ("warning", "info") and r["timestamp"] for r in lines)
    assert {logging.getLogger(name).level for name in LIBRARY_LOGGERS} == {logging.WARNING}


def test_a_stricter_gateway_level_applies_to_libraries_too() -> None:
    stream = io.StringIO()
    configure_logging(level="ERROR", stream=stream)
    logging.getLogger("asyncua").warning("quiet")
    logging.getLogger("asyncua").error("loud")
    assert [r["event"] for r in records(stream)] == ["loud"]
    configure_logging(level="INFO", stream=stream)
    ours = [h for h in logging.getLogger().handlers if type(h).__module__ == "gateway.logs"]
    assert len(ours) == 1


def test_python_warnings_such_as_sqlalchemys_are_logged() -> None:
    stream = io.StringIO()
    logging.captureWarnings(False)
    configure_logging(level="INFO", stream=stream)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("relationship X will copy column y", stacklevel=1)
    logging.captureWarnings(False)
    (line,) = records(stream)
    assert line["logger"] == "py.warnings"
    assert "relationship X will copy column y" in str(line["event"])
