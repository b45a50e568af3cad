"""Harnesses for the device protocols: printer TGP/1 and its Modbus map, camera TGCF, scanner.

The sans-IO parsers document that they never raise on what the peer sends: garbage becomes an
error event. So any exception here is a bug, and the buffers must stay within their limits.
"""

from __future__ import annotations

from drivers.camera.protocol import FrameParser, Limits
from drivers.printer import modbus_map
from drivers.printer.framing import MAX_FRAME, decode_frame, encode_frame
from drivers.printer.protocol import PrinterClientConnection, PrinterServerConnection
from drivers.scanner.protocol import ScanData, ScanDecoder
from fuzz.bytes_input import chunks

CAMERA_LIMITS = Limits(max_width=256, max_height=256, max_body=64 * 1024, max_text_body=4096)
"""Small limits, so a fuzzed header announcing a body can be completed by fuzzed bytes."""


def fuzz_printer_client(data: bytes) -> None:
    """The gateway's side of TGP/1 after a HELLO, fed the printer's bytes in pieces."""
    client = PrinterClientConnection()
    client.send_hello()
    for piece in chunks(data):
        client.receive_data(piece)
        assert client.buffered <= MAX_FRAME
        if client.state.value == "idle" and data[0] & 1:
            client.send_status()
    client.receive_eof()


def fuzz_printer_server(data: bytes) -> None:
    """The printer's side of TGP/1 (the simulator), fed a gateway's bytes in pieces."""
    server = PrinterServerConnection()
    for piece in chunks(data):
        server.receive_data(piece)
        assert server.buffered <= MAX_FRAME
    server.receive_eof()


def fuzz_printer_frame(data: bytes) -> None:
    """One line as a frame: decoded fields survive encoding and decoding again."""
    decoded = decode_frame(data[:MAX_FRAME])
    if isinstance(decoded, list):
        assert decode_frame(encode_frame(decoded)) == decoded, (decoded, data)


def fuzz_printer_modbus_map(data: bytes) -> None:
    """Register text and words as a Modbus printer reports them."""
    text = data.decode("latin-1")
    try:
        decoded = modbus_map.decode_text(text)
    except ValueError:
        pass
    else:
        assert modbus_map.decode_text(modbus_map.escape(decoded)) == decoded
    word = int.from_bytes(data[:4].ljust(4, b"\0"), "big")
    command, sequence = modbus_map.split_command_word(word)
    assert modbus_map.command_word(next(iter(modbus_map.Command)), sequence) & 0xFFFF == sequence
    assert 0 <= command <= 0xFFFF
    modbus_map.faults_of(word)
    modbus_map.error_of(word & 0xFFFF)
    modbus_map.nack_of(word & 0xFFFF)


def fuzz_camera_frames(data: bytes) -> None:
    """The camera's TGCF stream, fed in pieces; the buffer never exceeds header + max body."""
    parser = FrameParser(CAMERA_LIMITS)
    for piece in chunks(data):
        parser.feed(piece)
        assert parser.buffered <= CAMERA_LIMITS.max_buffer
    parser.feed_eof()
    assert parser.closed


def fuzz_scanner(data: bytes) -> None:
    """A handheld scanner's stream, with the default suffix and with a programmed one."""
    for suffix in (None, b"\r\n", b"#"):
        decoder = ScanDecoder(suffix, max_length=64)
        for piece in chunks(data):
            for event in decoder.feed(piece):
                if isinstance(event, ScanData):
                    assert event.raw.decode("utf-8") == event.text
                    assert len(event.raw) <= 64
            assert decoder.buffered <= 64
        decoder.close()
