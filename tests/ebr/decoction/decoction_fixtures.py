"""A batch of decoction pieces with users of every role, and a complete, valid record of each
kind (basic fields only, as the annex requires), for the decoction tests."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine

from ebr.audit.trail import AuditTrail
from ebr.catalog import create_batch
from ebr.decoction.records import DecoctionRecords
from ebr.users import Session, Users
from tests.ebr.trace_fixtures import install, login, site_users

LOT = "YP-2611-01"
MADE = date(2026, 11, 1)
USCC = "91110105MA01TG8P53"
PLACE = {"province": "山东省", "city": "济南市", "county": "历城区", "township": "港沟街道"}

PRODUCTION: dict[str, Any] = {
    "product_name": "黄芪片",
    "origin": PLACE,
    "production_date": MADE.isoformat(),
    "production_address": PLACE,
    "packaging_specification": "1 kg/袋",
}
SELF_GROWN: dict[str, Any] = {
    "source": "自种",
    "herb_name": "黄芪",
    "herb_category": "植物",
    "herb_specification": "统货",
    "planting_batch_number": "ZZ-2025-07",
    "cooperative": {
        "account": "HQ-COOP-001",
        "type": "农民专业合作社",
        "address": {"province": "甘肃省", "city": "定西市", "county": "陇西县"},
        "phone": "0932-6612345",
        "email": "coop@example.cn",
    },
}
PURCHASED: dict[str, Any] = {
    "source": "购进",
    "supplier_name": "陇西药材有限公司",
    "herb_name": "黄芪",
    "herb_category": "plant",
    "herb_specification": "一等",
    "genuine_region": "是",
    "gap_managed": False,
    "traceable": "yes",
    "supplier_address": {**PLACE, "city": "定西市", "county": "陇西县", "township": "首阳镇"},
}
STEP: dict[str, Any] = {
    "kind": "切制",
    "operator": "张三",
    "started_at": "2026-11-01T08:00:00+08:00",
    "finished_at": "2026-11-01T09:30:00+08:00",
    "parameters": {"片厚": {"value": 2.5, "unit": "mm"}},
}
INSPECTION: dict[str, Any] = {
    "conclusion": "合格",
    "standard": "2020版药典一部",
    "report_number": "QC-2611-017",
    "inspector": {"name": "秦质量", "phone": "13800138000"},
    "inspected_on": "2026-11-03",
}
SALE: dict[str, Any] = {
    "sold_on": "2026-11-10",
    "destination": "医疗机构",
    "quantity": "120 kg",
    "customer": {
        "name": "济南市中医医院",
        "registered_address": "山东省济南市历下区",
        "principal": "李院长",
        "business_scope": "医疗服务",
        "email": "pharmacy@hospital.example.cn",
        "uscc": USCC,
        "sales_contact": "王销售",
    },
    "piece_batch_number": LOT,
}
RECALL: dict[str, Any] = {
    "company": "山东示例饮片有限公司",
    "product": "黄芪片",
    "scope": f"批号 {LOT} 全部",
    "reason": "二氧化硫残留超标",
    "recalled_on": "2026-12-01",
    "quantity": {"value": "40", "unit": "kg"},
}


def jpeg(size: int = 64) -> bytes:
    return (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(size))[: max(size, 11)]


def pdf(size: int = 64) -> bytes:
    return (b"%PDF-1.7\n" + bytes(size))[: max(size, 9)]


def docx(*, document: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        if document:
            archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@dataclass
class DecoctionSite:
    engine: Engine
    trail: AuditTrail
    users: Users
    records: DecoctionRecords
    batch: int
    qa: Session
    supervisor: Session
    operator: Session


def decoction_site(engine: Engine) -> DecoctionSite:
    install(engine)
    batch = create_batch(
        engine,
        product_id="amox",
        line_id="line-1",
        lot=LOT,
        expiry=date(2028, 10, 31),
        production_date=MADE,
    )
    trail = AuditTrail(engine)
    users = site_users(trail)
    return DecoctionSite(
        engine,
        trail,
        users,
        DecoctionRecords(engine, trail),
        batch,
        login(users, "qa1"),
        login(users, "sup1"),
        login(users, "op1"),
    )
