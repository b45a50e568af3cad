"""Camera simulator: frames of what the printer put on each unit."""

from simulators.camera.render import (
    DefectKind,
    DefectSpec,
    RenderError,
    RenderTruth,
    carton_text,
    defects_for,
    render,
    symbol_matrix,
    wrong_payload,
)

__all__ = [
    "DefectKind",
    "DefectSpec",
    "RenderError",
    "RenderTruth",
    "carton_text",
    "defects_for",
    "render",
    "symbol_matrix",
    "wrong_payload",
]
