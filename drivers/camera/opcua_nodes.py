"""A camera's OPC UA address space (docs/protocols/camera.md, "OPC UA"): names and values.

The camera is one object; its variables and methods have string NodeIds under the object's
own, `<root>.<name>` (`ns=1;s=Camera.Results.Sequence` under the default root). Shared by the
driver (`drivers.camera.opcua`) and the simulator (`simulators.opcua_device.camera`). Plain
values only: asyncua stays in `drivers.opcua` and the simulators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from drivers.base import UsageError

DEFAULT_ROOT: Final = "ns=1;s=Camera"
NAMESPACE_URI: Final = "urn:tracegate:camera"

MODEL: Final = "Model"
RESULT_SEQUENCE: Final = "Results.Sequence"
RESULT_DEPTH: Final = "Results.Depth"
FETCH_RESULT: Final = "FetchResult"

IMAGE: Final = "image"
SMART: Final = "smart"
GONE: Final = "gone"
"""FetchResult's kind for a sequence number the camera no longer (or never) held."""
FETCH_OUTPUTS: Final = (
    "Kind",
    "UnitRef",
    "TakenAt",
    "Width",
    "Height",
    "PixelFormat",
    "Image",
    "Text",
    "Symbology",
    "Grade",
)

_STRING_ROOT = re.compile(r"(ns=\d+;)?s=[^;]+")


@dataclass(frozen=True, slots=True)
class CameraNodes:
    """The NodeIds of one camera, from its object's NodeId."""

    root: str = DEFAULT_ROOT

    def __post_init__(self) -> None:
        if not _STRING_ROOT.fullmatch(self.root):
            raise UsageError(
                f"camera object {self.root!r} is not a string NodeId",
                hint="write it like ns=1;s=Camera: the camera's nodes are named below it",
            )

    def node(self, name: str) -> str:
        return f"{self.root}.{name}"
