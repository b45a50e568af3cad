"""The engineer's screens of the HMI: devices and their health, reading a tag, simulator control
in demo mode, the configuration check and the OPC UA certificate trust lists (docs/hmi.md)."""

from __future__ import annotations

from fastapi import FastAPI

from config import SiteConfig
from ebr.audit.trail import AuditTrail
from gateway.hmi.engineer.context import EngineerContext
from gateway.hmi.engineer.device_routes import router as device_router
from gateway.hmi.engineer.simulator_routes import router as simulator_router
from gateway.hmi.engineer.site_routes import router as site_router
from gateway.observability.devices import DeviceBoard
from gateway.simulation import LineSimulation


def install_engineer(
    app: FastAPI,
    *,
    site: SiteConfig,
    trail: AuditTrail,
    board: DeviceBoard | None = None,
    simulation: LineSimulation | None = None,
    probe_timeout_s: float = 3.0,
) -> None:
    """Add the engineer's screens to the HMI `app` (from `create_hmi_app`): `site` is the
    running site file, `trail` records trust-list changes, `board` gives the running line's
    device health, `simulation` (demo mode only) enables simulator control."""
    app.state.engineer = EngineerContext(
        site, trail, board=board, simulation=simulation, probe_timeout_s=probe_timeout_s
    )
    for router in (device_router, simulator_router, site_router):
        app.include_router(router)


__all__ = ["EngineerContext", "install_engineer"]
