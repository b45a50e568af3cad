"""The Modbus device simulator: a pymodbus server (TCP, or RTU on a serial port) over a
`RegisterImage`, with values that change over time and injectable faults.

Faults per slave: `silent` (never answers, like a dead slave on a bus), `delay_s` (answers
late) and `garbage` (answers with bytes that are no frame). `disconnect()` drops every TCP
client. Slave ids that are not configured stay silent, as they would on a real RS-485 bus.
A device with logic behind its registers (the Modbus printer) reacts to a client's write in
`on_write`, called before the write is answered.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from drivers.base import TagScalar
from drivers.modbus.tagmap import Table
from simulators.modbus_device.points import Point, RegisterImage

_TABLE_OF_FUNCTION = {
    1: Table.COIL,
    5: Table.COIL,
    15: Table.COIL,
    2: Table.DISCRETE_INPUT,
    3: Table.HOLDING,
    6: Table.HOLDING,
    16: Table.HOLDING,
    22: Table.HOLDING,
    23: Table.HOLDING,
    4: Table.INPUT,
}


@dataclass
class SlaveFaults:
    silent: bool = False
    delay_s: float = 0.0
    garbage: bool = False
    """Answer with bytes of the right length that are not a valid frame."""


WriteHook = Callable[[int, Table, int, int], Awaitable[None]]
"""(slave, table, address, count) of a write the image has just taken."""


class ModbusDeviceSimulator:
    def __init__(self, points: Sequence[Point], *, on_write: WriteHook | None = None) -> None:
        self.image = RegisterImage(points)
        self.on_write = on_write
        self.faults: dict[int, SlaveFaults] = {slave: SlaveFaults() for slave in self.image.slaves}
        self.requests_served = 0
        self.served_at: deque[float] = deque(maxlen=1000)
        """`time.monotonic()` of the latest answered requests, for timing checks."""
        self._started = time.monotonic()
        self._server: ModbusTcpServer | ModbusSerialServer | None = None

    # --- control -----------------------------------------------------------------------------

    def set_fault(
        self, slave: int, *, silent: bool = False, delay_s: float = 0.0, garbage: bool = False
    ) -> None:
        self.faults[slave] = SlaveFaults(silent=silent, delay_s=delay_s, garbage=garbage)

    def set_value(self, name: str, value: TagScalar) -> None:
        self.image.set(name, value)

    def value(self, name: str) -> TagScalar:
        return self.image.get(name)

    def disconnect(self) -> None:
        """Drop every connected client (the server keeps listening)."""
        if self._server is not None:
            for connection in list(self._server.active_connections.values()):
                connection.close()

    # --- serving -----------------------------------------------------------------------------

    async def start_tcp(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on `host:port` (0 picks a free port); returns the port."""
        server = ModbusTcpServer(
            self._devices(),
            address=(host, port),
            ignore_missing_devices=True,
            trace_packet=self._garble(unit_id_at=6),
        )
        await server.serve_forever(background=True)
        self._server = server
        listener = server.transport
        assert isinstance(listener, asyncio.Server), "pymodbus TCP listener is an asyncio.Server"
        return int(listener.sockets[0].getsockname()[1])

    async def start_rtu(
        self, serial_port: str, *, baudrate: int = 19200, parity: str = "E", stopbits: int = 1
    ) -> None:
        server = ModbusSerialServer(
            self._devices(),
            port=serial_port,
            baudrate=baudrate,
            parity=parity,
            stopbits=stopbits,
            ignore_missing_devices=True,
            trace_packet=self._garble(unit_id_at=0),
        )
        await server.serve_forever(background=True)
        self._server = server

    async def stop(self) -> None:
        self.disconnect()
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()  # type: ignore[no-untyped-call]

    async def __aenter__(self) -> ModbusDeviceSimulator:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _garble(self, *, unit_id_at: int) -> Callable[[bool, bytes], bytes]:
        """A packet hook that replaces answers of `garbage` slaves with 0xFF bytes."""

        def hook(sending: bool, packet: bytes) -> bytes:
            if not sending or len(packet) <= unit_id_at:
                return packet
            faults = self.faults.get(packet[unit_id_at])
            if faults is None or not faults.garbage:
                return packet
            return b"\xff" * len(packet)

        return hook

    # --- pymodbus datastore glue -------------------------------------------------------------

    def _devices(self) -> list[SimDevice]:
        devices = [self._device(slave) for slave in self.image.slaves]
        devices.append(SimDevice(0, simdata=_blocks({t: [0] * 16 for t in Table}), action=_mute))
        return devices

    def _device(self, slave: int) -> SimDevice:
        async def action(
            function_code: int,
            _start_address: int,
            address: int,
            _count: int,
            registers: list[int],
            set_values: list[int] | list[bool] | None,
        ) -> None:
            await self._serve(slave, function_code, address, registers, set_values)

        return SimDevice(slave, simdata=_blocks(self.image.tables[slave]), action=action)

    async def _serve(
        self,
        slave: int,
        function_code: int,
        address: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> None:
        faults = self.faults.get(slave, SlaveFaults())
        if faults.silent:
            raise NoSuchIdException(f"slave {slave} is silent (fault injected)")
        if faults.delay_s:
            await asyncio.sleep(faults.delay_s)
        self.requests_served += 1
        self.served_at.append(time.monotonic())
        table = _TABLE_OF_FUNCTION[function_code]
        self.image.advance(time.monotonic() - self._started)
        if set_values:
            self.image.store(slave, table, address, (int(v) for v in set_values))
            if self.on_write is not None:
                await self.on_write(slave, table, address, len(set_values))
        source = self.image.tables[slave][table]
        if table.is_bit:
            registers[: len(source) // 16] = _pack_bits(source)
        else:
            registers[: len(source)] = source


async def _mute(*_args: Any) -> None:
    raise NoSuchIdException("no such slave on this bus")


def _blocks(
    tables: dict[Table, list[int]],
) -> tuple[list[SimData], list[SimData], list[SimData], list[SimData]]:
    def bits(table: Table) -> list[SimData]:
        return [SimData(0, values=[bool(b) for b in tables[table]], datatype=DataType.BITS)]

    def words(table: Table) -> list[SimData]:
        return [SimData(0, values=list(tables[table]), datatype=DataType.REGISTERS)]

    return (bits(Table.COIL), bits(Table.DISCRETE_INPUT), words(Table.HOLDING), words(Table.INPUT))


def _pack_bits(bits: list[int]) -> list[int]:
    """Bits 16 to a register, least significant first (pymodbus's in-memory layout)."""
    return [
        sum(1 << i for i, bit in enumerate(bits[start : start + 16]) if bit)
        for start in range(0, len(bits), 16)
    ]
