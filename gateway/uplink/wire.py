"""How outbox messages travel: an EPCIS 2.0 JSON-LD EPCISDocument whose event list holds the
messages' bodies, byte for byte as stored, and whose `tgo:messages` extension holds their
headers in the same order (sender, destination, sequence, batch, journal seq, created,
ackRequired, previousHash, hash).

The HTTP capture uplink sends a page of messages per document, MQTT one message per document.
A receiver checks a message by serialising its event compactly (`json.dumps(event,
separators=(",", ":"), ensure_ascii=False)`: no whitespace, keys in the order received) and
recomputing `ebr.outbox.message_hash`; `checked_messages` does exactly that.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ebr.outbox import OutboxMessage, message_hash
from serialization.epcis.document import SCHEMA_VERSION, creation_date_text
from serialization.epcis.jsonld_binding import EPCIS_CONTEXT

OUTBOX_NAMESPACE = "urn:tracegate:outbox:"
HEADERS = "tgo:messages"


class WireError(ValueError):
    """A document that does not hold what its headers say."""


def document(messages: Sequence[OutboxMessage], created: datetime) -> bytes:
    """The messages as one EPCISDocument (UTF-8 JSON)."""
    if not messages:
        raise ValueError("a document needs at least one message")
    first = messages[0]
    head: dict[str, Any] = {
        "@context": [EPCIS_CONTEXT, {"tgo": OUTBOX_NAMESPACE}],
        "type": "EPCISDocument",
        "schemaVersion": SCHEMA_VERSION,
        "creationDate": creation_date_text(created),
        "instanceIdentifier": f"{first.destination}/{first.sender}/{first.seq}+{len(messages)}",
        HEADERS: [message.header() for message in messages],
    }
    if len({message.sender for message in messages}) == 1:
        head["sender"] = first.sender
    opening = json.dumps(head, separators=(",", ":"), ensure_ascii=False)[:-1]
    events = ",".join(message.body for message in messages)
    return f'{opening},"epcisBody":{{"eventList":[{events}]}}}}'.encode()


def single_documents(messages: Sequence[OutboxMessage], created: datetime) -> Iterator[bytes]:
    """`document([message], created)` for each message, byte for byte (how MQTT sends), with
    what the documents share serialised once."""
    compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    common = {
        "@context": [EPCIS_CONTEXT, {"tgo": OUTBOX_NAMESPACE}],
        "type": "EPCISDocument",
        "schemaVersion": SCHEMA_VERSION,
        "creationDate": creation_date_text(created),
    }
    opening = compact(common)[:-1]
    for message in messages:
        identifier = compact(f"{message.destination}/{message.sender}/{message.seq}+1")
        yield (
            f'{opening},"instanceIdentifier":{identifier},"{HEADERS}":[{compact(message.header())}],'
            f'"sender":{compact(message.sender)},"epcisBody":{{"eventList":[{message.body}]}}}}'
        ).encode()


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    header: dict[str, Any]
    event: dict[str, Any]
    body: str

    @property
    def event_id(self) -> str:
        return str(self.event["eventID"])

    @property
    def batch(self) -> int:
        return int(self.header["batch"])


def checked_messages(data: bytes) -> list[ReceivedMessage]:
    """The messages of a received document, each checked against its header's hash."""
    try:
        parsed = json.loads(data)
        headers = parsed[HEADERS]
        events = parsed["epcisBody"]["eventList"]
    except (ValueError, KeyError, TypeError) as error:
        raise WireError(f"not a tracegate outbox document: {error}") from None
    if not isinstance(headers, list) or not isinstance(events, list):
        raise WireError(f"{HEADERS} and the event list must be lists")
    if len(headers) != len(events):
        raise WireError(f"{len(headers)} headers for {len(events)} events")
    received: list[ReceivedMessage] = []
    for header, event in zip(headers, events, strict=True):
        body = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
        expected = message_hash(
            destination=header["destination"],
            sender=header["sender"],
            seq=header["sequence"],
            batch_id=header["batch"],
            journal_seq=header["journalSeq"],
            created_at=datetime.fromisoformat(header["created"]),
            prev_hash=header["previousHash"],
            body=body,
        )
        if expected != header["hash"]:
            raise WireError(
                f"message {header['sender']}#{header['sequence']}: hash {header['hash']} does "
                f"not match its content ({expected})"
            )
        received.append(ReceivedMessage(header, event, body))
    return received
