"""Running an operator's action on the line: what it failed with, said for the operator."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from drivers.base import DriverError
from ebr.errors import StoreError
from gateway.alarms.errors import AlarmError
from gateway.line.supervisor import LineActionError
from serialization.lifecycle import IllegalBatchActionError

log = logging.getLogger("tracegate.hmi")


@dataclass(frozen=True, slots=True)
class Failure:
    what: str
    fix: str
    status: int = 409


async def perform(action: Awaitable[Any]) -> Failure | None:
    """Await `action`; a refusal of the line, the store or a device is returned, not raised
    (the page shows it beside the control), and nothing it had recorded is undone."""
    try:
        await action
    except LineActionError as error:
        return Failure(error.message, error.hint or "")
    except StoreError as error:
        return Failure(error.message, error.hint or "")
    except IllegalBatchActionError as error:
        return Failure(str(error), "do the step the batch is waiting for first")
    except (DriverError, AlarmError) as error:
        log.warning("HMI action failed: %s", error)
        return Failure(str(error), getattr(error, "hint", None) or "check the line and retry")
    return None
