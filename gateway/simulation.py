"""A whole simulated line in one asyncio process, built from the line's `devices`.

Each configured device gets the simulator of its kind, listening where the site file says the
device is. Printers and cameras are wired the way they stand on a real line: every unit a
printer simulator prints is photographed by the camera of the same level (unit-printer →
unit-camera, case-printer → case-camera), so the camera renders exactly what landed on the
unit — a smudge, wrong data or a blank unit included.

What goes wrong is set per unit by `SimulationOptions`: print defects (skip, smudge, wrong data
in equal parts; each one makes the unit rejectable), camera faults (the camera loses the unit:
no frame, or a black frame) and image defects (position, rotation, perspective, blur, noise,
low contrast, uneven light, damaged modules; such a code may still read). `defects` alone is
split half print defects, half image defects. The `ledger()` tells a test, per unit, what was
sent, what was printed, which fault was injected and what the PLC's reject gate did, so a line
runtime can be checked against the truth (`docs/simulators.md`).

The PLC's gate is fail-safe: a unit without an ACCEPT verdict (`Line.Conveyor.SetVerdict`) by
the time it reaches the gate is rejected. With `autostart` the simulation resets and starts the
line itself; without, the gateway commands it over OPC UA.

With `runtime.case_mode: case-camera` in the line's config the case camera also photographs
each case the PLC's packer closes (`case-<n>`): one frame with the tops of the cartons in it,
each showing what its unit printer really printed; the packer closes its partial case when the
line is stopped. `cases()` is the truth of what went into each case.

A serial device (Modbus RTU, a serial scanner) is simulated on a pseudo-terminal, linked from
its configured `serial_port` when nothing is there yet; an existing port is left alone.

Printers are simulated on their configured transport (TGP/1 over TCP, OPC UA, Modbus
registers) and cameras on theirs (the TCP frame stream, OPC UA, a folder); the coder behind
every printer is the same. An OPC UA device (the line PLC, a printer, a camera) with a security
policy in the site file is served with exactly that policy and mode and nothing weaker, under
the certificate the site file trusts for it (`trusted_certificates`, the first one): its
private key is expected beside it as `<name>.key.pem`, and when neither file exists both are
made there, so a simulated line runs secured out of the box.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import cv2
import numpy as np

from config.devices import (
    CameraFolderDeviceConfig,
    CameraOpcUaDeviceConfig,
    CameraTcpDeviceConfig,
    DeviceConfig,
    ModbusRtuDeviceConfig,
    ModbusTcpDeviceConfig,
    OpcUaDeviceConfig,
    PrinterDeviceConfig,
    PrinterModbusDeviceConfig,
    PrinterOpcUaDeviceConfig,
    PrinterTcpDeviceConfig,
    ScannerSerialDeviceConfig,
    ScannerTcpDeviceConfig,
)
from config.sections import LineConfig
from drivers.base import PixelFormat
from drivers.camera.opcua_nodes import NAMESPACE_URI as CAMERA_NAMESPACE
from drivers.printer.opcua_nodes import NAMESPACE_URI as PRINTER_NAMESPACE
from simulators.camera.render import (
    DefectKind,
    DefectSpec,
    RenderError,
    contents_frame_size,
    defects_for,
    render,
    render_many,
)
from simulators.camera.server import CameraServer, SourceImage
from simulators.coder import CoderSettings
from simulators.line_plc.certs import make_self_signed
from simulators.line_plc.line import EventKind, GateOutcome, LineEvent
from simulators.line_plc.line import LineConfig as PlcLineConfig
from simulators.line_plc.packml import Command, State
from simulators.line_plc.server import APPLICATION_URI, LinePlcServer, PlcSecurity
from simulators.modbus_device import ModbusDeviceSimulator, PtyLink, points_from_data
from simulators.modbus_device.printer import ModbusPrinterSimulator
from simulators.opcua_device.camera import OpcUaCameraSimulator
from simulators.opcua_device.printer import OpcUaPrinterSimulator
from simulators.opcua_device.server import OpcUaDeviceServer
from simulators.printer import PrintDefect, PrintedUnit, PrinterSimulator, PrintFaults
from simulators.scanner import PtyScannerSimulator, TcpScannerSimulator

CAMERA_DEFECTS = tuple(
    kind
    for kind in DefectKind
    if kind not in (DefectKind.CLEAN, DefectKind.MISSING, DefectKind.WRONG_CODE, DefectKind.SMUDGE)
)
"""What goes wrong in the camera's picture; what goes wrong on the unit is the printer's."""
T = TypeVar("T")
SMUDGE_RADIUS = 0.6
"""Ink smear over a smudged print, as a fraction of the symbol side: large enough that the
verifier rejects every smudged print (measured in tests/gateway/test_simulation_smudge.py)."""
PRINT_DELAY_S = 0.001
"""From a unit's data arriving to its print: the photocell is right after the trigger sensor."""
SCUFF_DAMAGE = 0.3
"""Fraction of a scuffed carton's modules destroyed: no reader decodes it."""
SimulatedPrinter = PrinterSimulator | OpcUaPrinterSimulator | ModbusPrinterSimulator
SimulatedCamera = CameraServer | OpcUaCameraSimulator
OpcUaConfig = OpcUaDeviceConfig | PrinterOpcUaDeviceConfig | CameraOpcUaDeviceConfig


class CameraFault(StrEnum):
    LOST_TRIGGER = "lost_trigger"
    """The camera missed the unit: no frame at all."""
    BLACK_FRAME = "black_frame"
    """A frame is sent, but black (lamp or exposure failure): nothing can be read."""
    OFFLINE = "offline"
    """The camera was offline (`set_camera_offline`) when the unit passed."""


@dataclass(frozen=True, slots=True)
class UnitRecord:
    """The truth about one unit, for checking what a line runtime concluded."""

    unit_ref: str
    sent_payload: str | None
    """What the gateway sent the printer; None when it sent nothing for this unit."""
    printed_payload: str | None
    """What landed on the unit; None when skipped or never printed."""
    print_defect: PrintDefect | None
    camera_fault: CameraFault | None
    image_defect: DefectKind | None
    gate: GateOutcome | None
    """What the PLC's reject gate did; None while the unit is on the conveyor (or for levels
    without a gate)."""
    verdict: bool | None = None
    """The verdict the gate had for the unit: True ACCEPT, False REJECT, None when none came
    in time (or the unit has not reached the gate)."""
    case: int | None = None
    """The case the packer put the unit into; None while it is not in a closed case."""

    @property
    def defective(self) -> bool:
        """A print defect or a camera fault: a correct runtime must reject this unit."""
        return self.print_defect is not None or self.camera_fault is not None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "unit_ref": self.unit_ref,
            "sent_payload": self.sent_payload,
            "printed_payload": self.printed_payload,
            "print_defect": _value(self.print_defect),
            "camera_fault": _value(self.camera_fault),
            "image_defect": _value(self.image_defect),
            "gate": _value(self.gate),
            "verdict": None if self.verdict is None else ("accept" if self.verdict else "reject"),
            "case": None if self.case is None else str(self.case),
        }


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """The truth about one case the packer closed: what is physically in it."""

    number: int
    unit_refs: tuple[str, ...]
    """The units the packer put in (PLC references), in order."""
    pallet: int | None
    """The pallet it is stacked on; None while that pallet is open."""
    added: tuple[str, ...] = ()
    """Payloads of units put into the case by hand (`put_in_next_case`)."""
    scuffed: tuple[str, ...] = ()
    """Units whose code was scuffed in the packer (`scuff_in_next_case`): unreadable."""
    camera_fault: CameraFault | None = None
    """What happened to the case camera's frame of its contents."""


@dataclass(frozen=True, slots=True)
class _CaseTampering:
    added: tuple[str, ...]
    scuffed: tuple[str, ...]
    camera_fault: CameraFault | None


def _value(member: StrEnum | None) -> str | None:
    return None if member is None else member.value


class SimulationError(ValueError):
    """The line cannot be simulated as configured; `hint` says what to change."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True, slots=True)
class Listening:
    device_id: str
    kind: str
    role: str
    address: str


@dataclass(frozen=True, slots=True)
class SimulationOptions:
    rate_upm: float = 120.0
    defects: float = 0.0
    """Fraction of units with a defect: half print defects, half image defects (used for each
    kind not given explicitly)."""
    frame_size: tuple[int, int] = (640, 480)
    seed: int | None = None
    print_defects: float | None = None
    """Fraction of units printed wrong: skip, smudge and wrong data in equal parts."""
    camera_faults: float | None = None
    """Fraction of units the camera loses: no frame or a black frame, half each."""
    image_defects: float | None = None
    """Fraction of frames with a picture defect (blur, rotation, …); the code may still read."""
    gate_distance: int = 4
    """Unit pitches from the trigger sensor to the reject gate."""
    missed_rejects: float = 0.0
    """Fraction of gate firings that miss the unit."""
    units_per_case: int = 10
    cases_per_pallet: int = 8
    fail_safe: bool = True
    """The PLC rejects every unit without an ACCEPT verdict."""
    autostart: bool = True
    """Reset and start the line at once; False leaves it Stopped for the gateway to start."""

    def __post_init__(self) -> None:
        if not self.rate_upm > 0:
            raise SimulationError(f"rate {self.rate_upm} units/min must be positive")
        fractions = {
            "defects": self.defects,
            "print_defects": self.print_defects,
            "camera_faults": self.camera_faults,
            "image_defects": self.image_defects,
            "missed_rejects": self.missed_rejects,
        }
        for name, value in fractions.items():
            if value is not None and not 0.0 <= value <= 1.0:
                raise SimulationError(
                    f"{name} {value} is not a fraction", hint="use 0 .. 1, e.g. 0.05"
                )
        try:
            self.plc_line()
        except ValueError as error:
            raise SimulationError(str(error), hint="check the line options") from error

    @property
    def print_defect_rate(self) -> float:
        return self.defects / 2 if self.print_defects is None else self.print_defects

    @property
    def image_defect_rate(self) -> float:
        return self.defects / 2 if self.image_defects is None else self.image_defects

    @property
    def camera_fault_rate(self) -> float:
        return self.camera_faults or 0.0

    def plc_line(self) -> PlcLineConfig:
        return PlcLineConfig(
            rate_upm=self.rate_upm,
            gate_distance=self.gate_distance,
            units_per_case=self.units_per_case,
            cases_per_pallet=self.cases_per_pallet,
            missed_reject_rate=self.missed_rejects,
            fail_safe=self.fail_safe,
            seed=self.seed,
        )


class UnitPhotographer:
    """Renders a printed unit the way its camera sees it: a `PrintedUnit` in, a frame out."""

    def __init__(self, options: SimulationOptions) -> None:
        self._size = options.frame_size
        self._image_defects = options.image_defect_rate
        self._rng = np.random.default_rng(options.seed)
        self.printed: dict[str, PrintedUnit] = {}
        self.image_defects: dict[str, DefectKind] = {}
        """Unit reference → the picture defect its frame was given."""
        self._black: set[str] = set()
        self._prepared: dict[str, SourceImage] = {}

    def remember(self, unit: PrintedUnit, *, black: bool = False) -> None:
        self.printed[unit.unit_ref] = unit
        if black:
            self._black.add(unit.unit_ref)

    def prepare(self, unit_ref: str, image: SourceImage) -> None:
        """A frame drawn beforehand (a case's contents): the next trigger of `unit_ref` sends it."""
        self._prepared[unit_ref] = image

    def black_frame(self) -> SourceImage:
        width, height = self._size
        return SourceImage(width, height, PixelFormat.MONO8, bytes(width * height))

    def frame(self, unit_ref: str, payload: str | None) -> SourceImage:
        prepared = self._prepared.pop(unit_ref, None)
        if prepared is not None:
            return prepared
        width, height = self._size
        unit = self.printed.pop(unit_ref, None)
        if unit_ref in self._black:
            self._black.discard(unit_ref)
            return self.black_frame()
        spec = DefectSpec()
        if self._image_defects and self._rng.random() < self._image_defects:
            kind = CAMERA_DEFECTS[int(self._rng.integers(len(CAMERA_DEFECTS)))]
            spec = defects_for(kind, self._rng)
            self.image_defects[unit_ref] = kind
        data = payload or unit_ref
        if unit is not None:
            data = unit.payload or unit.sent_payload
            spec = replace(
                spec,
                missing_print=unit.payload is None,
                smudge=SMUDGE_RADIUS if unit.smudged else spec.smudge,
            )
        image = self._render(data, spec)
        return SourceImage(width, height, PixelFormat.MONO8, image.tobytes())

    def png(self, unit: PrintedUnit, *, black: bool = False) -> bytes:
        self.remember(unit, black=black)
        image = np.frombuffer(self.frame(unit.unit_ref, None).data, np.uint8)
        ok, encoded = cv2.imencode(".png", image.reshape(self._size[1], self._size[0]))
        assert ok, "OpenCV encodes a grayscale image as PNG"
        return encoded.tobytes()

    def _render(self, data: str, spec: DefectSpec) -> np.ndarray:
        try:
            image, _ = render(data, gs1=True, size=self._size, defects=spec, rng=self._rng)
        except RenderError:
            image, _ = render(data, gs1=False, size=self._size, defects=spec, rng=self._rng)
        return np.ascontiguousarray(image)


@dataclass
class _Running:
    listening: list[Listening] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


class LineSimulation:
    """Every simulator one line's devices need, started and stopped together."""

    def __init__(
        self,
        line: LineConfig,
        *,
        base_dir: Path = Path(),
        options: SimulationOptions | None = None,
    ) -> None:
        self.line = line
        self.base_dir = base_dir
        self.options = options or SimulationOptions()
        self.printers: dict[str, SimulatedPrinter] = {}
        self.cameras: dict[str, SimulatedCamera] = {}
        self.plc: LinePlcServer | None = None
        self.modbus: dict[str, ModbusDeviceSimulator] = {}
        self.scanners: dict[str, TcpScannerSimulator] = {}
        self.serial_scanners: dict[str, PtyScannerSimulator] = {}
        self._photographers: dict[str, UnitPhotographer] = {}
        self._folders: dict[str, Path] = {}
        self._prints: dict[str, dict[str, PrintedUnit]] = {}
        self._camera_faults: dict[str, dict[str, CameraFault]] = {}
        self._case_camera = line.runtime.case_mode == "case-camera"
        self._tampered: dict[int, _CaseTampering] = {}
        self._put_in_next_case: list[str] = []
        self._scuff_next_case = False
        self._lose_next_case_frame = False
        seed = self.options.seed
        self._fault_rng = random.Random(None if seed is None else seed + 7919)  # noqa: S311
        self._state = _Running()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def listening(self) -> Sequence[Listening]:
        return self._state.listening

    @property
    def skipped(self) -> Sequence[tuple[str, str]]:
        """Devices with no simulator here (a serial port that exists, a user name on a simulated
        printer or camera), with the reason."""
        return self._state.skipped

    # --- the truth, for tests -------------------------------------------------------------------

    def ledger(self, level: str = "unit") -> dict[str, UnitRecord]:
        """Every unit of `level` the PLC triggered or a printer printed, by unit reference.

        For the unit level the references are the PLC's (as strings), in trigger order.
        """
        printed = self._prints.get(level, {})
        faults = self._camera_faults.get(level, {})
        photographer = self._photographers.get(level)
        image_defects = {} if photographer is None else photographer.image_defects
        outcomes = self.plc.line.outcomes if self.plc is not None and level == "unit" else {}
        triggered = self.plc.line.counters.total if self.plc is not None and level == "unit" else 0
        refs = [str(ref) for ref in range(1, triggered + 1)]
        refs += [ref for ref in printed if not (ref.isdigit() and 1 <= int(ref) <= triggered)]
        cases = self.plc.line.cases if self.plc is not None and level == "unit" else {}
        case_of = {unit: number for number, units in cases.items() for unit in units}
        ledger: dict[str, UnitRecord] = {}
        for ref in refs:
            unit = printed.get(ref)
            outcome = outcomes.get(int(ref)) if ref.isdigit() else None
            ledger[ref] = UnitRecord(
                unit_ref=ref,
                sent_payload=None if unit is None else unit.sent_payload,
                printed_payload=None if unit is None else unit.payload,
                print_defect=None if unit is None else unit.defect,
                camera_fault=faults.get(ref),
                image_defect=image_defects.get(ref),
                gate=None if outcome is None else outcome.gate,
                verdict=None if outcome is None else outcome.verdict,
                case=case_of.get(int(ref)) if ref.isdigit() else None,
            )
        return ledger

    def cases(self) -> dict[int, CaseRecord]:
        """Every case the PLC's packer closed, by number: what is physically in it."""
        if self.plc is None:
            return {}
        line = self.plc.line
        records: dict[int, CaseRecord] = {}
        for number, units in line.cases.items():
            tampering = self._tampered.get(number, _CaseTampering((), (), None))
            records[number] = CaseRecord(
                number=number,
                unit_refs=tuple(str(unit) for unit in units),
                pallet=line.pallet_of(number),
                added=tampering.added,
                scuffed=tampering.scuffed,
                camera_fault=tampering.camera_fault,
            )
        return records

    def defective(self, unit_ref: str, level: str = "unit") -> bool:
        """The unit got a print defect or a camera fault: a correct runtime rejects it."""
        unit = self._prints.get(level, {}).get(unit_ref)
        return (unit is not None and unit.defect is not None) or (
            unit_ref in self._camera_faults.get(level, {})
        )

    def write_ledger(self, path: Path, level: str = "unit") -> None:
        """The ledger as JSON: an object of unit reference → record (written atomically)."""
        records = {ref: record.to_dict() for ref, record in self.ledger(level).items()}
        staging = path.with_name(f".{path.name}.part")
        staging.write_text(json.dumps(records, indent=1), encoding="utf-8")
        staging.replace(path)

    # --- fault hooks --------------------------------------------------------------------------

    async def disconnect_printer(self, device_id: str) -> int:
        """Drop the printer's connection as a pulled cable would; it accepts the next one.

        What was queued on the dropped connection is lost. Returns the connections dropped.
        """
        printer = self._device(self.printers, device_id)
        if isinstance(printer, PrinterSimulator):
            dropped = printer.injector.disconnect_all()
        elif isinstance(printer, OpcUaPrinterSimulator):
            dropped = printer.disconnect()
        else:
            printer.disconnect()
            dropped = 1
        await asyncio.sleep(0)
        return dropped

    def put_in_next_case(self, payload: str) -> None:
        """Someone puts a unit printed with `payload` into the case being filled (a unit of
        another batch, one taken off the line): the case camera sees it with the others."""
        self._put_in_next_case.append(payload)

    def scuff_in_next_case(self) -> None:
        """The first unit of the next case gets its code scuffed in the packer: unreadable."""
        self._scuff_next_case = True

    def lose_next_case_frame(self) -> None:
        """The case camera misses the next case (a lost trigger): no frame of its contents."""
        self._lose_next_case_frame = True

    def set_camera_offline(self, device_id: str, offline: bool) -> None:
        """Power a camera off (connections drop, none accepted, no frames) or back on."""
        self._device(self.cameras, device_id).set_offline(offline)

    def _device(self, simulators: dict[str, T], device_id: str) -> T:
        found = simulators.get(device_id)
        if found is None:
            raise SimulationError(
                f"no simulated device {device_id!r} of that kind",
                hint=f"simulated here: {', '.join(sorted(simulators)) or 'none'}",
            )
        return found

    # --- life cycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> LineSimulation:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        if not self.line.devices:
            raise SimulationError(
                f"line {self.line.id!r} has no devices to simulate",
                hint="add a devices: block to the line in the site file",
            )
        try:
            for device in self._cameras_first():
                await self._start(device)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        closers, self._state.closers = self._state.closers, []
        for close in reversed(closers):
            await close()

    def _cameras_first(self) -> list[DeviceConfig]:
        """Cameras start before printers, so the first print already has its camera."""
        cameras = (CameraTcpDeviceConfig, CameraOpcUaDeviceConfig, CameraFolderDeviceConfig)
        devices = list(self.line.devices)
        return [d for d in devices if isinstance(d, cameras)] + [
            d for d in devices if not isinstance(d, cameras)
        ]

    async def _start(self, device: DeviceConfig) -> None:
        match device:
            case OpcUaDeviceConfig():
                await self._start_plc(device)
            case (
                PrinterTcpDeviceConfig() | PrinterOpcUaDeviceConfig() | PrinterModbusDeviceConfig()
            ):
                await self._start_printer(device)
            case CameraTcpDeviceConfig() | CameraOpcUaDeviceConfig():
                await self._start_camera(device)
            case CameraFolderDeviceConfig():
                folder = self.base_dir / device.folder
                folder.mkdir(parents=True, exist_ok=True)
                self._folders[_level(device.role)] = folder
                self._photographers[_level(device.role)] = UnitPhotographer(self._options_for())
                self._listen(device, f"folder {folder}")
            case ModbusTcpDeviceConfig():
                await self._start_modbus(device)
            case ScannerTcpDeviceConfig():
                scanner = TcpScannerSimulator(host=device.host, port=device.port, suffix=b"\r\n")
                await _listen_or_explain(device, scanner.start())
                self._state.closers.append(scanner.close)
                self.scanners[device.id] = scanner
                self._listen(device, f"{device.host}:{scanner.port}")
            case ScannerSerialDeviceConfig():
                link = self._serial_link(device)
                if link is not None:
                    handheld = PtyScannerSimulator(suffix=b"\r\n")
                    handheld.open()
                    self._state.closers.append(_sync(handheld.close))
                    self.serial_scanners[device.id] = handheld
                    self._link(device, link, handheld.device)
            case ModbusRtuDeviceConfig():
                link = self._serial_link(device)
                if link is not None:
                    await self._start_modbus_rtu(device, link)

    def _serial_link(
        self, device: ScannerSerialDeviceConfig | ModbusRtuDeviceConfig
    ) -> Path | None:
        """Where to put a link to the simulator's pseudo-terminal: the configured serial port,
        when nothing is there yet (a real device's port is never shadowed)."""
        path = self.base_dir / device.serial_port
        if path.exists() or path.is_symlink() or not path.parent.is_dir():
            reason = (
                f"{device.serial_port} exists (a real serial port?)"
                if path.exists() or path.is_symlink()
                else f"folder {path.parent} does not exist"
            )
            self._state.skipped.append(
                (device.id, f"{reason}; to simulate it, set serial_port to a free path such "
                 "as /tmp/tracegate/scanner and create the folder")
            )  # fmt: skip
            return None
        return path

    def _link(self, device: DeviceConfig, link: Path, target: str) -> None:
        link.symlink_to(target)
        self._state.closers.append(_sync(lambda: link.unlink(missing_ok=True)))
        self._listen(device, f"{link} -> {target}")

    async def _start_modbus_rtu(self, device: ModbusRtuDeviceConfig, link: Path) -> None:
        points = points_from_data(tag.model_dump() for tag in device.tags)
        cable = PtyLink()
        cable.open()
        self._state.closers.append(_sync(cable.close))
        simulator = ModbusDeviceSimulator(points)
        await simulator.start_rtu(
            cable.ends[0], baudrate=device.baudrate, parity=device.parity, stopbits=device.stopbits
        )
        self._state.closers.append(simulator.stop)
        self.modbus[device.id] = simulator
        self._link(device, link, cable.ends[1])

    def _listen(self, device: DeviceConfig, address: str) -> None:
        self._state.listening.append(Listening(device.id, device.kind, device.role, address))

    def _options_for(self) -> SimulationOptions:
        """Each camera its own random stream, reproducible when a seed is given."""
        seed = self.options.seed
        return replace(self.options, seed=None if seed is None else seed + len(self._photographers))

    async def _start_plc(self, device: OpcUaDeviceConfig) -> None:
        security = self._security(device, APPLICATION_URI)
        if security is None:
            return
        host, port = _opc_address(device)
        line = replace(self.options.plc_line(), close_case_on_stop=self._case_camera)
        plc = LinePlcServer(
            host=host, port=port, line=line, security=security, on_line_event=self._line_event
        )
        await _listen_or_explain(device, plc.start())
        self._state.closers.append(plc.stop)
        self.plc = plc
        if self.options.autostart:
            self._spawn(_run_line(plc))
        self._listen(device, f"{plc.endpoint}{_secured(device)}")

    async def _start_printer(self, device: PrinterDeviceConfig) -> None:
        share = self.options.print_defect_rate / 3
        level = _level(device.role)
        coder = CoderSettings(
            jobs={device.job: device.job_fields},
            print_interval=PRINT_DELAY_S,
            print_faults=PrintFaults(skip=share, smudge=share, wrong_data=share),
            on_print=lambda unit: self._printed(level, unit),
            seed=self.options.seed,
        )
        printer: SimulatedPrinter
        if isinstance(device, PrinterOpcUaDeviceConfig):
            security = self._security(device, PRINTER_NAMESPACE)
            if security is None:
                return
            host, port = _opc_address(device)
            printer = OpcUaPrinterSimulator(host=host, port=port, security=security, **coder)
            await self._start_opcua(device, printer, device.object_node)
            where = f"{printer.endpoint}{_secured(device)}"
        elif isinstance(device, PrinterModbusDeviceConfig):
            printer = ModbusPrinterSimulator(
                host=device.host,
                port=device.port,
                slave=device.slave,
                **coder,
            )
            await _listen_or_explain(device, printer.start())
            self._state.closers.append(printer.close)
            where = f"{device.host}:{printer.port} slave {device.slave}"
        else:
            printer = PrinterSimulator(host=device.host, port=device.port, **coder)
            await _listen_or_explain(device, printer.start())
            self._state.closers.append(printer.close)
            where = f"{device.host}:{printer.port}"
        self.printers[device.id] = printer
        self._listen(device, f"{where} (job {device.job})")

    async def _start_camera(self, device: CameraTcpDeviceConfig | CameraOpcUaDeviceConfig) -> None:
        photographer = UnitPhotographer(self._options_for())
        camera: SimulatedCamera
        if isinstance(device, CameraOpcUaDeviceConfig):
            security = self._security(device, CAMERA_NAMESPACE)
            if security is None:
                return
            host, port = _opc_address(device)
            camera = OpcUaCameraSimulator(
                host=host, port=port, security=security, source=photographer.frame
            )
            await self._start_opcua(device, camera, device.object_node)
            where = f"{camera.endpoint}{_secured(device)}"
        else:
            camera = CameraServer(
                host=device.host,
                port=device.port,
                source=photographer.frame,
                seed=self.options.seed,
            )
            await _listen_or_explain(device, camera.start())
            self._state.closers.append(camera.close)
            where = f"{device.host}:{camera.port}"
        self.cameras[device.id] = camera
        self._photographers[_level(device.role)] = photographer
        self._listen(device, where)

    async def _start_opcua(
        self, device: OpcUaConfig, server: OpcUaDeviceServer, object_node: str
    ) -> None:
        await _listen_or_explain(device, server.start())
        self._state.closers.append(server.close)
        if server.root != object_node:
            raise SimulationError(
                f"device {device.id}: its simulator serves its object at {server.root}, "
                f"the site file says {object_node}",
                hint=f"set object_node: {server.root} for a simulated line",
            )

    def _security(self, device: OpcUaConfig, application_uri: str) -> PlcSecurity | None:
        """The endpoints and certificate the device's server offers; None (and the device
        skipped, with the reason) when the simulator cannot serve what the site file asks."""
        if device.security_policy == "None":
            return PlcSecurity()
        users: dict[str, str] = {}
        if device.identity == "username":
            password = os.environ.get(device.password_env or "")
            if not isinstance(device, OpcUaDeviceConfig) or password is None:
                reason = (
                    f"user names are for the simulated PLC only, with {device.password_env} set"
                )
                self._state.skipped.append((device.id, reason))
                return None
            users[device.username or ""] = password
        certificate = self.base_dir / device.trusted_certificates[0]
        key = certificate.with_name(f"{certificate.stem}.key.pem")
        if not certificate.exists() and not key.exists():
            if certificate.suffix != ".der":
                raise SimulationError(
                    f"device {device.id}: cannot make the simulator's certificate {certificate}",
                    hint="name the trusted certificate of a simulated device NAME.der",
                )
            made = make_self_signed(
                certificate.parent, certificate.stem, application_uri=application_uri
            )
            certificate, key = made.certificate, made.private_key
        elif not key.exists():
            raise SimulationError(
                f"device {device.id}: the simulator needs the private key of {certificate}",
                hint=f"put it at {key}, or remove {certificate} to have a pair made",
            )
        endpoint = f"{device.security_policy}_{device.security_mode}"
        return PlcSecurity(
            endpoints=(endpoint,), certificate=certificate, private_key=key, users=users
        )

    async def _start_modbus(self, device: ModbusTcpDeviceConfig) -> None:
        points = points_from_data(tag.model_dump() for tag in device.tags)
        simulator = ModbusDeviceSimulator(points)
        port = await _listen_or_explain(device, simulator.start_tcp(device.host, device.port))
        self._state.closers.append(simulator.stop)
        self.modbus[device.id] = simulator
        self._listen(device, f"{device.host}:{port} ({len(points)} tags)")

    def _printed(self, level: str, unit: PrintedUnit) -> None:
        """The printer simulator's `on_print`: hand the unit to the camera of its level."""
        self._prints.setdefault(level, {})[unit.unit_ref] = unit
        photographer = self._photographers.get(level)
        if photographer is None:
            return
        camera = self._camera_of(level)
        fault = self._camera_fault(camera)
        if fault is not None:
            self._camera_faults.setdefault(level, {})[unit.unit_ref] = fault
        if fault in (CameraFault.LOST_TRIGGER, CameraFault.OFFLINE):
            return
        black = fault is CameraFault.BLACK_FRAME
        folder = self._folders.get(level)
        if folder is not None:
            self._spawn(_drop_file(folder, unit, photographer, black=black))
            return
        photographer.remember(unit, black=black)
        if camera is not None:
            self._spawn(camera.trigger(unit.unit_ref, unit.payload))

    def _line_event(self, event: LineEvent) -> None:
        """The PLC's `on_line_event`: in case-camera mode each closed case is photographed."""
        if event.kind is EventKind.CASE_COMPLETE and self._case_camera:
            self._spawn(self._photograph_case(event.ref))

    async def _photograph_case(self, number: int) -> None:
        assert self.plc is not None
        refs = tuple(str(unit) for unit in self.plc.line.cases.get(number, ()))
        added, self._put_in_next_case = tuple(self._put_in_next_case), []
        scuffed = refs[:1] if self._scuff_next_case else ()
        self._scuff_next_case = False
        camera = self._camera_of("case")
        photographer = self._photographers.get("case")
        fault = self._camera_fault(camera)
        if self._lose_next_case_frame:
            fault, self._lose_next_case_frame = CameraFault.LOST_TRIGGER, False
        self._tampered[number] = _CaseTampering(added, scuffed, fault)
        ref = f"case-{number}"
        if fault is not None:
            self._camera_faults.setdefault("case", {})[ref] = fault
        if camera is None or photographer is None or fault not in (None, CameraFault.BLACK_FRAME):
            return
        if fault is CameraFault.BLACK_FRAME:
            photographer.prepare(ref, photographer.black_frame())
        else:
            payloads, specs = self._cartons(refs, scuffed)
            payloads += added
            specs += [DefectSpec()] * len(added)
            photographer.prepare(
                ref, await asyncio.to_thread(self._contents_frame, number, payloads, specs)
            )
        await camera.trigger(ref)

    def _contents_frame(
        self, number: int, payloads: list[str], specs: list[DefectSpec]
    ) -> SourceImage:
        width, height = contents_frame_size(max(len(payloads), self.options.units_per_case))
        seed = self.options.seed
        rng = np.random.default_rng(None if seed is None else [seed, number])
        image, _ = render_many(payloads, size=(width, height), rng=rng, defects=specs)
        return SourceImage(width, height, PixelFormat.MONO8, image.tobytes())

    def _cartons(
        self, refs: tuple[str, ...], scuffed: tuple[str, ...]
    ) -> tuple[list[str], list[DefectSpec]]:
        """What is printed on top of each unit's carton, as its unit printer printed it."""
        printed = self._prints.get("unit", {})
        payloads: list[str] = []
        specs: list[DefectSpec] = []
        for ref in refs:
            unit = printed.get(ref)
            payloads.append(ref if unit is None else unit.payload or unit.sent_payload)
            specs.append(
                DefectSpec(
                    missing_print=unit is None or unit.payload is None,
                    smudge=SMUDGE_RADIUS if unit is not None and unit.smudged else 0.0,
                    damaged_fraction=SCUFF_DAMAGE if ref in scuffed else 0.0,
                )
            )
        return payloads, specs

    def _camera_of(self, level: str) -> SimulatedCamera | None:
        return next((c for d, c in self.cameras.items() if _level(self._role(d)) == level), None)

    def _camera_fault(self, camera: SimulatedCamera | None) -> CameraFault | None:
        if camera is not None and camera.offline:
            return CameraFault.OFFLINE
        rate = self.options.camera_fault_rate
        if not rate or self._fault_rng.random() >= rate:
            return None
        return self._fault_rng.choice((CameraFault.LOST_TRIGGER, CameraFault.BLACK_FRAME))

    def _role(self, device_id: str) -> str:
        return next(d.role for d in self.line.devices if d.id == device_id)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _level(role: str) -> str:
    """`unit-printer` and `unit-camera` are on the same level: `unit`."""
    return role.partition("-")[0]


def _opc_address(device: OpcUaConfig) -> tuple[str, int]:
    parts = urlsplit(device.endpoint)
    if parts.hostname is None or parts.port is None:
        raise SimulationError(
            f"device {device.id}: endpoint {device.endpoint} has no host and port",
            hint="write it as opc.tcp://127.0.0.1:48400",
        )
    return parts.hostname, parts.port


def _secured(device: OpcUaConfig) -> str:
    if device.security_policy == "None":
        return ""
    return f" ({device.security_policy}/{device.security_mode})"


async def _listen_or_explain(device: DeviceConfig, starting: Awaitable[T]) -> T:
    try:
        return await starting
    except OSError as error:
        raise SimulationError(
            f"device {device.id}: cannot listen where the site file puts it: {error.strerror}",
            hint="stop whatever uses that port, or change the device's port in the site file",
        ) from error


def _sync(close: Callable[[], object]) -> Callable[[], Awaitable[None]]:
    async def closer() -> None:
        close()

    return closer


async def _run_line(plc: LinePlcServer) -> None:
    """Reset and start the simulated line, as an operator would."""
    plc.command(Command.RESET)
    while plc.machine.state is not State.IDLE:
        await asyncio.sleep(0.02)
    with contextlib.suppress(Exception):
        plc.command(Command.START)


async def _drop_file(
    folder: Path, unit: PrintedUnit, photographer: UnitPhotographer, *, black: bool = False
) -> None:
    data = photographer.png(unit, black=black)
    staging = folder / f".{unit.unit_ref}.png.part"
    await asyncio.to_thread(staging.write_bytes, data)
    await asyncio.to_thread(staging.rename, folder / f"{unit.unit_ref}.png")
