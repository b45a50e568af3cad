"""The simulated line's knobs in demo mode: line rate, print defects, and the cameras' faults
(power off, delayed or garbled frames, lost or black frames)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from gateway.simulation import LineSimulation
from simulators.camera.server import CameraServer
from simulators.printer import PrintFaults

MAX_RATE_UPM: Final = 3000.0
MAX_DELAY_S: Final = 10.0


class SimulatorSettingError(ValueError):
    def __init__(self, what: str, *, field: str, fix: str) -> None:
        super().__init__(what)
        self.what = what
        self.field = field
        self.fix = fix


@dataclass(frozen=True, slots=True)
class CameraState:
    id: str
    offline: bool
    delay_s: float | None
    """None: the camera's transport has no delay injection (OPC UA)."""
    garbage_rate: float | None


@dataclass(frozen=True, slots=True)
class SimulatorState:
    rate_upm: float
    print_defects: float
    camera_faults: float
    cameras: tuple[CameraState, ...]


class SimulatorControl:
    def __init__(self, simulation: LineSimulation) -> None:
        self.simulation = simulation

    def state(self) -> SimulatorState:
        simulation = self.simulation
        plc = simulation.plc
        cameras = []
        for device_id, camera in sorted(simulation.cameras.items()):
            if isinstance(camera, CameraServer):
                faults = camera.faults
                cameras.append(
                    CameraState(device_id, camera.offline, faults.delay, faults.garbage_rate)
                )
            else:
                cameras.append(CameraState(device_id, camera.offline, None, None))
        return SimulatorState(
            rate_upm=plc.line.rate_upm if plc is not None else simulation.options.rate_upm,
            print_defects=simulation.options.print_defect_rate,
            camera_faults=simulation.options.camera_fault_rate,
            cameras=tuple(cameras),
        )

    def set_rate(self, rate_upm: float) -> None:
        if not 0 < rate_upm <= MAX_RATE_UPM:
            raise SimulatorSettingError(
                f"line rate {rate_upm:g} units/min is outside 0 < rate ≤ {MAX_RATE_UPM:g}",
                field="rate_upm",
                fix=f"give a rate above 0 and at most {MAX_RATE_UPM:g}, e.g. 600",
            )
        simulation = self.simulation
        simulation.options = replace(simulation.options, rate_upm=rate_upm)
        if simulation.plc is not None:
            simulation.plc.line.set_rate(rate_upm)

    def set_defects(self, print_defects: float, camera_faults: float) -> None:
        """Fractions of units printed wrong (skip, smudge, wrong data in equal parts) and of
        units the camera loses (no frame or a black frame)."""
        for name, value in (("print_defects", print_defects), ("camera_faults", camera_faults)):
            if not 0.0 <= value <= 1.0:
                raise SimulatorSettingError(
                    f"{value:g} is not a fraction of units",
                    field=name,
                    fix="give a fraction from 0 to 1, e.g. 0.02 for 2 %",
                )
        simulation = self.simulation
        simulation.options = replace(
            simulation.options, print_defects=print_defects, camera_faults=camera_faults
        )
        share = print_defects / 3
        for printer in simulation.printers.values():
            printer.print_faults = PrintFaults(skip=share, smudge=share, wrong_data=share)

    def set_camera(
        self, device_id: str, *, offline: bool, delay_s: float, garbage_rate: float
    ) -> None:
        camera = self.simulation.cameras.get(device_id)
        if camera is None:
            known = ", ".join(sorted(self.simulation.cameras)) or "none"
            raise SimulatorSettingError(
                f"no simulated camera {device_id!r}",
                field="camera",
                fix=f"pick one of the simulated cameras: {known}",
            )
        if not 0.0 <= delay_s <= MAX_DELAY_S:
            raise SimulatorSettingError(
                f"delay {delay_s:g} s is outside 0-{MAX_DELAY_S:g} s",
                field="delay_s",
                fix="give the seconds each frame is late, e.g. 0.5",
            )
        if not 0.0 <= garbage_rate <= 1.0:
            raise SimulatorSettingError(
                f"{garbage_rate:g} is not a fraction of frames",
                field="garbage_rate",
                fix="give a fraction from 0 to 1, e.g. 0.1",
            )
        if isinstance(camera, CameraServer):
            camera.faults = replace(camera.faults, delay=delay_s, garbage_rate=garbage_rate)
        elif delay_s or garbage_rate:
            raise SimulatorSettingError(
                f"{device_id} is simulated over OPC UA: delay and garbage apply to the TCP "
                "frame stream only",
                field="delay_s",
                fix="set delay and garbage to 0 for this camera; power it off instead",
            )
        self.simulation.set_camera_offline(device_id, offline)
