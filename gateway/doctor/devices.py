"""Every configured device answers, as `tracegate devices check` finds it."""

from __future__ import annotations

import asyncio

from gateway.devices import check_devices
from gateway.doctor.context import DoctorContext
from gateway.doctor.verdict import Status, Verdict

ITEM = "devices"


def check_device_reachability(context: DoctorContext) -> Verdict:
    config = context.config
    if config is None:
        return Verdict(ITEM, Status.SKIP, "not checked: the site file does not load")
    if not any(line.devices for line in config.lines):
        return Verdict(ITEM, Status.OK, "no devices configured")
    timeout = context.options.device_timeout_s
    checks = asyncio.run(check_devices(config, timeout))
    down = [c for c in checks if c.state.value == "down"]
    degraded = [c for c in checks if not c.up and c not in down]
    if not down and not degraded:
        return Verdict(ITEM, Status.OK, f"all {len(checks)} device(s) up within {timeout:g} s")
    named = [
        f"{c.line}/{c.id} {c.state.value} at {c.detail}" + (f": {c.error}" if c.error else "")
        for c in (*down, *degraded)
    ]
    return Verdict(
        ITEM,
        Status.FAIL if down else Status.WARN,
        f"{len(down) + len(degraded)} of {len(checks)} device(s) not up: " + "; ".join(named),
        ", ".join(f"{c.line}/{c.id}" for c in (*down, *degraded)),
        "check the device's power, cable and address in the site file; "
        f"`tracegate devices check --config {context.config_path}` shows each one",
    )
