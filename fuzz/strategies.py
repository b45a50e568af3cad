"""Hypothesis strategies per target: raw bytes, and valid inputs with a few edits, which reach
far deeper into a parser than random bytes do. Each strategy yields the harness's `bytes`."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import strategies as st

from drivers.base import PixelFormat
from drivers.camera.protocol import FrameEncoder
from drivers.printer.framing import encode_frame
from fuzz.device_protocols import CAMERA_LIMITS

_ROOT = Path(__file__).resolve().parent.parent
_TEXT = st.text(st.characters(codec="utf-8"), max_size=24)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def _edited(draw: st.DrawFn, seeds: st.SearchStrategy[bytes]) -> bytes:
    """A seed with up to four byte edits: insert, delete or overwrite a short run."""
    data = bytearray(draw(seeds))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(data)))
        run = draw(st.binary(max_size=4))
        match draw(st.sampled_from(("insert", "delete", "overwrite"))):
            case "insert":
                data[at:at] = run
            case "delete":
                del data[at : at + len(run) + 1]
            case _:
                data[at : at + len(run)] = run
    return bytes(data)


def _fuzzed(seeds: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    return st.binary(max_size=512) | seeds | _edited(seeds)


def _with_chunking(frames: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """Frames after one byte that sets the read size (see `bytes_input.chunks`)."""
    return st.builds(
        lambda size, body: bytes([size]) + b"".join(body),
        st.integers(0, 255),
        st.lists(frames, max_size=6),
    )


_PRINTER_VERBS = (
    "OK",
    "ERR",
    "PRINTED",
    "NACK",
    "FAULTS",
    "HELLO",
    "SELECT",
    "DATA",
    "GO",
    "STATUS",
    "CLEAR",
    "TGP/1",
    "ready=1",
    "capacity=²",
    "faults=-",
)
_printer_frames = st.builds(
    lambda seq, verb, args: encode_frame([seq, verb, *args]),
    st.sampled_from(("0", "1", "2", "9999", "10000", "x", "²")) | st.integers(0, 99).map(str),
    st.sampled_from(_PRINTER_VERBS),
    st.lists(st.sampled_from(_PRINTER_VERBS) | _TEXT.map(lambda t: t[:40]), max_size=5),
)


def _camera_frame(kind: int, unit: str, text: str, size: int) -> bytes:
    encoder = FrameEncoder(CAMERA_LIMITS)
    unit = unit.replace("\0", "")[:8] or "u1"
    match kind:
        case 0:
            return encoder.smart_result(unit, text, "DataMatrix", "A")
        case 1:
            return encoder.error("E1", text, unit_ref=unit)
        case 2:
            return encoder.heartbeat()
        case _:
            return encoder.image(unit, size, size, PixelFormat.MONO8, bytes(size * size))


_camera_frames = st.builds(_camera_frame, st.integers(0, 3), _TEXT, _TEXT, st.integers(1, 8))

_scans = st.builds(
    lambda text, end: text.encode("utf-8") + end,
    st.sampled_from(("]d2", "]C1", "")).flatmap(lambda p: _TEXT.map(lambda t: p + t)),
    st.sampled_from((b"\r\n", b"\r", b"\n", b"#", b"")),
)

_CODES = (
    "]d20109501101530003172801311010L-1\x1d21ABC123",
    "(01)09501101530003(17)280131(10)L-1(21)ABC123",
    "https://id.gs1.org/01/09501101530003/21/ABC123?17=280131&10=L-1",
    "urn:epc:id:sgtin:9501101.053000.ABC123",
    "urn:epc:tag:sgtin-96:1.9501101.053000.12345",
    "3034257BF7194E4000001A85",
    "81234560000000000012",
    "86900000000001",
    "00095011010000000018",
    "TGL-1-ABCDEFGHIJ0",
)
_code_seeds = st.sampled_from(_CODES).map(lambda code: code.encode("utf-8"))

_site_texts = tuple(
    (_ROOT / "config" / "examples" / name).read_bytes() for name in ("site-minimal.yaml",)
)


@st.composite
def _site_file(draw: st.DrawFn) -> bytes:
    """An example site file with one line replaced by fuzzed YAML-ish text."""
    lines = draw(st.sampled_from(_site_texts)).splitlines(keepends=True)
    at = draw(st.integers(0, len(lines) - 1))
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    key = lines[at].strip().split(b":", 1)[0]
    value = draw(
        st.sampled_from((b"", b"-1", b"0", b"[]", b"{}", b"~", b"*a", b"&a x", b"!!binary x"))
        | _TEXT.map(lambda t: json.dumps(t).encode())
    )
    lines[at] = indent + key + b": " + value + b"\n"
    return b"".join(lines)


def _csv(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(row) for row in rows).encode("utf-8")


_csv_files = st.builds(
    lambda header, rows: _csv([header, *rows]),
    st.sampled_from(
        (
            ["product", "serial"],
            ["product", "level", "code"],
            ["product", "range_start", "range_end"],
            ["serial"],
        )
    ),
    st.lists(st.lists(_TEXT, max_size=4), max_size=4),
)
_json_values = _JSON.map(lambda value: json.dumps(value).encode("utf-8"))
_import_json = st.builds(
    lambda product, key, value: json.dumps({"product": product, key: value}).encode("utf-8"),
    _TEXT,
    st.sampled_from(("serials", "codes", "ranges", "level")),
    _JSON,
)
_epcis_json = st.builds(
    lambda body, events: json.dumps(
        {
            "@context": "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-01-01T00:00:00Z",
            "epcisBody": body if events is None else {"eventList": events},
        }
    ).encode("utf-8"),
    _JSON,
    st.none()
    | st.lists(
        st.dictionaries(
            st.sampled_from(
                ("type", "bizStep", "disposition", "bizTransactionList", "sourceList", "eventTime")
            ),
            _JSON,
            max_size=4,
        ),
        max_size=2,
    ),
)
_XML = (
    b'<?xml version="1.0"?><epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" '
    b'schemaVersion="2.0" creationDate="2026-01-01T00:00:00Z"><EPCISBody><EventList>'
    b"<ObjectEvent><eventTime>2026-01-01T00:00:00Z</eventTime><eventTimeZoneOffset>+00:00"
    b"</eventTimeZoneOffset><action>ADD</action><bizStep>commissioning</bizStep>"
    b'<disposition>active</disposition><bizTransactionList><bizTransaction type="po">x'
    b"</bizTransaction></bizTransactionList></ObjectEvent></EventList></EPCISBody>"
    b"</epcis:EPCISDocument>",
    b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>',
    b'<Relation><Product><Batch><Code layer="1">81234560000000000012</Code></Batch></Product>'
    b"</Relation>",
)
_xml_seeds = st.sampled_from(_XML)
_order_json = st.builds(
    lambda fields: json.dumps(fields).encode("utf-8"),
    st.fixed_dictionaries(
        {},
        optional=dict.fromkeys(
            (
                "product",
                "lot",
                "line",
                "planned_quantity",
                "expiry",
                "production_date",
                "id",
                "gtin",
                "national",
            ),
            _JSON | _TEXT,
        ),
    ),
)

STRATEGIES: dict[str, st.SearchStrategy[bytes]] = {
    "printer_client": _fuzzed(_with_chunking(_printer_frames)),
    "printer_server": _fuzzed(_with_chunking(_printer_frames)),
    "printer_frame": _fuzzed(_printer_frames),
    "printer_modbus_map": _fuzzed(_TEXT.map(lambda t: t.encode("utf-8"))),
    "camera_frames": _fuzzed(_with_chunking(_camera_frames)),
    "scanner": _fuzzed(_with_chunking(_scans)),
    "config_loader": _fuzzed(_site_file()),
    "code_parser": _fuzzed(_code_seeds),
    "gs1_round_trip": _fuzzed(_code_seeds),
    "code_template": _fuzzed(st.just(b"TG{lot:1-6}-{serial:10}{check}\xffmod37_36\xffTGL-1-A")),
    "serial_import_csv": _fuzzed(_csv_files),
    "serial_import_json": _fuzzed(_import_json | _json_values),
    "platform_relations_xml": _fuzzed(_xml_seeds),
    "epcis_jsonld": _fuzzed(_epcis_json | _json_values),
    "epcis_xml": _fuzzed(_xml_seeds),
    "opcua_arguments": st.binary(max_size=128),
    "opcua_order_json": _fuzzed(st.builds(lambda a, b: a + b"\xff" + b, _order_json, _order_json)),
    "http_api": st.binary(max_size=256)
    | st.builds(
        lambda head, body: head + b"\xff\xff" + body,
        st.binary(max_size=24),
        _order_json | _json_values,
    ),
}
