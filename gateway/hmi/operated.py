"""A batch run by an operator at the HMI: the line's devices and runtime opened, its batch
record fed, and the console attached, while the operator clears, challenges, starts, holds
and stops the line from the browser."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from config.sections import LineConfig
from gateway.hmi.console import LineConsole
from gateway.line.devices import open_line_devices
from gateway.line.ebr_clearance import ClearanceVerifier
from gateway.line.ebr_feed import open_ebr_feed
from gateway.line.runtime import LineRuntime
from gateway.logs import log_context
from gateway.site_store import SiteStore


@contextlib.asynccontextmanager
async def operated_line(
    store: SiteStore,
    line: LineConfig,
    batch_id: int,
    console: LineConsole,
    *,
    verifier: ClearanceVerifier | None = None,
) -> AsyncIterator[LineRuntime]:
    async with contextlib.AsyncExitStack() as stack:
        stack.enter_context(log_context(line=line.id, batch=batch_id))
        devices = await stack.enter_async_context(open_line_devices(line, store.config.base_dir))
        runtime = await stack.enter_async_context(LineRuntime(store, line, batch_id, devices))
        await stack.enter_async_context(open_ebr_feed(runtime, verifier=verifier))
        console.attach(runtime)
        stack.callback(console.detach)
        yield runtime
