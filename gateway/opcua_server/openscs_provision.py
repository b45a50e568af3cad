"""Serial numbers requested from an L4 into the gateway's pool.

All pages are received first; the serials are then written to a spool file, which is an import
file (`{"product", "level", "serials" | "codes"}`), and that file is imported as one import
through `ebr.imports.CodeImporter`: the same checks as any import, all or nothing. Once the L4
has answered, its serials are ours: if the import is refused, or the gateway stops before it,
the spool file keeps them, to be corrected and imported with `tracegate codes import FILE`.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from ebr.audit.actor import GATEWAY, Actor, utc_now
from ebr.audit.trail import AuditTrail
from ebr.imports import CodeImporter, ImportRejectedError
from gateway.opcua_server.openscs_client import L4Session
from gateway.opcua_server.openscs_model import KeyValues, ReturnStatus, SnFormat
from gateway.opcua_server.openscs_pool import load_sid_classes
from gateway.opcua_server.openscs_sid import TRACEGATE_URN, SidClass
from serialization.errors import SerializationError
from serialization.rules import PackagingLevel


class ProvisionError(RuntimeError):
    """Serials received but not imported; `spool_file` holds them."""

    def __init__(self, message: str, spool_file: Path, problems: list[str]) -> None:
        super().__init__(
            f"{message}; the serials received are kept in {spool_file} "
            "(correct it and import it with `tracegate codes import FILE`)"
        )
        self.spool_file = spool_file
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Provisioned:
    sid_class: str
    requested: int
    imported: int
    status: ReturnStatus
    pages: int
    spool_file: Path | None
    """The import file written; None when the L4 sent nothing."""


async def provision_from_l4(
    session: L4Session,
    engine: Engine,
    *,
    product_id: str,
    level: PackagingLevel,
    count: int,
    spool_dir: Path,
    criteria: KeyValues | None = None,
    sn_format: str = "SERIALONLY",
    audit: AuditTrail | None = None,
    actor: Actor = GATEWAY,
) -> Provisioned:
    """Ask the L4 for `count` serials of the product level (by default selected by our
    SIDClassID) and import what it sends."""
    sid = await asyncio.to_thread(_pooled_class, engine, product_id, level)
    fmt = SnFormat.parse(sn_format)
    sid.check_format(fmt, reading=True)
    received = await session.request_serials(
        count=count, criteria=criteria or (("SIDClassID", sid.id),), sn_format=fmt.value
    )
    if not received.serial_numbers:
        return Provisioned(sid.id, count, 0, received.status, received.pages, None)
    stamp = utc_now().strftime("%Y%m%dT%H%M%S%fZ")
    spool = spool_dir / f"openscs-{stamp}-{product_id}-{level.value}.json"
    values, problems = [], []
    for i, text in enumerate(received.serial_numbers):
        try:
            values.append(sid.read(fmt, text)[1])
        except SerializationError as error:
            problems.append(f"SerialNumbers[{i}]: {error}")
            values.append(text)
    kind = "codes" if fmt is SnFormat.LITERAL else "serials"
    document = {"product": product_id, "level": level.value, kind: values}
    content = json.dumps(document, indent=1).encode()
    await asyncio.to_thread(_write_durably, spool, content)
    if problems:
        raise ProvisionError(
            f"{len(problems)} serial number(s) are not {fmt.value}", spool, problems
        )
    importer = CodeImporter(engine, audit=audit, actor=actor)
    try:
        summaries = await asyncio.to_thread(importer.import_bytes, spool.name, content)
    except ImportRejectedError as error:
        raise ProvisionError(str(error), spool, [str(p) for p in error.problems]) from None
    return Provisioned(
        sid.id,
        count,
        sum(summary.rows for summary in summaries),
        received.status,
        received.pages,
        spool,
    )


def _pooled_class(engine: Engine, product_id: str, level: PackagingLevel) -> SidClass:
    sid = load_sid_classes(engine).get(f"{TRACEGATE_URN}{product_id}:{level.value}")
    if sid is None:
        raise ValueError(f"product {product_id!r} has no {level.value} level in the store")
    if not sid.pooled:
        raise ValueError(
            f"product {product_id!r} generates its own {level.value} serials; "
            "set the level's coding rule to `generator: imported` to take them from the L4"
        )
    return sid


def _write_durably(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as out:
        out.write(content)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
