"""The English texts of the line's values the HMI shows, marked for the catalogs (`N_`)."""

from __future__ import annotations

from typing import Final

from drivers.line_plc.protocol import PackMLState
from gateway.alarms.definitions import Priority
from gateway.alarms.states import AlarmState


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translate later"
    return message


PHASES: Final = {
    "downloaded": N_("Downloaded"),
    "clearance": N_("Line clearance"),
    "challenge": N_("Vision challenge"),
    "running": N_("Running"),
    "held": N_("Held"),
    "completing": N_("Completing"),
    "reconciled": N_("Reconciled"),
    "released": N_("Released"),
    "rejected": N_("Rejected"),
}
PACKML_STATES: Final = {
    PackMLState.CLEARING: N_("Clearing"),
    PackMLState.STOPPED: N_("Stopped"),
    PackMLState.STARTING: N_("Starting"),
    PackMLState.IDLE: N_("Idle"),
    PackMLState.SUSPENDED: N_("Suspended"),
    PackMLState.EXECUTE: N_("Execute"),
    PackMLState.STOPPING: N_("Stopping"),
    PackMLState.ABORTING: N_("Aborting"),
    PackMLState.ABORTED: N_("Aborted"),
    PackMLState.HOLDING: N_("Holding"),
    PackMLState.HELD: N_("Held"),
    PackMLState.UNHOLDING: N_("Unholding"),
    PackMLState.SUSPENDING: N_("Suspending"),
    PackMLState.UNSUSPENDING: N_("Unsuspending"),
    PackMLState.RESETTING: N_("Resetting"),
    PackMLState.COMPLETING: N_("Completing"),
    PackMLState.COMPLETE: N_("Complete"),
}
REASONS: Final = {
    "no_read": N_("No read"),
    "wrong_data": N_("Wrong data"),
    "bad_structure": N_("Bad structure"),
    "duplicate": N_("Duplicate"),
    "wrong_unit": N_("Wrong unit"),
    "low_grade": N_("Low grade"),
    "bad_image": N_("Bad image"),
    "not_producing": N_("Not producing"),
    "printer_fault": N_("Printer fault"),
    "print_refused": N_("Print refused"),
    "no_code": N_("No code ready"),
    "no_image": N_("No image"),
    "late_verdict": N_("Late verdict"),
    "not_durable": N_("Record not durable"),
    "vision_overload": N_("Vision overloaded"),
    "rejected_at_gate": N_("Rejected at the gate"),
    "plc_unreachable": N_("PLC unreachable"),
    "missed_trigger": N_("Missed trigger"),
    "unsupported_result": N_("Unsupported result"),
}
STATES: Final = {
    AlarmState.NORMAL: N_("Normal"),
    AlarmState.UNACK_ACTIVE: N_("Active, unacknowledged"),
    AlarmState.ACK_ACTIVE: N_("Active, acknowledged"),
    AlarmState.RTN_UNACK: N_("Returned to normal, unacknowledged"),
    AlarmState.SHELVED: N_("Shelved"),
    AlarmState.SUPPRESSED: N_("Suppressed"),
    AlarmState.OUT_OF_SERVICE: N_("Out of service"),
}
PRIORITIES: Final = {
    Priority.LOW: N_("Low"),
    Priority.MEDIUM: N_("Medium"),
    Priority.HIGH: N_("High"),
    Priority.URGENT: N_("Urgent"),
}
DONE: Final = {
    "clearance": N_("Line clearance signed."),
    "start": N_("Line started."),
    "hold": N_("Line held."),
    "resume": N_("Line resumed."),
    "stop": N_("Line stopped; the batch is completed and reconciled."),
    "ack": N_("Alarm acknowledged."),
    "shelve": N_("Alarm shelved."),
    "unshelve": N_("Alarm unshelved."),
    "pick": N_("Order picked: its batch is on the line. Next: line clearance."),
}
ROLES: Final = {
    "operator": N_("Operator"),
    "supervisor": N_("Supervisor"),
    "qa": N_("QA"),
    "engineer": N_("Engineer"),
    "administrator": N_("Administrator"),
}
MISSING_CREDENTIALS: Final = N_("Enter your user name and password.")
MISSING_BADGE: Final = N_("Scan your badge and enter your PIN.")
MISSING_BADGE_FIX: Final = N_(
    "put the cursor in the badge field, scan the badge, then type your PIN"
)
BADGE_REFUSED: Final = N_("unknown badge or wrong PIN")
BADGE_REFUSED_FIX: Final = N_(
    "scan the badge again and type your PIN; if it is refused again, ask an administrator "
    "whether the badge is registered (the account locks after repeated wrong PINs)"
)
