"""The one Modbus client of a connection (TCP, or an RTU bus): reads, writes, polling, health.

Every request goes through one lock, so one request is in flight per connection; on RTU the
bus is left silent for the inter-frame gap between requests. A slave that keeps timing out is
skipped for a while (`SlaveBreakers`) and the device reports DEGRADED while the rest of the bus
is served. A supervisor task owns the connection and reconnects with capped backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pymodbus import FramerType
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from drivers.backoff import Backoff
from drivers.base import (
    DeviceFaultError,
    DeviceHealth,
    DeviceTimeoutError,
    DeviceUnavailableError,
    DriverError,
    LinkState,
    PeerProtocolError,
    Quality,
    TagScalar,
    TagValue,
    UsageError,
)
from drivers.health import HealthTracker
from drivers.modbus.breaker import SlaveBreakers
from drivers.modbus.settings import PollSettings, RtuSettings, TcpSettings
from drivers.modbus.tagmap import (
    DataType,
    ReadRequest,
    Tag,
    TagMap,
    decode,
    encode,
    plan_reads,
)

_AnyClient = AsyncModbusTcpClient | AsyncModbusSerialClient
_REQUEST_ERRORS = (DeviceTimeoutError, PeerProtocolError, DeviceFaultError, UsageError)
_EXCEPTION_CODES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "device failure",
    5: "acknowledge (busy)",
    6: "device busy",
    10: "gateway path unavailable",
    11: "gateway target did not respond",
}


class ModbusTagSource:
    """A `drivers.base.TagSource` over Modbus TCP or RTU. Use `async with` or `start`/`close`."""

    kind = "modbus"

    def __init__(
        self,
        name: str,
        transport: TcpSettings | RtuSettings,
        tags: TagMap | Iterable[Tag],
        poll: PollSettings | None = None,
    ) -> None:
        self.name = name
        self.transport = transport
        self.tags = tags if isinstance(tags, TagMap) else TagMap(tags)
        self.poll = poll or PollSettings()
        self._health = HealthTracker(name, self.kind)
        self._health.detail("endpoint", transport.describe())
        self._breakers = SlaveBreakers(
            failures=self.poll.breaker_failures, skip_s=self.poll.breaker_skip_s
        )
        self._lock = asyncio.Lock()
        self._client: _AnyClient | None = None
        self._connected = asyncio.Event()
        self._lost = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._bus_free_at = 0.0
        self.requests_sent = 0

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._supervisor is None:
            self._supervisor = asyncio.create_task(self._supervise(), name=f"modbus:{self.name}")

    async def close(self) -> None:
        task, self._supervisor = self._supervisor, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._drop_client()
        self._health.set_state(LinkState.DOWN, reason="closed")

    async def __aenter__(self) -> ModbusTagSource:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def wait_connected(self, timeout: float) -> None:
        """Wait until the link is up; `DeviceUnavailableError` after `timeout` seconds."""
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except TimeoutError:
            raise DeviceUnavailableError(
                f"not connected after {timeout:g} s",
                device=self.name,
                hint=f"is the device at {self.transport.describe()} powered and reachable?",
            ) from None

    def health(self) -> DeviceHealth:
        skipped = self._breakers.skipped()
        details = {"skipped_slaves": ",".join(map(str, skipped))} if skipped else {}
        return self._health.snapshot(details)

    # --- TagSource ---------------------------------------------------------------------------

    async def read(self, tags: Sequence[str]) -> dict[str, TagValue]:
        """Read `tags` with merged requests. A slave that fails gives BAD values, not an error;
        a link that is down raises `DeviceUnavailableError`."""
        wanted = self.tags.resolve(tags)
        self._require_connected()
        values: dict[str, TagValue] = {}
        for request in plan_reads(wanted, max_gap=self.poll.max_gap):
            values.update(await self._read_request(request))
        return {name: values[name] for name in tags}

    async def read_each(self, tags: Sequence[str]) -> dict[str, TagValue]:
        """One request per tag: the baseline the merged reads are measured against."""
        wanted = self.tags.resolve(tags)
        self._require_connected()
        values: dict[str, TagValue] = {}
        for tag in wanted:
            values.update(
                await self._read_request(
                    ReadRequest(tag.slave, tag.table, tag.address, tag.size, (tag,))
                )
            )
        return values

    async def write(self, values: Mapping[str, TagScalar]) -> None:
        """Write every value, in order; all are checked before the first is sent."""
        prepared: list[tuple[Tag, tuple[int, ...] | bool]] = []
        for name, value in values.items():
            tag = self.tags[name]
            if not tag.table.writable:
                raise UsageError(
                    f"tag {name!r} is in the read-only {tag.table.value} table",
                    device=self.name,
                    hint="only coils and holding registers can be written",
                )
            if tag.data_type is DataType.BOOL:
                if not isinstance(value, bool):
                    raise UsageError(
                        f"coil {name!r} takes True or False, got {value!r}", device=self.name
                    )
                prepared.append((tag, value))
            else:
                prepared.append((tag, encode(tag, value)))
        self._require_connected()
        for tag, payload in prepared:
            await self._execute(tag.slave, _write_call(tag, payload))

    def subscribe(
        self, tags: Sequence[str], *, interval_s: float | None = None
    ) -> AsyncIterator[tuple[str, TagValue]]:
        """Poll `tags` and yield each change of value or quality. While the link is down the
        last values are repeated once as STALE."""
        self.tags.resolve(tags)
        return self._poll_changes(list(tags), interval_s or self.poll.poll_interval_s)

    async def _poll_changes(
        self, names: list[str], interval_s: float
    ) -> AsyncIterator[tuple[str, TagValue]]:
        last: dict[str, TagValue] = {}
        while True:
            try:
                current = await self.read(names)
            except DeviceUnavailableError:
                now = datetime.now(UTC)
                current = {
                    name: TagValue(
                        last[name].value if name in last else None,
                        Quality.STALE,
                        None,
                        last[name].received_time if name in last else now,
                    )
                    for name in names
                }
            for name in names:
                value, previous = current[name], last.get(name)
                if (
                    previous is None
                    or previous.quality is not value.quality
                    or previous.value != value.value
                ):
                    last[name] = value
                    yield name, value
            await asyncio.sleep(interval_s)

    # --- requests ----------------------------------------------------------------------------

    async def _read_request(self, request: ReadRequest) -> dict[str, TagValue]:
        now = datetime.now(UTC)
        if not self._breakers.allows(request.slave):
            return {tag.name: TagValue(None, Quality.BAD, None, now) for tag in request.tags}
        try:
            response = await self._execute(request.slave, _read_call(request))
        except (*_REQUEST_ERRORS, DeviceUnavailableError):
            return {tag.name: TagValue(None, Quality.BAD, None, now) for tag in request.tags}
        received = datetime.now(UTC)
        self._health.good_value()
        values: dict[str, TagValue] = {}
        for tag in request.tags:
            try:
                value = _extract(tag, request, response)
            except (IndexError, ValueError) as error:
                self._health.error(error)
                values[tag.name] = TagValue(None, Quality.BAD, None, received)
                continue
            values[tag.name] = TagValue(value, Quality.GOOD, None, received)
        return values

    async def _execute(self, slave: int, call: Callable[[_AnyClient], Awaitable[Any]]) -> Any:
        async with self._lock:
            client = self._client
            if client is None or not self._connected.is_set():
                raise DeviceUnavailableError("not connected", device=self.name)
            await self._wait_for_quiet_bus()
            timed_out = False
            self.requests_sent += 1
            try:
                response = await asyncio.wait_for(call(client), self.poll.request_timeout_s + 0.5)
            except (TimeoutError, ModbusIOException) as error:
                timed_out = True
                if isinstance(error, ModbusIOException) and not client.connected:
                    raise self._link_lost(error) from None
                timeout = DeviceTimeoutError(
                    f"slave {slave} did not answer within {self.poll.request_timeout_s:g} s",
                    device=self.name,
                    hint="check the slave id, wiring and the device's power",
                )
                self._slave_failed(slave, timeout)
                raise timeout from None
            except ConnectionException as error:
                raise self._link_lost(error) from None
            except ModbusException as error:
                self._health.error(error)
                raise PeerProtocolError(f"slave {slave}: {error}", device=self.name) from None
            finally:
                self._mark_bus_busy(timed_out)
            self._slave_answered(slave)
            if response.isError():
                raise self._exception_response(slave, response.exception_code)
            return response

    def _exception_response(self, slave: int, code: int) -> DriverError:
        meaning = _EXCEPTION_CODES.get(code, "unknown exception")
        message = f"slave {slave} refused the request: exception {code} ({meaning})"
        error: DriverError
        if code in (1, 2, 3):
            error = UsageError(
                message, device=self.name, hint="check the tag map against the device's manual"
            )
        else:
            error = DeviceFaultError(message, device=self.name)
        self._health.error(error)
        return error

    async def _wait_for_quiet_bus(self) -> None:
        delay = self._bus_free_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def _mark_bus_busy(self, timed_out: bool) -> None:
        if isinstance(self.transport, RtuSettings):
            gap = self.transport.inter_frame_s
            if timed_out:
                gap += self.transport.byte_timeout_s
            self._bus_free_at = time.monotonic() + gap

    def _slave_failed(self, slave: int, error: BaseException) -> None:
        self._health.error(error)
        was_skipped = slave in self._breakers.skipped()
        self._breakers.failure(slave)
        if not was_skipped and slave in self._breakers.skipped():
            self._health.detail(f"slave_{slave}", "skipped after repeated timeouts")
        self._refresh_state()

    def _slave_answered(self, slave: int) -> None:
        if slave in self._breakers.skipped():
            self._health.detail(f"slave_{slave}", "answering again")
        self._breakers.success(slave)
        self._refresh_state()

    def _refresh_state(self) -> None:
        if not self._connected.is_set():
            return
        skipped = self._breakers.skipped()
        if skipped:
            self._health.set_state(
                LinkState.DEGRADED, reason=f"slaves {skipped} skipped after timeouts"
            )
        else:
            self._health.set_state(LinkState.UP)

    def _require_connected(self) -> None:
        if not self._connected.is_set():
            raise DeviceUnavailableError(
                "not connected",
                device=self.name,
                hint=f"waiting to reconnect to {self.transport.describe()}",
            )

    def _link_lost(self, error: BaseException) -> DeviceUnavailableError:
        self._health.error(error)
        self._lost.set()
        self._connected.clear()
        return DeviceUnavailableError(f"connection lost: {error}", device=self.name)

    # --- connection supervision --------------------------------------------------------------

    async def _supervise(self) -> None:
        backoff = Backoff(initial=self.poll.backoff_initial_s, cap=self.poll.backoff_cap_s)
        while True:
            client = self._new_client()
            self._client = client
            self._lost.clear()
            try:
                up = await asyncio.wait_for(client.connect(), self.poll.request_timeout_s + 1)
            except (TimeoutError, OSError, ModbusException) as error:
                self._health.error(error)
                up = False
            if up and client.connected:
                backoff.reset()
                self._breakers.reset()
                self._bus_free_at = 0.0
                self._connected.set()
                self._refresh_state()
                await self._lost.wait()
                self._health.set_state(LinkState.DOWN, reason="connection lost")
            else:
                reason = f"cannot connect to {self.transport.describe()}"
                self._health.error(reason)
                self._health.set_state(LinkState.DOWN, reason=reason)
            self._connected.clear()
            self._drop_client()
            await asyncio.sleep(backoff.next_delay())

    def _new_client(self) -> _AnyClient:
        holder: list[_AnyClient] = []

        def on_connect(up: bool) -> None:
            if not up and holder and holder[0] is self._client:
                self._connected.clear()
                self._lost.set()

        common: dict[str, Any] = {
            "timeout": self.poll.request_timeout_s,
            "retries": 0,
            "reconnect_delay": 0,
            "trace_connect": on_connect,
        }
        client: _AnyClient
        if isinstance(self.transport, TcpSettings):
            client = AsyncModbusTcpClient(self.transport.host, port=self.transport.port, **common)
        else:
            client = AsyncModbusSerialClient(
                self.transport.port,
                framer=FramerType.RTU,
                baudrate=self.transport.baudrate,
                bytesize=self.transport.bytesize,
                parity=self.transport.parity,
                stopbits=self.transport.stopbits,
                **common,
            )
        client.set_max_no_responses(1_000_000)
        holder.append(client)
        return client

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()


def _extract(tag: Tag, request: ReadRequest, response: Any) -> TagScalar:
    part = request.slice_for(tag)
    if tag.table.is_bit:
        bits = list(response.bits)
        if len(bits) < request.count:
            raise ValueError(f"answer has {len(bits)} bits, asked for {request.count}")
        return bool(bits[part.start])
    registers = list(response.registers)
    if len(registers) != request.count:
        raise ValueError(f"answer has {len(registers)} registers, asked for {request.count}")
    return decode(tag, registers[part])


def _read_call(request: ReadRequest) -> Callable[[_AnyClient], Awaitable[Any]]:
    def call(client: _AnyClient) -> Awaitable[Any]:
        method = {
            "coil": client.read_coils,
            "discrete_input": client.read_discrete_inputs,
            "holding": client.read_holding_registers,
            "input": client.read_input_registers,
        }[request.table.value]
        return method(request.address, count=request.count, device_id=request.slave)

    return call


def _write_call(
    tag: Tag, payload: tuple[int, ...] | bool
) -> Callable[[_AnyClient], Awaitable[Any]]:
    def call(client: _AnyClient) -> Awaitable[Any]:
        if isinstance(payload, bool):
            return client.write_coil(tag.address, payload, device_id=tag.slave)
        if len(payload) == 1:
            return client.write_register(tag.address, payload[0], device_id=tag.slave)
        return client.write_registers(tag.address, list(payload), device_id=tag.slave)

    return call
