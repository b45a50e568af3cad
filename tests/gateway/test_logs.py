from __future__ import annotations

import io
import json
import sys

import pytest

from gateway.logs import configure_logging, get_logger


def test_logs_are_json_lines_when_not_on_a_terminal() -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", stream=stream)
    get_logger("test").info("codes.allocated", count=5, product="amox")
    get_logger("test").debug("hidden")
    record = json.loads(stream.getvalue())
    assert record["event"] == "codes.allocated"
    assert record["count"] == 5
    assert record["level"] == "info"
    assert record["timestamp"].endswith("Z")
    assert len(stream.getvalue().splitlines()) == 1


def test_logging_follows_a_replaced_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging(level="INFO")
    first.close()
    monkeypatch.setattr(sys, "stderr", second)
    get_logger("test").error("still.logged")
    assert json.loads(second.getvalue())["event"] == "still.logged"
