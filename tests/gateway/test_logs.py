from __future__ import annotations

import io
import json

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
