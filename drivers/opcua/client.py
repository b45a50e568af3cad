"""The OPC UA client: one connection per device, kept up by a supervisor task.

The supervisor connects with exactly the configured security (checking the server certificate
against the trust list first), re-creates every live subscription on each new session, and after
a loss retries with capped backoff using the same settings, so security is never dropped on
reconnect. A security refusal is not retried: the device stays DOWN with the reason.

Staleness: every subscription asks the server for keepalives well inside `stale_after_s`; when
neither a data change nor a keepalive arrives for that long, each of its tags is reported once
with Quality.STALE and the subscription is re-created. A Bad subscription status also re-creates
it; a lost session reports every subscribed tag STALE at once. asyncua's own stale-subscription
watchdog is switched off: it would re-create a silent subscription quietly after half our
`stale_after_s`, so the silence would never be reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.utils import ServiceError
from asyncua.crypto import security_policies
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.status_codes import StatusCodes
from asyncua.ua.uaerrors import UaError, UaStatusCodeError
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from drivers.backoff import Backoff
from drivers.base import (
    DeviceHealth,
    DeviceTimeoutError,
    DeviceUnavailableError,
    DriverError,
    LinkState,
    Quality,
    SecurityError,
    TagScalar,
    TagValue,
    UsageError,
)
from drivers.health import HealthTracker
from drivers.opcua.convert import driver_error, scalar, tag_value, variant_for
from drivers.opcua.feeds import Feed, Handler, OpcUaEvent, now
from drivers.opcua.security import OfferedEndpoint, TrustList, choose_endpoint
from drivers.opcua.settings import Identity, OpcUaSettings, SecurityMode, SecurityPolicy

log = logging.getLogger("tracegate.drivers.opcua")

_POLICY_CLASSES: dict[SecurityPolicy, type[security_policies.SecurityPolicy]] = {
    SecurityPolicy.BASIC256SHA256: security_policies.SecurityPolicyBasic256Sha256,
    SecurityPolicy.AES256_SHA256_RSAPSS: security_policies.SecurityPolicyAes256Sha256RsaPss,
}
_UA_MODES: dict[SecurityMode, ua.MessageSecurityMode] = {
    SecurityMode.NONE: ua.MessageSecurityMode.None_,
    SecurityMode.SIGN: ua.MessageSecurityMode.Sign,
    SecurityMode.SIGN_AND_ENCRYPT: ua.MessageSecurityMode.SignAndEncrypt,
}
SERVER_OBJECT = "i=2253"
EVENT_QUEUE_SIZE = 1000
"""Events the server keeps per publish for an `events()` feed: far more than a line makes."""


def _cancel_requested() -> bool:
    """True when our task was cancelled even if asyncua turned the cancellation into an error."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class OpcUaClient:
    """`drivers.base.TagSource` over OPC UA, plus events and method calls."""

    kind = "opcua"

    def __init__(self, settings: OpcUaSettings, *, backoff: Backoff | None = None) -> None:
        self.settings = settings
        self.name = settings.name
        self._trust = TrustList.from_settings(settings) if settings.secured else None
        self._backoff = backoff or Backoff(
            initial=settings.reconnect_initial_s, cap=settings.reconnect_cap_s
        )
        self._health = HealthTracker(settings.name, self.kind)
        self._health.detail("endpoint", settings.endpoint)
        self._health.detail("security", f"{settings.policy.value}/{settings.mode.value}")
        self._ua: Client | None = None
        self._lost = asyncio.Event()
        self._feeds: set[Feed] = set()
        self._variant_types: dict[str, ua.VariantType] = {}
        self._supervisor: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._first_outcome: asyncio.Future[BaseException | None] | None = None
        self._refused: SecurityError | None = None
        self.security_in_use: str | None = None
        """Policy URI and mode of the live secure channel, for operators and tests."""

    # --- life cycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        """Start the connection; raises SecurityError at once if the server is refused.

        An unreachable server is not an error here: the client keeps trying in the background
        and reports DOWN until it succeeds.
        """
        if self._supervisor is not None:
            return
        loop = asyncio.get_running_loop()
        self._first_outcome = loop.create_future()
        self._supervisor = asyncio.create_task(self._supervise(), name=f"opcua-{self.name}")
        self._watcher = asyncio.create_task(self._watch_feeds(), name=f"opcua-{self.name}-stale")
        problem = await self._first_outcome
        if isinstance(problem, SecurityError):
            await self.close()
            raise problem

    async def close(self) -> None:
        for task in (self._watcher, self._supervisor):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._watcher = self._supervisor = None
        client, self._ua = self._ua, None
        if client is not None:
            await self._discard(client)
        for feed in self._feeds:
            feed.put(DeviceUnavailableError("client closed", device=self.name))

    async def __aenter__(self) -> OpcUaClient:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def health(self) -> DeviceHealth:
        return self._health.snapshot()

    async def wait_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._health.state is not LinkState.UP:
            if self._refused is not None:
                raise self._refused
            if time.monotonic() >= deadline:
                raise DeviceUnavailableError(
                    f"not connected within {timeout} s",
                    device=self.name,
                    hint=self._health.snapshot().last_error,
                )
            await asyncio.sleep(0.02)

    # --- the supervisor -----------------------------------------------------------------------

    def _resolve_first(self, outcome: BaseException | None) -> None:
        if self._first_outcome is not None and not self._first_outcome.done():
            self._first_outcome.set_result(outcome)

    async def _supervise(self) -> None:
        while True:
            self._lost.clear()
            try:
                client = await self._connect()
            except SecurityError as error:
                self._refuse(error)
                return
            except (OSError, TimeoutError, ConnectionError, UaError) as error:
                if _cancel_requested():
                    raise asyncio.CancelledError from error
                self._health.error(error or type(error).__name__)
                self._health.set_state(LinkState.DOWN, reason=str(error) or type(error).__name__)
                self._resolve_first(None)
                await asyncio.sleep(self._backoff.next_delay())
                continue
            self._ua = client
            self._backoff.reset()
            for feed in list(self._feeds):
                await self._attach(client, feed)
            self._health.set_state(LinkState.UP)
            self._resolve_first(None)
            await self._lost.wait()
            self._ua = None
            self._health.error("connection lost")
            self._health.set_state(LinkState.DOWN, reason="connection lost")
            for feed in self._feeds:
                feed.subscription = None
                feed.report_stale()
            await self._discard(client)

    def _refuse(self, error: SecurityError) -> None:
        error.device = error.device or self.name
        self._refused = error
        self._health.error(error)
        self._health.set_state(LinkState.DOWN, reason=f"refused: {error.message}")
        log.error("%s", error)
        for feed in self._feeds:
            feed.put(error)
        self._resolve_first(error)

    async def _connect(self) -> Client:
        s = self.settings
        client = Client(
            s.endpoint, timeout=s.request_timeout_s, watchdog_intervall=s.watchdog_interval_s
        )
        client.application_uri = s.application_uri
        client.name = client.description = f"tracegate {s.name}"
        client.session_timeout = 30_000
        client._stale_check_margin = float("inf")
        try:
            async with asyncio.timeout(s.connect_timeout_s):
                if s.secured:
                    await self._secure(client)
                if s.identity is Identity.USERNAME:
                    client.set_user(s.username or "")
                    client.set_password(s.password or "")
                elif s.identity is Identity.CERTIFICATE:
                    await client.load_client_certificate(str(s.client_certificate))
                    await client.load_private_key(Path(str(s.client_private_key)))
                client.connection_lost_callback = self._on_connection_lost
                await client.connect()
        except UaStatusCodeError as error:
            await self._discard(client)
            mapped = driver_error(error, device=self.name, doing="connect")
            if isinstance(mapped, SecurityError):
                raise mapped from error
            raise
        except BaseException:
            await self._discard(client)
            raise
        policy = client.security_policy
        self.security_in_use = f"{policy.URI}/{policy.Mode.name}"
        return client

    async def _secure(self, client: Client) -> None:
        s = self.settings
        assert self._trust is not None
        described = await client.connect_and_get_server_endpoints()
        offered = [
            OfferedEndpoint(
                policy_uri=e.SecurityPolicyUri,
                mode=e.SecurityMode.name.rstrip("_"),
                server_certificate=e.ServerCertificate or b"",
            )
            for e in described
        ]
        endpoint = choose_endpoint(s, offered)
        self._trust.check(endpoint.server_certificate)
        client.certificate_validator = self._validate_server_certificate
        await client.set_security(
            _POLICY_CLASSES[s.policy],
            str(s.client_certificate),
            str(s.client_private_key),
            server_certificate=endpoint.server_certificate,
            mode=_UA_MODES[s.mode],
        )

    async def _validate_server_certificate(self, cert: x509.Certificate, _app: Any) -> None:
        assert self._trust is not None
        try:
            self._trust.check(cert.public_bytes(Encoding.DER))
        except SecurityError as error:
            log.error("%s: %s", self.name, error)
            raise ServiceError(StatusCodes.BadCertificateUntrusted) from error

    async def _on_connection_lost(self, error: Exception) -> None:
        log.info("%s: connection lost (%r)", self.name, error)
        self._lost.set()

    async def _discard(self, client: Client) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1.0):
                await client.disconnect()
        with contextlib.suppress(Exception):
            client.disconnect_socket()
        if _cancel_requested():
            raise asyncio.CancelledError

    def _client(self) -> Client:
        if self._refused is not None:
            raise self._refused
        client = self._ua
        if client is None or self._lost.is_set():
            raise DeviceUnavailableError(
                "not connected",
                device=self.name,
                hint=self._health.snapshot().last_error or "the connection is being established",
            )
        return client

    # --- subscriptions ------------------------------------------------------------------------

    def _subscription_parameters(self) -> ua.CreateSubscriptionParameters:
        s = self.settings
        params = ua.CreateSubscriptionParameters()
        params.RequestedPublishingInterval = s.publishing_interval_ms
        params.RequestedMaxKeepAliveCount = max(
            1, int(s.stale_after_s * 1000 / 3 / s.publishing_interval_ms)
        )
        params.RequestedLifetimeCount = params.RequestedMaxKeepAliveCount * 10
        params.MaxNotificationsPerPublish = 10_000
        params.PublishingEnabled = True
        params.Priority = 0
        return params

    async def _attach(self, client: Client, feed: Feed) -> None:
        tag_of = dict(zip(self._canonical(feed.node_ids), feed.tags, strict=True))
        handler = Handler(feed, tag_of, self._on_subscribed_value)
        feed.resubscribe = False
        try:
            async with asyncio.timeout(self.settings.request_timeout_s * 2):
                subscription = await client.create_subscription(
                    self._subscription_parameters(), handler
                )
                if feed.events:
                    await subscription.subscribe_events(feed.node_ids[0], queuesize=feed.queue_size)
                else:
                    nodes = [client.get_node(n) for n in feed.node_ids]
                    handles = await subscription.subscribe_data_change(
                        nodes,
                        sampling_interval=ua.Double(self.settings.publishing_interval_ms),
                        queuesize=feed.queue_size,
                    )
                    self._report_refused_items(feed, handles)
        except (OSError, TimeoutError, ConnectionError, UaError) as error:
            if _cancel_requested():
                raise asyncio.CancelledError from error
            self._health.error(f"subscription: {error!r}")
            feed.resubscribe = True
            return
        feed.subscription = subscription
        feed.alive_at = time.monotonic()

    def _on_subscribed_value(self, value: TagValue) -> None:
        if value.quality is Quality.GOOD:
            self._health.good_value()

    def _report_refused_items(self, feed: Feed, handles: Sequence[Any]) -> None:
        """A node the server will not monitor is reported BAD once, not left silent."""
        for tag, handle in zip(feed.tags, handles, strict=True):
            if isinstance(handle, ua.StatusCode):
                self._health.error(f"subscribe {tag}: {handle.name}")
                feed.report(tag, TagValue(None, Quality.BAD, None, now()))

    async def _detach(self, feed: Feed) -> None:
        subscription, feed.subscription = feed.subscription, None
        if subscription is None:
            return
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.settings.request_timeout_s):
                await subscription.delete()
        if _cancel_requested():
            raise asyncio.CancelledError

    async def _watch_feeds(self) -> None:
        stale_after = self.settings.stale_after_s
        while True:
            await asyncio.sleep(min(0.1, stale_after / 4))
            client = self._ua
            if client is None or self._lost.is_set():
                continue
            degraded = False
            for feed in list(self._feeds):
                publish_at = getattr(feed.subscription, "last_publish_at", None) or 0.0
                alive = max(feed.alive_at, publish_at)
                silent = time.monotonic() - alive > stale_after
                if silent and not feed.events:
                    feed.report_stale()
                if feed.resubscribe or silent:
                    degraded = True
                    await self._detach(feed)
                    await self._attach(client, feed)
            if self._ua is client and not self._lost.is_set():
                self._health.set_state(
                    LinkState.DEGRADED if degraded else LinkState.UP,
                    reason="a subscription went silent; subscribing again" if degraded else None,
                )

    def _canonical(self, node_ids: Sequence[str]) -> list[str]:
        return [ua.NodeId.from_string(n).to_string() for n in node_ids]

    def _node_ids(self, tags: Sequence[str]) -> tuple[str, ...]:
        ids = tuple(self.settings.node_id(t) for t in tags)
        for tag, node_id in zip(tags, ids, strict=True):
            try:
                ua.NodeId.from_string(node_id)
            except (ValueError, UaError) as error:
                raise UsageError(
                    f"tag {tag!r}: {node_id!r} is not a NodeId",
                    device=self.name,
                    hint="write it like ns=2;s=Line.Counters.Total or i=2258, or add an alias",
                ) from error
        return ids

    async def _feed_items(self, feed: Feed) -> AsyncIterator[Any]:
        feed.alive_at = time.monotonic()  # attaching: not silent, or it would be attached twice
        self._feeds.add(feed)
        try:
            if self._refused is not None:
                raise self._refused
            client = self._ua
            if client is not None and not self._lost.is_set():
                await self._attach(client, feed)
            while True:
                item = await feed.queue.get()
                if isinstance(item, DriverError):
                    raise item
                yield item
        finally:
            self._feeds.discard(feed)
            await self._detach(feed)

    async def subscribe(
        self, tags: Sequence[str], *, queue_size: int = 1
    ) -> AsyncIterator[tuple[str, TagValue]]:
        """Changes of `tags`; with `queue_size` > 1 the server queues that many changes of each
        tag between publishes, so rapid changes (a unit trigger) all arrive, in order."""
        if not tags:
            raise UsageError("subscribe needs at least one tag", device=self.name)
        if queue_size < 1:
            raise UsageError(
                f"queue_size {queue_size} must be at least 1",
                device=self.name,
                hint="1 keeps only the newest value; use e.g. 64 for a unit trigger",
            )
        feed = Feed(node_ids=self._node_ids(tags), tags=tuple(tags), queue_size=queue_size)
        async for item in self._feed_items(feed):
            yield item

    async def events(
        self, source: str = SERVER_OBJECT, *, queue_size: int = EVENT_QUEUE_SIZE
    ) -> AsyncIterator[OpcUaEvent]:
        """Events notified by `source` (by default the Server object, which sees them all).

        The server keeps up to `queue_size` events between two publishes, so none is lost
        when many happen within one publishing interval.
        """
        if queue_size < 1:
            raise UsageError(f"queue_size {queue_size} must be at least 1", device=self.name)
        feed = Feed(
            node_ids=self._node_ids([source]), tags=(source,), events=True, queue_size=queue_size
        )
        async for item in self._feed_items(feed):
            yield item

    # --- reads, writes, calls -----------------------------------------------------------------

    async def read(self, tags: Sequence[str]) -> dict[str, TagValue]:
        """All `tags` in ONE Read request."""
        if not tags:
            return {}
        node_ids = self._node_ids(tags)
        client = self._client()
        results = await self._request(
            client.read_attributes([client.get_node(n) for n in node_ids]), doing="read"
        )
        received = now()
        values: dict[str, TagValue] = {}
        unknown = []
        for tag, node_id, data in zip(tags, node_ids, results, strict=True):
            if data.StatusCode is not None and data.StatusCode.name == "BadNodeIdUnknown":
                unknown.append(tag)
                continue
            if data.Value is not None and data.Value.VariantType is not ua.VariantType.Null:
                self._variant_types[node_id] = data.Value.VariantType
            values[tag] = tag_value(data, received)
        if unknown:
            raise UsageError(
                f"unknown tags {', '.join(unknown)}",
                device=self.name,
                hint="the server has no such nodes; check the tag map",
            )
        self._health.good_value()
        return values

    async def write(self, values: Mapping[str, TagScalar]) -> None:
        """All `values` in ONE Write request (after one Read for types not yet known)."""
        if not values:
            return
        tags = list(values)
        node_ids = self._node_ids(tags)
        untyped = [t for t, n in zip(tags, node_ids, strict=True) if n not in self._variant_types]
        if untyped:
            await self.read(untyped)
        client = self._client()
        variants = [
            variant_for(values[t], self._variant_types[n], tag=t, device=self.name)
            for t, n in zip(tags, node_ids, strict=True)
        ]
        statuses = await self._request(
            client.uaclient.write_attributes(
                [ua.NodeId.from_string(n) for n in node_ids],
                [ua.DataValue(v) for v in variants],
                AttributeIds.Value,
            ),
            doing="write",
        )
        refused = [f"{t}: {s.name}" for t, s in zip(tags, statuses, strict=True) if not s.is_good()]
        if refused:
            raise UsageError(
                f"write refused for {'; '.join(refused)}",
                device=self.name,
                hint="check that the nodes are writable and the identity may write them",
            )

    async def call(
        self, object_node: str, method: str, args: Sequence[TagScalar] = ()
    ) -> list[TagScalar | None]:
        """Call `method` (a NodeId, or a browse name under `object_node`) with `args`."""
        (object_id,) = self._node_ids([object_node])
        client = self._client()
        parent = client.get_node(object_id)
        try:
            method_id: Any = ua.NodeId.from_string(method)
        except (ValueError, UaError):
            method_id = await self._request(
                parent.get_child(f"{parent.nodeid.NamespaceIndex}:{method}"),
                doing=f"find method {method}",
            )
        result = await self._request(parent.call_method(method_id, *args), doing=f"call {method}")
        outputs = result if isinstance(result, list) else [result]
        return [scalar(v) for v in outputs] if result is not None else []

    async def _request(self, operation: Any, *, doing: str) -> Any:
        try:
            async with asyncio.timeout(self.settings.request_timeout_s):
                return await operation
        except TimeoutError as error:
            self._health.error(f"{doing}: timeout")
            raise DeviceTimeoutError(
                f"{doing}: no answer within {self.settings.request_timeout_s} s", device=self.name
            ) from error
        except UaStatusCodeError as error:
            raise driver_error(error, device=self.name, doing=doing) from error
        except (ConnectionError, OSError) as error:
            self._health.error(f"{doing}: {error}")
            raise DeviceUnavailableError(f"{doing}: {error}", device=self.name) from error
