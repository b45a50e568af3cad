"""The minimum publishing interval: asyncua grants whatever a client asks for, so a client
asking for 0 ms would have the server publish as fast as it can."""

from __future__ import annotations

import functools
from typing import Any

from asyncua.server.server import Server


def enforce_min_publishing_interval(server: Server, minimum_ms: float) -> None:
    service = server.iserver.subscription_service
    create = service.create_subscription

    @functools.wraps(create)
    async def clamped(params: Any, *args: Any, **kwargs: Any) -> Any:
        if not params.RequestedPublishingInterval >= minimum_ms:
            params.RequestedPublishingInterval = minimum_ms
        return await create(params, *args, **kwargs)

    setattr(service, "create_subscription", clamped)  # noqa: B010
