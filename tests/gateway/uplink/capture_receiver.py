"""A small EPCIS 2.0 capture receiver over real HTTP on loopback, for the uplink tests.

POST /capture answers 202 with the job's Location; the job reports `running` on its first
poll and its result on the next. It keeps every event once by eventID (the first arrival, in
arrival order), checks each message's hash, and can be told to fail: answer 503, drop the
connection without an answer, store a document and then drop the connection (a lost answer),
or refuse one event with 422.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from gateway.uplink.wire import ReceivedMessage, checked_messages


class Mode(Enum):
    OK = "ok"
    OUTAGE = "outage"
    """503, dropped connections and lost answers, in turn."""


@dataclass
class CaptureReceiver:
    mode: Mode = Mode.OK
    refuse_event_ids: set[str] = field(default_factory=set)
    events: list[ReceivedMessage] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    duplicates: int = 0
    requests: int = 0
    failures: int = 0
    jobs: dict[int, dict[str, Any]] = field(default_factory=dict)
    port: int = 0
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def event_ids(self) -> list[str]:
        return [message.event_id for message in self.events]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                answer = self._answer(*request)
                if answer is None:
                    return
                writer.write(answer)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    def _answer(self, method: str, path: str, body: bytes) -> bytes | None:
        self.requests += 1
        if self.mode is Mode.OUTAGE:
            self.failures += 1
            turn = self.failures % 3
            if turn == 0:
                return _response(503, {"title": "repository unavailable"})
            if turn == 1:
                return None
            if method == "POST":
                self._store(body)
            return None
        if method == "POST" and path == "/capture":
            try:
                messages = checked_messages(body)
            except ValueError as error:
                return _response(400, {"title": str(error)})
            refused = [m.event_id for m in messages if m.event_id in self.refuse_event_ids]
            if refused:
                return _response(422, {"title": f"events refused: {refused}"})
            job = len(self.jobs) + 1
            self.jobs[job] = {"polls": 0, "messages": messages}
            return _response(202, None, location=f"/capture/{job}")
        if method == "GET" and path.startswith("/capture/"):
            job = self.jobs.get(int(path.rsplit("/", 1)[1]))
            if job is None:
                return _response(404, {"title": "no such capture job"})
            job["polls"] += 1
            if job["polls"] == 1:
                return _response(200, {"running": True, "success": False, "errors": []})
            self._keep(job["messages"])
            return _response(200, {"running": False, "success": True, "errors": []})
        return _response(404, {"title": f"no {method} {path}"})

    def _store(self, body: bytes) -> None:
        with contextlib.suppress(ValueError):
            self._keep(checked_messages(body))

    def _keep(self, messages: list[ReceivedMessage]) -> None:
        for message in messages:
            if message.event_id in self.seen:
                self.duplicates += 1
                continue
            self.seen.add(message.event_id)
            self.events.append(message)


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, bytes] | None:
    line = await reader.readline()
    if not line:
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    length = 0
    while True:
        header = (await reader.readline()).decode("latin-1").strip()
        if not header:
            break
        name, _, value = header.partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return method, path, body


def _response(status: int, payload: object, *, location: str | None = None) -> bytes:
    body = b"" if payload is None else json.dumps(payload).encode()
    reason = {200: "OK", 202: "Accepted", 400: "Bad Request", 404: "Not Found"}.get(
        status, "Status"
    )
    head = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}"]
    if payload is not None:
        head.append("Content-Type: application/json")
    if location is not None:
        head.append(f"Location: {location}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body
