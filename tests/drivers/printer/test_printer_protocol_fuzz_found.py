"""Regression (found by fuzz/): a HELLO reply whose frame limit is a non-ASCII digit such as
'²' raised ValueError from the parser instead of becoming a protocol error event."""

from __future__ import annotations

from drivers.printer.framing import encode_frame
from drivers.printer.protocol import ClientState, PrinterClientConnection, ProtocolErrorEvent


def test_a_unicode_digit_in_the_hello_reply_is_a_protocol_error() -> None:
    client = PrinterClientConnection()
    client.send_hello()
    (event,) = client.receive_data(encode_frame(["1", "OK", "TGP/1", "model", "²", "5"]))
    assert isinstance(event, ProtocolErrorEvent)
    assert "max_frame" in event.message
    assert client.state is ClientState.CLOSED
