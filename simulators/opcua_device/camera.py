"""A line camera behind an OPC UA server, with the node layout of docs/protocols/camera.md.

Per trigger it takes a picture of the unit from a frame source (the same sources as the TCP
camera simulator: `gradient_source`, `render_source`, or what the line simulation's printer
printed), or in smart-camera mode decodes it itself; the result is kept, numbered, for
`FetchResult` in a window of the last `depth` results, and `Results.Sequence` counts up.
Offline (`set_offline`), it takes no pictures.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asyncua import ua

from drivers.camera import opcua_nodes as nodes
from simulators.camera.server import (
    CameraMode,
    FrameSource,
    SmartReading,
    SmartSource,
    SourceImage,
    as_source_image,
    echo_smart_source,
    gradient_source,
)
from simulators.line_plc.server import PlcSecurity
from simulators.opcua_device.server import OpcUaDeviceServer, argument, plain

_S, _I64, _U32 = ua.VariantType.String, ua.VariantType.Int64, ua.VariantType.UInt32


@dataclass(frozen=True, slots=True)
class _Result:
    unit_ref: str
    taken_at: datetime
    image: SourceImage | None
    reading: SmartReading | None


class OpcUaCameraSimulator(OpcUaDeviceServer):
    """A camera on `opc.tcp://host:port`; `root` is its object's NodeId once started."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int,
        security: PlcSecurity | None = None,
        mode: CameraMode = CameraMode.IMAGE,
        source: FrameSource | None = None,
        smart_source: SmartSource = echo_smart_source,
        depth: int = 32,
        model: str = "tracegate-sim-camera",
    ) -> None:
        super().__init__(
            host=host,
            port=port,
            object_name="Camera",
            namespace_uri=nodes.NAMESPACE_URI,
            server_name="tracegate camera simulator",
            security=security,
        )
        self.mode = mode
        self.source: FrameSource = source or gradient_source()
        self.smart_source = smart_source
        self.model = model
        self.offline = False
        self.triggers = 0
        self.sent_frames = 0
        self.sequence = 0
        self._depth = depth
        self._results: OrderedDict[int, _Result] = OrderedDict()

    # --- driving ------------------------------------------------------------------------------

    async def trigger(self, unit_ref: str, payload: str | None = None) -> None:
        """Take the picture of one unit (or read it, as a smart camera) and announce it."""
        if self.offline:
            return
        self.triggers += 1
        now = datetime.now(UTC)
        if self.mode is CameraMode.SMART:
            result = _Result(unit_ref, now, None, self.smart_source(unit_ref, payload))
        else:
            result = _Result(unit_ref, now, as_source_image(self.source(unit_ref, payload)), None)
        self.sequence += 1
        self._results[self.sequence] = result
        while len(self._results) > self._depth:
            self._results.popitem(last=False)
        self.sent_frames += 1
        await self.show(nodes.RESULT_SEQUENCE, self.sequence)

    def set_offline(self, offline: bool = True) -> None:
        """A camera without power takes no pictures; back online, it takes them again."""
        self.offline = offline

    # --- the address space --------------------------------------------------------------------

    async def build(self) -> None:
        await self.add_variable(nodes.MODEL, self.model, _S)
        await self.add_variable(nodes.RESULT_SEQUENCE, 0, _I64)
        await self.add_variable(nodes.RESULT_DEPTH, self._depth, _U32)
        types = {
            "TakenAt": ua.VariantType.DateTime,
            "Width": _U32,
            "Height": _U32,
            "Image": ua.VariantType.ByteString,
        }
        await self.add_method(
            nodes.FETCH_RESULT,
            self._fetch_result,
            [argument("Sequence", _I64)],
            [argument(name, types.get(name, _S)) for name in nodes.FETCH_OUTPUTS],
        )

    async def _fetch_result(self, parent: ua.NodeId, sequence: Any) -> list[ua.Variant]:
        result = self._results.get(int(plain(sequence)))
        kind, unit_ref, taken_at = nodes.GONE, "", datetime.now(UTC)
        width = height = 0
        pixel_format, image, text, symbology, grade = "", b"", "", "", ""
        if result is not None:
            unit_ref, taken_at = result.unit_ref, result.taken_at
            if result.image is not None:
                kind, width, height = nodes.IMAGE, result.image.width, result.image.height
                pixel_format, image = result.image.pixel_format.value, result.image.data
            elif result.reading is not None:
                kind = nodes.SMART
                text = result.reading.text or ""
                symbology = result.reading.symbology or ""
                grade = result.reading.grade or ""
        return [
            ua.Variant(kind, _S),
            ua.Variant(unit_ref, _S),
            ua.Variant(taken_at, ua.VariantType.DateTime),
            ua.Variant(width, _U32),
            ua.Variant(height, _U32),
            ua.Variant(pixel_format, _S),
            ua.Variant(image, ua.VariantType.ByteString),
            ua.Variant(text, _S),
            ua.Variant(symbology, _S),
            ua.Variant(grade, _S),
        ]
