"""The fixed text of the printed batch report, in Simplified Chinese and English.

Only the report's own words are translated: headings, column names, marks. Data is printed as
recorded; a stored code (a step, a source, a meaning, an exception kind) is printed as stored,
and in Chinese its translation is put in front of it, so the code an auditor searches for is
always on the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ebr.report.errors import ReportError

LANGUAGES: Final = ("zh-CN", "en")

_TEXT: Final[Mapping[str, tuple[str, str]]] = {
    # key: (zh-CN, en)
    "title": ("批包装记录", "Batch packaging record"),
    "record_id": ("记录编号", "Record ID"),
    "batch": ("批次", "Batch"),
    "page": ("第 {page}/{pages} 页", "page {page}/{pages}"),
    "record_hash": ("记录哈希 (SHA-256)", "Record hash (SHA-256)"),
    "header": ("批记录表头", "Batch header"),
    "site": ("生产场地", "Site"),
    "line": ("包装线", "Line"),
    "product": ("产品", "Product"),
    "gtin": ("商品条码 GTIN", "GTIN"),
    "lot": ("批号", "Lot"),
    "expiry": ("有效期至", "Expiry"),
    "production_date": ("生产日期", "Production date"),
    "planned_quantity": ("计划数量", "Planned quantity"),
    "order_number": ("包装订单号", "Order number"),
    "control_recipe": ("控制配方", "Control recipe"),
    "recipe_version": ("配方版本", "Recipe version"),
    "recipe_hash": ("配方哈希 (SHA-256)", "Recipe hash (SHA-256)"),
    "no_order": ("无包装订单记录", "no packaging order recorded"),
    "batch_status": ("批状态", "Batch status"),
    "created_at": ("创建时间 (UTC)", "Created at (UTC)"),
    "steps": ("执行步骤", "Steps"),
    "step": ("步骤", "Step"),
    "done_by": ("完成人", "Done by"),
    "done_at": ("完成时间 (UTC)", "Done at (UTC)"),
    "values": ("记录数据", "Recorded values"),
    "section": ("记录段", "Section"),
    "id": ("编号", "#"),
    "name": ("名称", "Name"),
    "value": ("数值", "Value"),
    "unit": ("单位", "Unit"),
    "limits": ("限度", "Limits"),
    "in_limits": ("限度内", "In limits"),
    "source": ("来源", "Source"),
    "by": ("记录人", "By"),
    "at": ("时间 (UTC)", "At (UTC)"),
    "reason": ("原因", "Reason"),
    "evidence": ("证据", "Evidence"),
    "changed": ("† 首次录入后修改", "† changed after first entry"),
    "original": ("修改前 #{id}: {value}", "before #{id}: {value}"),
    "superseded": ("已被 #{id} 更正", "superseded by #{id}"),
    "changed_note": (
        "† 标记的数值在首次录入后被修改; 修改前的数值保留并一同列出。",
        "† marks a value changed after first entry; the value it replaced is kept and listed.",
    ),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "exceptions": ("异常", "Exceptions"),
    "kind": ("类型", "Kind"),
    "severity": ("严重程度", "Severity"),
    "subject": ("内容", "Subject"),
    "reference": ("关联", "Reference"),
    "raised_at": ("发生时间 (UTC)", "Raised at (UTC)"),
    "acknowledged_by": ("确认人", "Acknowledged by"),
    "acknowledged_at": ("确认时间 (UTC)", "Acknowledged at (UTC)"),
    "comment": ("意见", "Comment"),
    "not_acknowledged": ("未确认", "not acknowledged"),
    "deviations": ("偏差", "Deviations"),
    "deviation_title": ("标题", "Title"),
    "description": ("描述", "Description"),
    "qms_reference": ("QMS 编号", "QMS reference"),
    "entry": ("关联数据", "Entry"),
    "status": ("状态", "Status"),
    "opened": ("开启 (UTC)", "Opened (UTC)"),
    "closed": ("关闭 (UTC)", "Closed (UTC)"),
    "close_reason": ("关闭原因", "Closing reason"),
    "checks": ("过程检查", "In-process checks"),
    "due_at": ("应检时间 (UTC)", "Due at (UTC)"),
    "result": ("结果", "Result"),
    "not_done": ("未执行", "not done"),
    "signatures": ("电子签名", "Electronic signatures"),
    "printed_name": ("签名人", "Printed name"),
    "username": ("用户名", "User ID"),
    "meaning": ("签名含义", "Meaning"),
    "action": ("操作", "Action"),
    "signed_record": ("签署对象", "Signed record"),
    "signed_at": ("签名时间 (UTC)", "Signed at (UTC)"),
    "persons": ("记录涉及人员", "Persons named in the record"),
    "full_name": ("姓名", "Name"),
    "counts": ("数量统计 (生产日志)", "Counts (production journal)"),
    "count": ("数量", "Count"),
    "journal_verified": ("生产日志校验通过", "Journal verified"),
    "reconciliation": ("物料平衡", "Reconciliation"),
    "balanced": ("平衡", "Balanced"),
    "not_reconciled": ("未做物料平衡", "not reconciled"),
    "release": ("放行", "Release"),
    "decided_by": ("决定人", "Decided by"),
    "decided_at": ("决定时间 (UTC)", "Decided at (UTC)"),
    "none": ("无记录", "none recorded"),
}

_STEPS: Final = {
    "header": "表头",
    "clearance": "清场",
    "materials_issued": "物料发放",
    "setup": "设备设置",
    "challenge": "挑战测试",
    "production": "生产",
    "counts": "计数",
    "reconciliation": "物料平衡",
    "materials_reconciled": "物料结算",
    "review": "审核",
    "release": "放行",
}

_TERMS: Final[Mapping[str, Mapping[str, str]]] = {
    "step": _STEPS,
    "section": {**_STEPS, "events": "事件", "parameters": "工艺参数", "checks": "过程检查"},
    "source": {"line": "产线", "tag": "数据点", "manual": "手工录入"},
    "exception": {
        "out_of_limit": "超限",
        "deviation": "偏差",
        "manual_override": "人工干预",
        "missed_check": "漏检",
        "reconciliation_breach": "物料平衡超限",
        "yield_breach": "收率超限",
        "late_verdicts": "判定超时",
        "data_changed": "数据修改",
    },
    "severity": {"minor": "次要", "major": "主要", "critical": "严重"},
    "deviation_status": {"open": "未关闭", "closed": "已关闭"},
    "meaning": {
        "authored": "编写",
        "performed": "执行",
        "reviewed": "审核",
        "verified": "复核",
        "approved": "批准",
        "released": "放行",
    },
    "phase": {
        "downloaded": "已下达",
        "clearance": "清场",
        "challenge": "挑战测试",
        "running": "生产中",
        "held": "暂停",
        "completing": "收尾中",
        "reconciled": "已平衡",
        "released": "已放行",
        "rejected": "已拒绝放行",
        "not_released": "未放行",
    },
    "count": {
        "allocated": "已分配",
        "buffered": "缓存中",
        "issued": "已发码",
        "accepted": "合格",
        "rejected": "剔除",
        "reject_confirmed": "剔除已确认",
        "reject_missed": "剔除未确认",
        "voided": "作废",
        "sampled": "取样",
        "destroyed": "销毁",
        "in_flight": "待判定",
    },
}
"""Chinese names of stored codes, by what the code names."""


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ReportError(
            f"no batch report in language {lang!r}",
            hint=f"choose one of {', '.join(LANGUAGES)}",
        )
    return lang


class Labels:
    """The report's words in one language."""

    def __init__(self, lang: str) -> None:
        self.lang = check_language(lang)
        self._column = LANGUAGES.index(self.lang)

    def __call__(self, key: str, **values: object) -> str:
        text = _TEXT[key][self._column]
        return text.format(**values) if values else text

    def term(self, domain: str, code: str) -> str:
        """A stored code as printed: as stored, with its Chinese name in front in zh-CN.
        `domain` says what the code names (`step`, `source`, `meaning`, … in `_TERMS`)."""
        translated = _TERMS[domain].get(code) if self.lang == "zh-CN" else None
        return f"{translated} ({code})" if translated else code

    def yes_no(self, flag: bool | None) -> str:
        if flag is None:
            return "-"
        return self("yes") if flag else self("no")
