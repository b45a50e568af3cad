from __future__ import annotations

import pytest

from drivers.base import PrinterFault, PrinterStatus
from drivers.printer.framing import (
    MAX_FRAME,
    FrameError,
    crc16,
    decode_frame,
    encode_frame,
    escape_field,
    unescape_field,
)
from drivers.printer.protocol import (
    ClientState,
    DataRequest,
    ErrorCode,
    FaultEvent,
    HelloAccepted,
    HelloRequest,
    LocalProtocolError,
    NackCode,
    PrintedAck,
    PrinterClientConnection,
    PrinterServerConnection,
    PrintNack,
    ProtocolErrorEvent,
    RequestAccepted,
    RequestRefused,
    StatusReply,
)

GS1 = "]d20109501101530003\x1d10AB%1\x1d21Z*9"
server = PrinterServerConnection


def test_crc_is_ccitt_false() -> None:
    assert crc16(b"123456789") == 0x29B1


def test_gs_and_percent_are_escaped_and_round_trip() -> None:
    assert escape_field(GS1) == b"]d20109501101530003%1D10AB%251%1D21Z*9"
    assert unescape_field(escape_field(GS1)) == GS1
    assert unescape_field(escape_field("批号 LOT\t1")) == "批号 LOT\t1"


def test_frame_layout_matches_the_specification() -> None:
    assert encode_frame(["1", "HELLO", "TGP/1"]) == b"1\tHELLO\tTGP/1*%04X\r\n" % crc16(
        b"1\tHELLO\tTGP/1"
    )
    assert decode_frame(encode_frame(["7", "DATA", "U1", GS1])) == ["7", "DATA", "U1", GS1]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"1\tOK*0000\r\n", "checksum mismatch"),
        (b"1\tOK\r\n", "does not end"),
        (b"1\tOK*12g4\r\n", "hex digits"),
        (b"1\tOK\x1d*%04X\r\n" % crc16(b"1\tOK\x1d"), "raw control byte"),
        (b"1\tOK%%1*%04X\r\n" % crc16(b"1\tOK%1"), "bad field encoding"),
        (b"1\tOK\xff*%04X\r\n" % crc16(b"1\tOK\xff"), "bad field encoding"),
    ],
)
def test_malformed_frames_are_located(line: bytes, message: str) -> None:
    result = decode_frame(line)
    assert isinstance(result, FrameError)
    assert message in result.message


def test_an_oversized_frame_is_our_error_when_we_build_it() -> None:
    with pytest.raises(ValueError, match="1024-byte limit"):
        encode_frame(["1", "DATA", "U1", "x" * MAX_FRAME])
    client = ready_client()
    with pytest.raises(LocalProtocolError, match="limit"):
        client.send_data("U1", "x" * MAX_FRAME)


def ready_client() -> PrinterClientConnection:
    client = PrinterClientConnection()
    client.send_hello()
    (event,) = client.receive_data(server.ok(1, "TGP/1", "sim", "1024", "64"))
    assert event == HelloAccepted("TGP/1", "sim", 1024, 64)
    assert client.state is ClientState.IDLE
    return client


def test_only_hello_may_come_first_and_one_request_is_in_flight() -> None:
    client = PrinterClientConnection()
    with pytest.raises(LocalProtocolError, match="cannot send STATUS in state start"):
        client.send_status()
    client.send_hello()
    with pytest.raises(LocalProtocolError, match="hello_sent"):
        client.send_status()
    client = ready_client()
    client.send_data("U1", GS1, ["LOT 1"])
    with pytest.raises(LocalProtocolError, match="awaiting_reply"):
        client.send_status()
    (event,) = client.receive_data(server.ok(2, "1"))
    assert event == RequestAccepted(2, "DATA", ("1",))
    assert client.state is ClientState.IDLE


def test_replies_unsolicited_events_and_status() -> None:
    client = ready_client()
    client.send_status()
    status = PrinterStatus(True, "unit", frozenset({PrinterFault.INK_LOW}), 3)
    data = (
        server.printed("U1")
        + server.nack("U2", NackCode.INK_OUT, "ink out")
        + server.faults({PrinterFault.INK_LOW})
        + server.status(2, status, 64)
    )
    assert client.receive_data(data) == [
        PrintedAck("U1"),
        PrintNack("U2", "ink out", "INK_OUT"),
        FaultEvent(frozenset({PrinterFault.INK_LOW})),
        StatusReply(2, status, 64),
    ]
    client.send_select("unit", ["code"])
    (refused,) = client.receive_data(server.error(3, ErrorCode.UNKNOWN_JOB, "no such job"))
    assert refused == RequestRefused(3, "SELECT", "UNKNOWN_JOB", "no such job")


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (server.ok(9), "not in flight"),
        (server.printed("U1").replace(b"PRINTED", b"PRINTEX"), "checksum"),
        (encode_frame(["0", "PRINTED"]), "malformed PRINTED"),
        (encode_frame(["0", "FAULTS", "ink,nope"]), "malformed FAULTS"),
        (encode_frame(["x", "OK"]), "sequence number"),
        (encode_frame(["1", "HI"]), "unknown verb"),
        (encode_frame(["OK"]), "without sequence number"),
    ],
)
def test_peer_garbage_becomes_an_event(frame: bytes, message: str) -> None:
    client = ready_client()
    (event,) = client.receive_data(frame)
    assert isinstance(event, ProtocolErrorEvent)
    assert message in event.message


def test_unsolicited_events_before_hello_are_errors() -> None:
    client = PrinterClientConnection()
    (event,) = client.receive_data(server.printed("U1"))
    assert isinstance(event, ProtocolErrorEvent)
    assert "before the HELLO" in event.message


def test_refused_hello_closes_the_connection() -> None:
    client = PrinterClientConnection()
    client.send_hello()
    (event,) = client.receive_data(server.error(1, ErrorCode.VERSION, "speaks TGP/2 only"))
    assert isinstance(event, RequestRefused)
    assert client.state is ClientState.CLOSED
    with pytest.raises(LocalProtocolError, match="closed"):
        client.send_status()


def test_server_side_parses_requests_and_refuses_bad_ones() -> None:
    conn = PrinterServerConnection()
    data = (
        encode_frame(["1", "HELLO", "TGP/1"])
        + encode_frame(["2", "DATA", "U1", GS1, "LOT 1"])
        + encode_frame(["3", "DATA"])
        + encode_frame(["4", "FLY"])
        + encode_frame(["0", "STATUS"])
    )
    assert conn.receive_data(data) == [
        HelloRequest(1, "TGP/1"),
        DataRequest(2, "U1", GS1, ("LOT 1",)),
        RequestRefused(3, "DATA", ErrorCode.ARGS, "wrong arguments for DATA"),
        RequestRefused(4, "FLY", ErrorCode.VERB, "unknown command 'FLY'"),
        RequestRefused(0, "", ErrorCode.FRAME, "frame needs seq 1-9999 and verb"),
    ]


def test_sequence_numbers_wrap_and_skip_zero() -> None:
    client = ready_client()
    for _ in range(9999):
        frame = client.send_status()
        seq = int(frame.split(b"\t")[0])
        assert 1 <= seq <= 9999
        client.receive_data(server.status(seq, PrinterStatus(False, None), 64))
    assert int(client.send_status().split(b"\t")[0]) == 2


def test_the_printers_smaller_frame_limit_is_respected() -> None:
    client = PrinterClientConnection()
    client.send_hello()
    client.receive_data(server.ok(1, "TGP/1", "tiny", "64", "8"))
    with pytest.raises(LocalProtocolError, match="printer's 64-byte limit"):
        client.send_data("U1", "x" * 60)
    assert client.state is ClientState.IDLE
    client.send_data("U1", "x")


def test_unit_references_are_bounded() -> None:
    client = ready_client()
    with pytest.raises(LocalProtocolError, match="1-64"):
        client.send_data("", "x")
    with pytest.raises(LocalProtocolError, match="1-64"):
        client.send_data("U" * 65, "x")


def test_a_job_needs_one_to_nine_fields() -> None:
    client = ready_client()
    with pytest.raises(LocalProtocolError, match="1-9 field names"):
        client.send_select("unit", [])
    with pytest.raises(LocalProtocolError, match="1-9 field names"):
        client.send_select("unit", [f"f{i}" for i in range(10)])
    assert client.state is ClientState.IDLE
