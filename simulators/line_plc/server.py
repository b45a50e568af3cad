"""The line PLC as an OPC UA server: PackML, conveyor, reject gate, counters, packing signals.

Address space (namespace `NAMESPACE_URI`, string NodeIds `ns=<idx>;s=<name>`):

- `Line.PackML.State` (Int32, PackML state number), `Line.PackML.StateName` (String),
  `Line.PackML.Command` (String, writable: write a command name, e.g. "Start"),
  `Line.PackML.LastCommandError` (String); methods `Line.PackML.<Command>()` → new state.
- `Line.Conveyor.UnitTrigger` (Int64, reference of the unit last seen at the trigger sensor),
  `Line.Conveyor.RateUpm` (Double, writable), `Line.Conveyor.Running` (Boolean),
  `Line.Conveyor.RejectRef` (Int64, writable: write a reference to reject it);
  method `Line.Conveyor.RejectUnit(ref: Int64)` → Boolean (False: the unit is not before the gate);
  method `Line.Conveyor.SetVerdict(ref: Int64, accept: Boolean)` → Int32, a `VerdictAck`
  (0 applied, 1 late, 2 unknown reference, 3 conflicts with the unit's earlier verdict);
  method `Line.Conveyor.UnitOutcome(ref: Int64)` → Int32, what the gate did with the unit
  (0 not at the gate yet or unknown, 1 passed, 2 rejected, 3 reject missed).
- `Line.RejectGate.BinSensor` (Int64 count), `Line.RejectGate.LastRejected` (Int64 reference).
- `Line.Counters.Total|Good|Rejected` (Int64).
- `Line.CasePacker.CaseComplete` (Int64 case count), `Line.CasePacker.UnitsInCase` (Int32),
  `Line.Palletizer.PalletComplete` (Int64 pallet count), `Line.Palletizer.CasesOnPallet` (Int32).
- Events (BaseEventType from the Server object), one per occurrence, in the order they happen:
  "trigger <ref>" per unit at the trigger sensor, "reject <ref>" per unit the bin sensor sees
  fall, "case <n>" per completed case (with `LineConfig.close_case_on_stop` also the partial
  case a Stop closes), "pallet <n>" per completed pallet, and
  "state <Name>" per PackML state change, and "changeover format <name>" /
  "changeover material <name>" when a new format or material is set.
- `Line.Changeover.Format` and `Line.Changeover.Material` (String, writable): the format (carton
  size, recipe) and the packaging material (label roll, carton lot) the line is set up with, as
  the PLC's own HMI would set them at a changeover; a new value is announced as an event.

`UnitTrigger` takes every reference in turn (several writes in one scan at high rates), so a
subscriber with a monitored-item queue larger than 1 receives each of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asyncua import ua
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.event_generator import EventGenerator
from asyncua.server.server import Server
from asyncua.server.user_managers import UserManager
from asyncua.ua.status_codes import StatusCodes

from drivers.line_plc.protocol import VerdictAck
from simulators.line_plc.line import (
    EventKind,
    Line,
    LineConfig,
    LineEvent,
    unit_outcome_code,
)
from simulators.line_plc.packml import (
    OPERATOR_COMMANDS,
    Command,
    IllegalCommandError,
    PackMLMachine,
    State,
)

log = logging.getLogger("tracegate.simulators.line_plc")

NAMESPACE_URI = "urn:tracegate:simulator:line-plc"
APPLICATION_URI = "urn:tracegate:simulator:line-plc"
NAMESPACE_INDEX = 1
"""Where asyncua 2.1 registers our namespace on a fresh server (checked at start)."""


def plc_node_id(name: str, namespace_index: int = NAMESPACE_INDEX) -> str:
    """NodeId string of a simulator variable or method, e.g. `plc_node_id("Counters.Total")`."""
    return f"ns={namespace_index};s=Line.{name}"


ENDPOINT_POLICIES: dict[str, ua.SecurityPolicyType] = {
    "None": ua.SecurityPolicyType.NoSecurity,
    "Basic256Sha256_Sign": ua.SecurityPolicyType.Basic256Sha256_Sign,
    "Basic256Sha256_SignAndEncrypt": ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
    "Aes256Sha256RsaPss_Sign": ua.SecurityPolicyType.Aes256Sha256RsaPss_Sign,
    "Aes256Sha256RsaPss_SignAndEncrypt": ua.SecurityPolicyType.Aes256Sha256RsaPss_SignAndEncrypt,
}


@dataclass(frozen=True, slots=True)
class PlcSecurity:
    endpoints: tuple[str, ...] = ("None",)
    """Keys of `ENDPOINT_POLICIES`."""
    certificate: Path | None = None
    private_key: Path | None = None
    users: Mapping[str, str] = field(default_factory=dict)
    """username → password; when empty, anonymous sessions are allowed instead."""

    def __post_init__(self) -> None:
        unknown = [e for e in self.endpoints if e not in ENDPOINT_POLICIES]
        if unknown or not self.endpoints:
            raise ValueError(
                f"unknown security endpoints {unknown or '(none given)'}; "
                f"choose from {', '.join(ENDPOINT_POLICIES)}"
            )
        secured = any(e != "None" for e in self.endpoints)
        if secured and (self.certificate is None or self.private_key is None):
            raise ValueError("secured endpoints need the server certificate and private key")


class _PasswordUsers(UserManager):
    def __init__(self, users: Mapping[str, str]) -> None:
        self._users = dict(users)

    def get_user(
        self,
        iserver: Any,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        """`certificate` is the channel's client certificate, also for username tokens."""
        if username is not None:
            if self._users.get(username) == password:
                return User(role=UserRole.User, name=username)
            return None
        if certificate is not None:
            return User(role=UserRole.User, name="certificate")
        if not self._users:
            return User(role=UserRole.User, name="anonymous")
        return None


_VARIABLES: dict[str, tuple[Any, ua.VariantType, bool]] = {
    "PackML.State": (int(State.STOPPED), ua.VariantType.Int32, False),
    "PackML.StateName": (State.STOPPED.name.title(), ua.VariantType.String, False),
    "PackML.Command": ("", ua.VariantType.String, True),
    "PackML.LastCommandError": ("", ua.VariantType.String, False),
    "Conveyor.UnitTrigger": (0, ua.VariantType.Int64, False),
    "Conveyor.RateUpm": (0.0, ua.VariantType.Double, True),
    "Conveyor.Running": (False, ua.VariantType.Boolean, False),
    "Conveyor.RejectRef": (0, ua.VariantType.Int64, True),
    "RejectGate.BinSensor": (0, ua.VariantType.Int64, False),
    "RejectGate.LastRejected": (0, ua.VariantType.Int64, False),
    "Counters.Total": (0, ua.VariantType.Int64, False),
    "Counters.Good": (0, ua.VariantType.Int64, False),
    "Counters.Rejected": (0, ua.VariantType.Int64, False),
    "CasePacker.CaseComplete": (0, ua.VariantType.Int64, False),
    "CasePacker.UnitsInCase": (0, ua.VariantType.Int32, False),
    "Palletizer.PalletComplete": (0, ua.VariantType.Int64, False),
    "Palletizer.CasesOnPallet": (0, ua.VariantType.Int32, False),
    "Changeover.Format": ("", ua.VariantType.String, True),
    "Changeover.Material": ("", ua.VariantType.String, True),
}

CHANGEOVER_KINDS = ("format", "material")


_EVENT_MESSAGES: dict[EventKind, str] = {
    EventKind.UNIT_TRIGGER: "trigger",
    EventKind.UNIT_REJECTED: "reject",
    EventKind.CASE_COMPLETE: "case",
    EventKind.PALLET_COMPLETE: "pallet",
}
"""The line events announced as OPC UA events, and the word their message starts with."""


class LinePlcServer:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int,
        line: LineConfig | None = None,
        security: PlcSecurity | None = None,
        clock: Callable[[], float] = time.monotonic,
        tick_s: float = 0.01,
        acting_time_s: float = 0.1,
        extra_variables: int = 0,
        on_line_event: Callable[[LineEvent], None] | None = None,
    ) -> None:
        """`on_line_event` sees every line event (a unit passing, a case closed, …) in the scan
        that announces it: how the simulated line wires its case camera to the case packer."""
        self.endpoint = f"opc.tcp://{host}:{port}"
        self.line = Line(line or LineConfig())
        self.machine = PackMLMachine()
        self.security = security or PlcSecurity()
        self._clock = clock
        self._tick_s = tick_s
        self._acting_time_s = acting_time_s
        self._extra_variables = extra_variables
        self._entered_state_at = clock()
        self._server: Server | None = None
        self._events: EventGenerator | None = None
        self._ns = 0
        self._nodes: dict[str, ua.NodeId] = {}
        self._shown: dict[str, Any] = {}
        self._task: asyncio.Task[None] | None = None
        self._pending_events: list[str] = []
        self._stop_events: list[LineEvent] = []
        self._verdicts_released: asyncio.Event | None = None
        self.on_line_event = on_line_event

    def node_id(self, name: str) -> str:
        return plc_node_id(name, self._ns or NAMESPACE_INDEX)

    async def start(self) -> None:
        server = Server(user_manager=_PasswordUsers(self.security.users))
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name("tracegate line PLC simulator")
        await server.set_application_uri(APPLICATION_URI)
        server.set_security_policy([ENDPOINT_POLICIES[e] for e in self.security.endpoints])
        tokens: list[type] = [
            ua.UserNameIdentityToken if self.security.users else ua.AnonymousIdentityToken
        ]
        if self.security.certificate is not None and self.security.private_key is not None:
            await server.load_certificate(str(self.security.certificate))
            await server.load_private_key(str(self.security.private_key))
            tokens.append(ua.X509IdentityToken)
        server.set_identity_tokens(tokens)
        self._ns = await server.register_namespace(NAMESPACE_URI)
        if self._ns != NAMESPACE_INDEX:
            log.warning("namespace index is %d, not %d", self._ns, NAMESPACE_INDEX)
        await self._build_address_space(server)
        self._events = await server.get_event_generator()
        self._server = server
        self.line.set_rate(self.line.rate_upm)
        await server.start()
        self._task = asyncio.create_task(self._run(), name="line-plc-tick")
        log.info("line PLC simulator listening on %s (%s)", self.endpoint, self.security.endpoints)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._server is not None:
            await self._stop_clock(self._server)
            await self._server.stop()
            self._server = None

    @staticmethod
    async def _stop_clock(server: Server) -> None:
        """End asyncua's once-a-second CurrentTime task now rather than after its sleep."""
        task = server.iserver.time_task
        server.iserver.time_task = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def reset_simulation(self) -> None:
        """Back to a fresh line: Stopped, empty conveyor, zero counters, no pending rejects."""
        self.line = Line(self.line.config)
        self.machine = PackMLMachine()
        self._entered_state_at = self._clock()
        self._pending_events = []
        self._stop_events = []

    async def __aenter__(self) -> LinePlcServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- commands -----------------------------------------------------------------------------

    def command(self, command: Command) -> State:
        before = self.machine.state
        state = self.machine.handle(command)
        if state is not before:
            self._entered_state_at = self._clock()
            self._pending_events.append(f"state {state.name.title()}")
            if state is State.STOPPING and self.line.config.close_case_on_stop:
                self._stop_events += self.line.close_case()
        return state

    def reject(self, ref: int) -> bool:
        return self.line.reject(ref)

    async def changeover(self, kind: str, name: str) -> None:
        """Set up the line with a new format or material, as at the PLC's own HMI."""
        if kind not in CHANGEOVER_KINDS:
            raise ValueError(f"changeover kind {kind!r} is none of {', '.join(CHANGEOVER_KINDS)}")
        if not name.strip():
            raise ValueError(f"a {kind} changeover needs the name of the new {kind}")
        await self._show(f"Changeover.{kind.title()}", name, force=True)
        self._pending_events.append(f"changeover {kind} {name}")

    def set_verdict(self, ref: int, accept: bool) -> VerdictAck:
        return self.line.set_verdict(ref, accept, now=self._clock())

    def hold_verdicts(self) -> None:
        """Fault injection: from now on a SetVerdict call gets no answer and is never applied,
        as a verdict in flight when the gateway loses power: the unit meets the gate without it
        (fail-safe reject) while the gateway may already have recorded the accept."""
        if self._verdicts_released is None:
            self._verdicts_released = asyncio.Event()

    def release_verdicts(self) -> None:
        """End `hold_verdicts`: the calls held are answered LATE (still not applied), the next
        ones are applied again."""
        released, self._verdicts_released = self._verdicts_released, None
        if released is not None:
            released.set()

    async def drop_subscriptions(self) -> int:
        """Fault injection: forget every client subscription while sessions stay up.

        Clients stop getting notifications and keepalives for them, as after a PLC restart of
        its OPC UA stack; a good client notices the silence and subscribes again.
        """
        assert self._server is not None
        service = self._server.iserver.subscription_service
        ids = list(service.subscriptions)
        await service.delete_subscriptions(ids)
        return len(ids)

    def drop_connections(self, *, refuse_for_s: float = 0.0) -> int:
        """Fault injection: close every client's connection at once, as a pulled network cable
        or a switch restart, and refuse new ones for `refuse_for_s` seconds (the PLC out of
        reach meanwhile); the server goes on listening. Returns how many were closed."""
        assert self._server is not None
        iserver = self._server.iserver
        if refuse_for_s > 0:
            limit = iserver.max_connections
            iserver.max_connections = 0
            asyncio.get_running_loop().call_later(
                refuse_for_s, setattr, iserver, "max_connections", limit
            )
        transports = list(iserver.asyncio_transports)
        for transport in transports:
            transport.close()
        return len(transports)

    # --- address space ------------------------------------------------------------------------

    async def _build_address_space(self, server: Server) -> None:
        objects = server.nodes.objects
        line = await objects.add_object(f"ns={self._ns};s=Line", ua.QualifiedName("Line", self._ns))
        folders: dict[str, Any] = {}
        for name, (value, vtype, writable) in _VARIABLES.items():
            folder_name, _, leaf = name.partition(".")
            if folder_name not in folders:
                folders[folder_name] = await line.add_object(
                    f"ns={self._ns};s=Line.{folder_name}",
                    ua.QualifiedName(folder_name, self._ns),
                )
            initial = self.line.rate_upm if name == "Conveyor.RateUpm" else value
            node = await folders[folder_name].add_variable(
                f"ns={self._ns};s=Line.{name}", ua.QualifiedName(leaf, self._ns), initial, vtype
            )
            if writable:
                await node.set_writable()
            self._nodes[name] = node.nodeid
            self._shown[name] = initial
        for i in range(self._extra_variables):
            node = await folders["Counters"].add_variable(
                f"ns={self._ns};s=Line.Bench.{i}", ua.QualifiedName(f"Bench{i}", self._ns), i
            )
        packml = folders["PackML"]
        for command in OPERATOR_COMMANDS:
            await packml.add_method(
                f"ns={self._ns};s=Line.PackML.{command.value}",
                ua.QualifiedName(command.value, self._ns),
                self._method_for(command),
                [],
                [ua.VariantType.Int32],
            )
        await folders["Conveyor"].add_method(
            f"ns={self._ns};s=Line.Conveyor.RejectUnit",
            ua.QualifiedName("RejectUnit", self._ns),
            self._reject_method,
            [ua.VariantType.Int64],
            [ua.VariantType.Boolean],
        )
        await folders["Conveyor"].add_method(
            f"ns={self._ns};s=Line.Conveyor.SetVerdict",
            ua.QualifiedName("SetVerdict", self._ns),
            self._verdict_method,
            [ua.VariantType.Int64, ua.VariantType.Boolean],
            [ua.VariantType.Int32],
        )
        await folders["Conveyor"].add_method(
            f"ns={self._ns};s=Line.Conveyor.UnitOutcome",
            ua.QualifiedName("UnitOutcome", self._ns),
            self._outcome_method,
            [ua.VariantType.Int64],
            [ua.VariantType.Int32],
        )

    def _method_for(
        self, command: Command
    ) -> Callable[[ua.NodeId], Awaitable[list[ua.Variant] | ua.StatusCode]]:
        async def call(parent: ua.NodeId) -> list[ua.Variant] | ua.StatusCode:
            try:
                state = self.command(command)
            except IllegalCommandError as error:
                log.info("%s", error)
                return ua.StatusCode(ua.UInt32(StatusCodes.BadInvalidState))
            return [ua.Variant(int(state), ua.VariantType.Int32)]

        return call

    async def _reject_method(self, parent: ua.NodeId, ref: Any) -> list[ua.Variant]:
        value = ref.Value if isinstance(ref, ua.Variant) else ref
        return [ua.Variant(self.reject(int(value)), ua.VariantType.Boolean)]

    async def _verdict_method(self, parent: ua.NodeId, ref: Any, accept: Any) -> list[ua.Variant]:
        ref = ref.Value if isinstance(ref, ua.Variant) else ref
        accept = accept.Value if isinstance(accept, ua.Variant) else accept
        held = self._verdicts_released
        if held is not None:
            await held.wait()
            return [ua.Variant(int(VerdictAck.LATE), ua.VariantType.Int32)]
        ack = self.set_verdict(int(ref), bool(accept))
        return [ua.Variant(int(ack), ua.VariantType.Int32)]

    async def _outcome_method(self, parent: ua.NodeId, ref: Any) -> list[ua.Variant]:
        ref = ref.Value if isinstance(ref, ua.Variant) else ref
        return [ua.Variant(int(unit_outcome_code(self.line, int(ref))), ua.VariantType.Int32)]

    # --- the scan cycle -----------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                await self._scan()
            except Exception:
                log.exception("line PLC scan failed")
            await asyncio.sleep(self._tick_s)

    async def _scan(self) -> None:
        assert self._server is not None
        now = self._clock()
        await self._take_written_inputs()
        if self.machine.acting and now - self._entered_state_at >= self._acting_time_s:
            self.command(Command.STATE_COMPLETE)
        self.line.running = self.machine.state is State.EXECUTE
        triggers: list[int] = []
        rejects: list[int] = []
        messages, self._pending_events = self._pending_events, []
        happened, self._stop_events = [*self._stop_events, *self.line.advance(now)], []
        for event in happened:
            if self.on_line_event is not None:
                self.on_line_event(event)
            message = _EVENT_MESSAGES.get(event.kind)
            if message is not None:
                messages.append(f"{message} {event.ref}")
            if event.kind is EventKind.UNIT_TRIGGER:
                triggers.append(event.ref)
            elif event.kind is EventKind.UNIT_REJECTED:
                rejects.append(event.ref)
        c = self.line.counters
        outputs: dict[str, Any] = {
            "PackML.State": int(self.machine.state),
            "PackML.StateName": self.machine.state.name.title(),
            "Conveyor.Running": self.line.running,
            "Conveyor.RateUpm": self.line.rate_upm,
            "RejectGate.BinSensor": c.rejected,
            "Counters.Total": c.total,
            "Counters.Good": c.good,
            "Counters.Rejected": c.rejected,
            "CasePacker.CaseComplete": c.cases,
            "CasePacker.UnitsInCase": c.units_in_case,
            "Palletizer.PalletComplete": c.pallets,
            "Palletizer.CasesOnPallet": c.cases_on_pallet,
        }
        for ref in triggers:
            await self._show("Conveyor.UnitTrigger", ref)
        if rejects:
            outputs["RejectGate.LastRejected"] = rejects[-1]
        for name, value in outputs.items():
            await self._show(name, value)
        for message in messages:
            await self._emit(message)

    async def _take_written_inputs(self) -> None:
        assert self._server is not None
        command = self._read("PackML.Command")
        if command:
            await self._show("PackML.Command", "", force=True)
            try:
                self.command(Command(command))
                await self._show("PackML.LastCommandError", "")
            except (ValueError, IllegalCommandError) as error:
                await self._show("PackML.LastCommandError", str(error))
        reject_ref = self._read("Conveyor.RejectRef")
        if reject_ref:
            await self._show("Conveyor.RejectRef", 0, force=True)
            self.reject(int(reject_ref))
        for kind in CHANGEOVER_KINDS:
            name = self._read(f"Changeover.{kind.title()}")
            if isinstance(name, str) and name and name != self._shown[f"Changeover.{kind.title()}"]:
                await self.changeover(kind, name)
        rate = self._read("Conveyor.RateUpm")
        if isinstance(rate, float) and rate != self._shown["Conveyor.RateUpm"] and rate > 0:
            self.line.set_rate(rate)

    def _read(self, name: str) -> Any:
        assert self._server is not None
        variant = self._server.read_attribute_value(self._nodes[name]).Value
        return None if variant is None else variant.Value

    async def _show(self, name: str, value: Any, *, force: bool = False) -> None:
        if not force and self._shown.get(name) == value:
            return
        assert self._server is not None
        self._shown[name] = value
        vtype = _VARIABLES[name][1]
        await self._server.write_attribute_value(
            self._nodes[name],
            ua.DataValue(ua.Variant(value, vtype), SourceTimestamp=datetime.now(UTC)),  # type: ignore[arg-type]
        )

    async def _emit(self, message: str) -> None:
        if self._events is None:
            return
        self._events.event.Message = ua.LocalizedText(message)
        self._events.event.Severity = 500
        await self._events.trigger(message=message)
