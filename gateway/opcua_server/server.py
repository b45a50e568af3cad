"""The gateway's OPC UA server: the tracegate model, records for the MES, events, security.

It runs in the caller's event loop (the gateway's own). Start-up order: security and users,
the namespace `urn:tracegate:<site id>`, the information model, the Records methods, the event
types, then every installer (`installers`, e.g. the OPEN-SCS model), and only then the
listening socket, so a client never sees a half-built address space.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Final

from asyncua import ua
from asyncua.server.server import Server
from sqlalchemy import Engine

from config.opcua_server import is_loopback
from ebr.users import Users
from gateway.opcua_server.access import GatewayPermissions, GatewayUsers
from gateway.opcua_server.events import EventPublisher
from gateway.opcua_server.limits import enforce_min_publishing_interval
from gateway.opcua_server.line_node import LineNode
from gateway.opcua_server.model import AddressSpace, build, link_records_methods
from gateway.opcua_server.records import RecordsService
from gateway.opcua_server.settings import ServerSettings, SiteModel
from gateway.opcua_server.trust import ClientTrust

log = logging.getLogger("tracegate.opcua_server")

Installer = Callable[[Server], Awaitable[None]]
"""Adds to the address space after the tracegate model is built, before the server listens."""

POLICIES: Final = {
    ("None", "None"): ua.SecurityPolicyType.NoSecurity,
    ("Basic256Sha256", "Sign"): ua.SecurityPolicyType.Basic256Sha256_Sign,
    ("Basic256Sha256", "SignAndEncrypt"): ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
    ("Aes256Sha256RsaPss", "Sign"): ua.SecurityPolicyType.Aes256Sha256RsaPss_Sign,
    ("Aes256Sha256RsaPss", "SignAndEncrypt"): (
        ua.SecurityPolicyType.Aes256Sha256RsaPss_SignAndEncrypt
    ),
}


class OpcUaServerError(Exception):
    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class GatewayOpcUaServer:
    def __init__(
        self,
        settings: ServerSettings,
        site: SiteModel,
        engine: Engine,
        users: Users,
        *,
        installers: Iterable[Installer] = (),
    ) -> None:
        self.settings = settings
        self.site = site
        self.installers: list[Installer] = list(installers)
        self._engine = engine
        self._users = users
        self._server: Server | None = None
        self._space: AddressSpace | None = None
        self._events: EventPublisher | None = None
        self._lines: dict[str, LineNode] = {}
        self._listening = False

    @property
    def endpoint(self) -> str:
        return self.settings.endpoint

    @property
    def listening(self) -> bool:
        """Started and bound to its endpoint, until stopped (the gateway's readiness)."""
        return self._listening

    @property
    def asyncua_server(self) -> Server:
        """The running asyncua server, for installers and in-process extensions."""
        if self._server is None:
            raise OpcUaServerError("the OPC UA server is not started", hint="await start() first")
        return self._server

    @property
    def namespace_index(self) -> int:
        """Index of `urn:tracegate:<site id>` in the server's namespace array."""
        return self._space_or_fail().namespace_index

    def line(self, line_id: str) -> LineNode:
        """The publisher for one line's values."""
        self._space_or_fail()
        found = self._lines.get(line_id)
        if found is None:
            raise OpcUaServerError(
                f"line {line_id!r} is not in the OPC UA model",
                hint=f"the site's lines are {', '.join(self._lines) or 'none'}",
            )
        return found

    async def start(self) -> None:
        settings = self.settings
        server = Server(
            user_manager=GatewayUsers(self._users, allow_anonymous=settings.allow_anonymous)
        )
        await server.init()
        server.set_endpoint(settings.endpoint)
        server.set_server_name(f"tracegate gateway {settings.site_id}")
        await server.set_application_uri(settings.application_uri)
        server.set_security_policy(self._policies(), permission_ruleset=GatewayPermissions())
        await self._load_certificate(server)
        tokens: list[type] = [ua.UserNameIdentityToken]
        if settings.allow_anonymous:
            tokens.append(ua.AnonymousIdentityToken)
        server.set_identity_tokens(tokens)
        if settings.trust_dir is not None and settings.rejected_dir is not None:
            server.set_certificate_validator(ClientTrust(settings.trust_dir, settings.rejected_dir))
        elif settings.secured:
            raise OpcUaServerError(
                "secured endpoints need trust_dir and rejected_dir",
                hint="set both; a client certificate is never trusted silently",
            )
        namespace = await server.register_namespace(settings.namespace_uri)
        space = await build(server, namespace, self.site)
        link_records_methods(
            server,
            space,
            RecordsService(
                self._engine,
                max_page_records=settings.max_page_records,
                max_page_bytes=settings.max_page_bytes,
            ).callbacks(),
        )
        self._events = await EventPublisher.create(
            server, space.batch_phase_event_type, space.alarm_event_type
        )
        enforce_min_publishing_interval(server, settings.min_publishing_interval_ms)
        self._server, self._space = server, space
        self._lines = {
            line_id: LineNode(server, line_id, nodes) for line_id, nodes in space.lines.items()
        }
        for install in self.installers:
            await install(server)
        try:
            await server.start()
        except OSError as error:
            self._server = self._space = None
            raise OpcUaServerError(
                f"cannot listen on {settings.endpoint}: {error.strerror or error}",
                hint="another program uses the port, or the address is not this machine's; "
                "change opcua_server.endpoint",
            ) from None
        self._listening = True
        log.info(
            "OPC UA server listening on %s (%s)",
            settings.endpoint,
            ", ".join(f"{p}/{m}" for p, m in settings.security),
        )

    async def stop(self) -> None:
        self._listening = False
        server, self._server = self._server, None
        self._space = self._events = None
        self._lines = {}
        if server is None:
            return
        task = server.iserver.time_task
        server.iserver.time_task = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await server.stop()

    async def __aenter__(self) -> GatewayOpcUaServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def publish_batch_phase(
        self,
        *,
        batch_id: int,
        line_id: str,
        lot: str,
        from_phase: str,
        to_phase: str,
        user: str | None = None,
        reason: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Announce a batch's phase change; the line's CurrentBatch.Status follows when it is
        that batch."""
        line = self._lines.get(line_id)
        if line is not None and line.batch_id == batch_id:
            await line.update_batch(status=to_phase)
        await self._events_or_fail().batch_phase(
            batch_id=batch_id,
            line_id=line_id,
            lot=lot,
            from_phase=from_phase,
            to_phase=to_phase,
            user=user,
            reason=reason,
            at=at,
        )

    async def publish_alarm(
        self,
        *,
        alarm_id: str,
        state: str,
        priority: int,
        message: str,
        line_id: str = "",
        detail: str = "",
        at: datetime | None = None,
    ) -> None:
        """Announce an alarm's change of state; `priority` 1 (low) to 4 (urgent)."""
        await self._events_or_fail().alarm(
            alarm_id=alarm_id,
            state=state,
            priority=priority,
            message=message,
            line_id=line_id,
            detail=detail,
            at=at,
        )

    def _policies(self) -> list[ua.SecurityPolicyType]:
        policies = []
        if ("None", "None") in self.settings.security and not is_loopback(self.settings.host):
            raise OpcUaServerError(
                f"security policy None on {self.settings.host}, which is not a loopback address",
                hint="use Basic256Sha256 or Aes256Sha256RsaPss, or serve on 127.0.0.1 only",
            )
        for pair in self.settings.security:
            policy = POLICIES.get(pair)
            if policy is None:
                raise OpcUaServerError(
                    f"unknown security {pair[0]}/{pair[1]}",
                    hint="policies None, Basic256Sha256, Aes256Sha256RsaPss; modes Sign, "
                    "SignAndEncrypt",
                )
            policies.append(policy)
        return policies

    async def _load_certificate(self, server: Server) -> None:
        settings = self.settings
        if not settings.secured:
            return
        for what, path in (("certificate", settings.certificate), ("key", settings.private_key)):
            if path is None or not path.is_file():
                raise OpcUaServerError(
                    f"the server {what} {path} does not exist; secured endpoints need it",
                    hint="run `tracegate certs create --config SITE`",
                )
        assert settings.certificate is not None
        assert settings.private_key is not None
        await server.load_certificate(str(settings.certificate))
        await server.load_private_key(str(settings.private_key))

    def _space_or_fail(self) -> AddressSpace:
        if self._space is None:
            raise OpcUaServerError("the OPC UA server is not started", hint="await start() first")
        return self._space

    def _events_or_fail(self) -> EventPublisher:
        if self._events is None:
            raise OpcUaServerError("the OPC UA server is not started", hint="await start() first")
        return self._events
