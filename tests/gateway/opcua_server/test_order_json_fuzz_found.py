"""Regression (found by fuzz/): an order or product JSON text with a number of more than 4300
digits or nesting deeper than Python's recursion limit raised ValueError / RecursionError (a Bad
internal error over OPC UA) instead of `OrderError` saying what to send."""

from __future__ import annotations

import pytest

from gateway.opcua_server.order_json import OrderError, parse_json_object


@pytest.mark.parametrize(
    ("text", "words"),
    [('{"planned_quantity": ' + "9" * 5000 + "}", "4300 digits"), ("[" * 100_000, "nested")],
)
def test_an_unreadable_json_text_is_an_order_error(text: str, words: str) -> None:
    with pytest.raises(OrderError) as refused:
        parse_json_object(text, "order")
    assert refused.value.field == ""
    assert words in refused.value.message
    assert "JSON object" in refused.value.message
