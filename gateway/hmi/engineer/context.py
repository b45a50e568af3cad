"""What the engineer's screens work on: the running site file (`SiteConfig.source`), the
audit trail, the devices the gateway drives right now (when a line runs), and the simulation
(in demo mode only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from fastapi import Request

from config import SiteConfig
from ebr.audit.trail import AuditTrail
from ebr.users import Role
from gateway.hmi.access import viewer
from gateway.hmi.engineer.device_list import Probe
from gateway.hmi.errors import HmiError
from gateway.hmi.sessions import HmiSession
from gateway.observability.devices import DeviceBoard
from gateway.simulation import LineSimulation

ENGINEER: Final = frozenset({Role.ENGINEER})
"""May act on the engineer's screens: check devices, read a tag, drive the simulator, trust or
reject a certificate."""
VIEW_ENGINEERING: Final = frozenset({Role.ENGINEER, Role.SUPERVISOR})


@dataclass
class EngineerContext:
    site: SiteConfig
    trail: AuditTrail
    board: DeviceBoard | None = None
    """The devices a running line drives: their live health."""
    simulation: LineSimulation | None = None
    """The simulated line of demo mode; None on a real line."""
    probe_timeout_s: float = 3.0
    probe: Probe | None = field(default=None)
    """The newest on-demand check of every configured device."""


def engineer_context(request: Request) -> EngineerContext:
    found: EngineerContext = request.app.state.engineer
    return found


def engineering_viewer(request: Request, *, renew: bool = True) -> HmiSession:
    """A live session of someone who may see the engineer's screens."""
    session = viewer(request, renew=renew)
    if session.user.role not in VIEW_ENGINEERING:
        raise HmiError(
            403,
            f"{session.user.username} ({session.user.role.value}) may not see the engineer's "
            "screens",
            where=request.url.path,
            fix="log in as an engineer (a supervisor may look)",
        )
    return session
