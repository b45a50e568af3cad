"""The English texts of the engineer's screens that come from values, marked for the catalogs."""

from __future__ import annotations

from typing import Final

from gateway.hmi.texts import N_

LINK_STATES: Final = {
    "up": N_("Up"),
    "connecting": N_("Connecting"),
    "degraded": N_("Degraded"),
    "down": N_("Down"),
}
HEALTH_SOURCES: Final = {
    "live": N_("live, from the running line"),
    "check": N_("from the last check"),
    "none": N_("not checked yet"),
}
CERTIFICATE_STATES: Final = {
    "server": N_("This server"),
    "trusted": N_("Trusted"),
    "rejected": N_("Rejected"),
}
SEVERITIES: Final = {"error": N_("Error"), "warning": N_("Warning")}
DONE: Final = {
    "check": N_("Every device was checked."),
    "rate": N_("The line rate was changed."),
    "defects": N_("The defect rates were changed."),
    "camera": N_("The camera's faults were changed."),
    "trust": N_("The certificate is trusted from the client's next session."),
    "reject": N_("The certificate is rejected from the client's next session."),
}
