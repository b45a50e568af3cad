"""The alarms the line's feed into the batch record raises, defined on the runtime's alarm
manager when the feed starts (the runtime's own list stays as it is)."""

from __future__ import annotations

from typing import Final

from gateway.alarms.definitions import AlarmDefinition, Priority
from gateway.alarms.errors import UnknownAlarmError
from gateway.alarms.manager import AlarmManager

CHECK_DUE: Final = AlarmDefinition(
    "CHECK_DUE",
    Priority.MEDIUM,
    "An in-process check is due. Do the check named in the detail and record its result in the"
    " batch record.",
    "batch record",
    "过程检查已到期。请执行详情中所列的检查，并在批记录中记录结果。",
)
CHECK_MISSED: Final = AlarmDefinition(
    "CHECK_MISSED",
    Priority.HIGH,
    "An in-process check was not recorded in time; QA will review it. Do the check now and"
    " record why it was late.",
    "batch record",
    "过程检查未按时记录，将由QA审核。请立即执行检查并记录延误原因。",
)
PARAMETER_OUT_OF_LIMIT: Final = AlarmDefinition(
    "PARAMETER_OUT_OF_LIMIT",
    Priority.HIGH,
    "A process parameter is out of its limits; a deviation was opened in the batch record."
    " Bring the parameter back within its limits and tell the supervisor.",
    "batch record",
    "工艺参数超出限度，批记录中已开立偏差。请将参数调回限度内并通知主管。",
)
EBR_FEED_FAILURE: Final = AlarmDefinition(
    "EBR_FEED_FAILURE",
    Priority.HIGH,
    "The line cannot write to the batch record; production goes on and the record is written"
    " when this is fixed. Call the automation engineer; the detail says what failed.",
    "batch record",
    "产线无法写入批记录；生产继续，问题解决后补写记录。请联系自动化工程师，详情中说明了失败原因。",
)

EBR_ALARMS: Final = (CHECK_DUE, CHECK_MISSED, PARAMETER_OUT_OF_LIMIT, EBR_FEED_FAILURE)


def define_ebr_alarms(alarms: AlarmManager) -> None:
    """Define the feed's alarms on `alarms` unless it knows them already."""
    for definition in EBR_ALARMS:
        try:
            alarms.definition(definition.id)
        except UnknownAlarmError:
            alarms.define(definition)
