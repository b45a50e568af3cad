"""The EPCIS 2.0 REST capture interface as an uplink: POST `{base}/capture` with an
EPCISDocument, 202 Accepted with the capture job's Location, the job polled until it is done.

- 202, then the job finishes with `success: true` (or 200/201/204 at once): acknowledged;
- 400, 409, 413, 415, 422, or a job that ends with `success: false`: refused; a document of
  several messages is sent again one by one, and the one refused is quarantined;
- 401, 403, 404, 405, 408, 429, other 4xx, 5xx, no answer, a dropped connection: a passing
  failure (the receiver or its configuration, not the message), retried with backoff.

The receiver deduplicates by eventID, so a document sent again after a lost answer is no
harm. Authentication by bearer token when configured; TLS by the URL's scheme (httpx
verifies certificates).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx

from ebr.outbox import OutboxMessage
from gateway.uplink.uplinks import Delivery, UplinkUnavailableError
from gateway.uplink.wire import document

REFUSED = frozenset({400, 409, 413, 415, 422})
"""Answers that refuse the document itself: sending it again would be refused again."""
CAPTURE_HEADERS = {
    "Content-Type": "application/ld+json",
    "GS1-EPCIS-Version": "2.0.0",
    "GS1-CBV-Version": "2.0.0",
    "GS1-Capture-Error-Behaviour": "rollback",
}


class _RefusedError(Exception):
    """The receiver refused the document as such."""


class EpcisCaptureUplink:
    kind = "epcis-http"

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        events_per_document: int = 500,
        timeout_s: float = 10.0,
        job_timeout_s: float = 60.0,
        poll_s: float = 0.2,
        token: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.events_per_document = events_per_document
        self.timeout_s = timeout_s
        self.job_timeout_s = job_timeout_s
        self.poll_s = poll_s
        self._headers = dict(CAPTURE_HEADERS)
        if token is not None:
            self._headers["Authorization"] = f"Bearer {token}"
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    async def open(self) -> None:
        self._client = httpx.AsyncClient(
            base_url=self.base_url + "/",
            timeout=self.timeout_s,
            transport=self._transport,
        )

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    async def send(self, messages: Sequence[OutboxMessage]) -> Delivery:
        delivery = Delivery()
        for start in range(0, len(messages), self.events_per_document):
            chunk = messages[start : start + self.events_per_document]
            try:
                await self._capture(chunk, delivery)
                delivery.acked.extend(chunk)
            except _RefusedError as refused:
                if len(chunk) == 1:
                    delivery.refuse(chunk[0], str(refused))
                else:
                    await self._one_by_one(chunk, delivery)
        return delivery

    async def _one_by_one(self, chunk: Sequence[OutboxMessage], delivery: Delivery) -> None:
        for message in chunk:
            if delivery.blocks(message):
                continue
            try:
                await self._capture([message], delivery)
            except _RefusedError as refused:
                delivery.refuse(message, str(refused))
            else:
                delivery.acked.append(message)

    async def _capture(self, chunk: Sequence[OutboxMessage], delivery: Delivery) -> None:
        client = self._require_client(delivery)
        data = document(chunk, datetime.now(UTC))
        try:
            response = await client.post("capture", content=data, headers=self._headers)
        except httpx.HTTPError as error:
            raise self._unavailable(f"POST capture: {_describe(error)}", delivery) from None
        status = response.status_code
        if status == 202:
            location = response.headers.get("Location")
            if not location:
                raise self._unavailable("202 Accepted without a Location header", delivery)
            await self._wait_for_job(location, delivery)
            return
        if status in (200, 201, 204):
            return
        if status in REFUSED:
            raise _RefusedError(f"HTTP {status} from POST capture: {_excerpt(response)}")
        raise self._unavailable(f"HTTP {status} from POST capture: {_excerpt(response)}", delivery)

    async def _wait_for_job(self, location: str, delivery: Delivery) -> None:
        client = self._require_client(delivery)
        deadline = time.monotonic() + self.job_timeout_s
        while True:
            try:
                response = await client.get(location)
            except httpx.HTTPError as error:
                raise self._unavailable(f"GET {location}: {_describe(error)}", delivery) from None
            if response.status_code != 200:
                raise self._unavailable(
                    f"HTTP {response.status_code} from GET {location}: {_excerpt(response)}",
                    delivery,
                )
            try:
                job = response.json()
                running = bool(job.get("running", False))
                success = bool(job.get("success", False))
            except (ValueError, AttributeError):
                raise self._unavailable(
                    f"GET {location}: not a capture job: {_excerpt(response)}", delivery
                ) from None
            if not running:
                if success:
                    return
                raise _RefusedError(f"capture job {location} failed: {job.get('errors', [])}")
            if time.monotonic() > deadline:
                raise self._unavailable(
                    f"capture job {location} still running after {self.job_timeout_s:g} s",
                    delivery,
                )
            await asyncio.sleep(self.poll_s)

    def _require_client(self, delivery: Delivery) -> httpx.AsyncClient:
        if self._client is None:
            raise self._unavailable("the uplink is not open", delivery)
        return self._client

    def _unavailable(self, reason: str, delivery: Delivery) -> UplinkUnavailableError:
        return UplinkUnavailableError(
            f"EPCIS capture at {self.base_url}: {reason}",
            acked=delivery.acked,
            hint="check the repository and the network; the messages are kept and sent again",
        )


def _describe(error: httpx.HTTPError) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _excerpt(response: httpx.Response, limit: int = 300) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:limit] + ("…" if len(text) > limit else "") if text else "(no body)"
