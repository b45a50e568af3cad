"""The line runtime's alarms: the rationalised list, with priorities and operator messages.

A message says what happened and what to do; where (the device, the code, the count) comes in
the alarm's detail. Alarms that stop the line or lose records cannot be shelved.
"""

from __future__ import annotations

from typing import Final

from gateway.alarms.definitions import AlarmDefinition, Priority

DEVICE_FAULT: Final = AlarmDefinition(
    "DEVICE_FAULT",
    Priority.HIGH,
    "A device reports a fault or cannot be reached. Check the device and its connection;"
    " production cannot continue safely without it.",
    "device",
    "设备报告故障或无法连接。请检查该设备及其连接；设备恢复前无法安全继续生产。",
)
RECONCILIATION_DRIFT: Final = AlarmDefinition(
    "RECONCILIATION_DRIFT",
    Priority.HIGH,
    "Code counts do not add up: codes are missing or counted twice. Hold the line and check"
    " the codes named in the detail before continuing.",
    "reconciliation",
    "码数量对账不平：有码缺失或被重复计数。请暂停产线，核查详情中列出的码后再继续。",
)
REJECT_MISSED: Final = AlarmDefinition(
    "REJECT_MISSED",
    Priority.URGENT,
    "A unit to be rejected was not confirmed at the reject gate: the line has been stopped."
    " Find and remove the unit, check the reject mechanism, then restart.",
    "reject",
    "剔除站未确认剔除不合格品：产线已停止。请找出并移除该产品，检查剔除装置后再重新启动。",
    shelvable=False,
)
SERIAL_POOL_LOW: Final = AlarmDefinition(
    "SERIAL_POOL_LOW",
    Priority.MEDIUM,
    "Few serial numbers are left for this batch. Request or import more codes before the pool"
    " runs out.",
    "serials",
    "本批次剩余可用序列号不足。请在号码池耗尽前申请或导入更多码。",
)
LATE_VERDICT: Final = AlarmDefinition(
    "LATE_VERDICT",
    Priority.MEDIUM,
    "Verification results arrive too late; the units concerned are rejected to be safe. Check"
    " the camera and the gateway's load.",
    "verification",
    "验证结果返回过晚，相关产品已按安全原则剔除。请检查相机和网关负载。",
)
LOOP_LAG: Final = AlarmDefinition(
    "LOOP_LAG",
    Priority.MEDIUM,
    "The gateway is responding slowly; verdicts may be late and units rejected. Check the load"
    " of the gateway computer.",
    "system",
    "网关响应缓慢，验证结果可能延迟并导致产品被剔除。请检查网关计算机的负载。",
)
UNKNOWN_UNIT: Final = AlarmDefinition(
    "UNKNOWN_UNIT",
    Priority.MEDIUM,
    "The camera saw a unit the gateway did not expect; it is rejected. Check for units put back"
    " on the line by hand or a missed trigger.",
    "verification",
    "相机检测到网关未预期的产品，该产品已被剔除。请检查是否有人工放回产线的产品或漏触发。",
)
DUPLICATE_TRIGGER: Final = AlarmDefinition(
    "DUPLICATE_TRIGGER",
    Priority.LOW,
    "The product sensor triggered twice for one unit. Check the sensor's position and clean it.",
    "line",
    "产品检测传感器对同一产品触发了两次。请检查传感器的位置并清洁传感器。",
)
OUT_OF_ORDER_ACK: Final = AlarmDefinition(
    "OUT_OF_ORDER_ACK",
    Priority.MEDIUM,
    "A device confirmed units in a different order than they were sent. Check the printer or"
    " reject gate named in the detail.",
    "device",
    "设备确认产品的顺序与发送顺序不一致。请检查详情中所列的打印机或剔除装置。",
)
FOREIGN_CODE: Final = AlarmDefinition(
    "FOREIGN_CODE",
    Priority.HIGH,
    "A code from another batch was read on this line. Remove the unit and check the line for"
    " material left from another batch (line clearance).",
    "verification",
    "在本产线读取到其他批次的码。请移除该产品，并检查产线上是否残留其他批次的物料（清场）。",
)
CASE_CONTENTS_MISMATCH: Final = AlarmDefinition(
    "CASE_CONTENTS_MISMATCH",
    Priority.HIGH,
    "The case camera did not read exactly the units this case should hold; the case is not"
    " recorded. Take the case to the rework station and aggregate its units by hand.",
    "aggregation",
    "装箱相机读取的箱内产品与应装产品不一致，该箱未记录。请将该箱送至返工工位，手工完成关联。",
)
CHALLENGE_REQUIRED: Final = AlarmDefinition(
    "CHALLENGE_REQUIRED",
    Priority.MEDIUM,
    "A new challenge test is required before production can continue (the reason is in the"
    " detail). Run the challenge test.",
    "line",
    "继续生产前需重新进行挑战测试（原因见详情）。请执行挑战测试。",
)
JOURNAL_FAILURE: Final = AlarmDefinition(
    "JOURNAL_FAILURE",
    Priority.URGENT,
    "Production records cannot be written; every unit is rejected until this is fixed. Call"
    " the automation engineer to check the disk and the database.",
    "system",
    "生产记录无法写入，问题解决前所有产品都将被剔除。请联系自动化工程师检查磁盘和数据库。",
    shelvable=False,
)
AUDIT_TRAIL_BROKEN: Final = AlarmDefinition(
    "AUDIT_TRAIL_BROKEN",
    Priority.HIGH,
    "The audit trail did not verify when the gateway started again: an entry was changed or"
    " removed outside the gateway. Production may continue; QA investigates before any release"
    " (`tracegate audit verify` names the first broken entry).",
    "system",
    "网关重启时审计追踪校验未通过：有条目在网关之外被修改或删除。生产可继续；任何放行前须由 QA"
    " 调查（`tracegate audit verify` 可指出第一个损坏的条目）。",
)
OUTBOX_HIGH_WATER: Final = AlarmDefinition(
    "OUTBOX_HIGH_WATER",
    Priority.MEDIUM,
    "Records waiting to be sent upward are piling up: an uplink has been down for long. Check"
    " the uplinks; production stops when the outbox is full.",
    "uplink",
    "待上传的记录正在积压：某个上传通道已长时间中断。请检查上传通道；发件箱满时将停止生产。",
)
OUTBOX_FULL: Final = AlarmDefinition(
    "OUTBOX_FULL",
    Priority.HIGH,
    "The outbox is full: new production cannot be recorded and every unit is rejected. Hold the"
    " line and restore the uplinks.",
    "uplink",
    "发件箱已满：新的生产无法记录，所有产品都将被剔除。请暂停产线并恢复上传通道。",
)
UPLINK_DOWN: Final = AlarmDefinition(
    "UPLINK_DOWN",
    Priority.LOW,
    "An uplink cannot reach its receiver; records are kept and sent when it is back. Check the"
    " network and the receiver named in the detail.",
    "uplink",
    "上传通道无法连接接收方；记录已保留，恢复后自动发送。请检查网络及详情中所列的接收方。",
)
UPLINK_QUARANTINE: Final = AlarmDefinition(
    "UPLINK_QUARANTINE",
    Priority.HIGH,
    "A receiver refused a record; it is kept aside and the rest of its batch waits. Fix the"
    " cause named in the detail, then release the record.",
    "uplink",
    "接收方拒收了一条记录；该记录已隔离保存，其批次的后续记录等待发送。请排除详情中所列原因后放行该记录。",
)

RUNTIME_ALARMS: Final[tuple[AlarmDefinition, ...]] = (
    DEVICE_FAULT,
    RECONCILIATION_DRIFT,
    REJECT_MISSED,
    SERIAL_POOL_LOW,
    LATE_VERDICT,
    LOOP_LAG,
    UNKNOWN_UNIT,
    DUPLICATE_TRIGGER,
    OUT_OF_ORDER_ACK,
    FOREIGN_CODE,
    CASE_CONTENTS_MISMATCH,
    CHALLENGE_REQUIRED,
    JOURNAL_FAILURE,
    AUDIT_TRAIL_BROKEN,
    OUTBOX_HIGH_WATER,
    OUTBOX_FULL,
    UPLINK_DOWN,
    UPLINK_QUARANTINE,
)
