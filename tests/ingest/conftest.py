"""Fixtures of the import/export tests: small hand-written org, indicator and weight files
(Chinese and English headers) and helpers that write them as CSV (any encoding) or xlsx."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import openpyxl
from sqlalchemy import Engine, func, select

from sqm.store.engine import make_sessionmaker, transaction
from sqm.store.models import AuditEntry

#: A small org tree with children BEFORE their parents, thousands separators, mixed
#: spellings (门店/county/是/否/2019/5/1) and padded cells.
ORG_ZH: list[list[str]] = [
    [
        "编码",
        "名称",
        "英文名称",
        "类型",
        "上级编码",
        "门店等级",
        "省内",
        "区域类型",
        "客流量",
        "客户数",
        "纬度",
        "经度",
        "开业日期",
        "状态",
        "品牌",
    ],
    [
        "S-TH-01",
        "天河旗舰店",
        "Tianhe Flagship",
        "门店",
        "GZ-TH",
        "旗舰核心店",
        "是",
        "城区",
        "12,000",
        "36000",
        "23.1291",
        "113.3245",
        "2019/5/1",
        "营业",
        "",
    ],
    ["GZ-TH", "天河区", "Tianhe", "区县", "GZ", "", "", "城区", "", "", "", "", "", "", ""],
    ["GZ", "广州市", "Guangzhou", "市", "GD", "", "", "", "", "", "23.13", "113.26", "", "", ""],
    ["GD", "广东省", "Guangdong", "省", "HQ", "", "", "", "", "", "", "", "", "", ""],
    ["HQ", "总公司", "Head office", "公司", "", "", "", "", "", "", "", "", "", "", ""],
    [
        "C-TH-01",
        "移动天河店",
        "CM Tianhe",
        "竞品门店",
        "GZ-TH",
        "",
        "是",
        "城区",
        "5000",
        "",
        "23.13",
        "113.33",
        "",
        "",
        "China Mobile",
    ],
    [
        "S-TH-02",
        " 天河合作店 ",
        "",
        "门店",
        "GZ-TH",
        "合作店",
        "否",
        "county",
        "800",
        "2400",
        " 23.10 ",
        "113.30",
        "2021-03-15",
        "暂停",
        "",
    ],
]

ORG_EN_HEADER = [
    "code",
    "name_zh",
    "name_en",
    "kind",
    "parent_code",
    "tier",
    "in_province",
    "area_type",
    "traffic",
    "customers",
    "lat",
    "lon",
    "opened_on",
    "status",
    "brand",
]

#: A small indicator system, dimension → indicator → item.
IND_ZH: list[list[str]] = [
    [
        "指标体系编码",
        "指标体系名称",
        "指标体系英文名称",
        "编码",
        "上级编码",
        "层级",
        "名称",
        "英文名称",
        "来源",
        "来源引用",
        "方向",
        "最小值",
        "最大值",
        "单位",
        "目标值",
        "预警值",
        "一票否决",
    ],
    [
        "TST",
        "测试体系",
        "Test system",
        "D1",
        "",
        "维度",
        "顾客感知",
        "Customer",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ],
    [
        "TST",
        "",
        "",
        "D1.I1",
        "D1",
        "指标",
        "满意度",
        "Satisfaction",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ],
    [
        "TST",
        "",
        "",
        "D1.I1.a",
        "D1.I1",
        "考核项",
        "总体满意度",
        "Overall",
        "顾客调查",
        "intercept.overall",
        "越高越好",
        "0",
        "100",
        "分",
        "90",
        "80",
        "否",
    ],
    [
        "TST",
        "",
        "",
        "D1.I1.b",
        "D1.I1",
        "考核项",
        "净推荐值",
        "NPS",
        "survey_item",
        "intercept.nps",
        "higher",
        "-100",
        "100",
        "",
        "30",
        "0",
        "no",
    ],
    ["TST", "", "", "D2", "", "dimension", "网络", "Network", "", "", "", "", "", "", "", "", ""],
    [
        "TST",
        "",
        "",
        "D2.I1",
        "D2",
        "indicator",
        "语音",
        "Voice",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ],
    [
        "TST",
        "",
        "",
        "D2.I1.drop",
        "D2.I1",
        "item",
        "掉话率",
        "Drop rate",
        "网络指标",
        "voice_drop_rate",
        "越低越好",
        "0",
        "100",
        "%",
        "0.5",
        "1.0",
        "是",
    ],
]

#: Weights over TST: local weights per sibling group.
W_ZH: list[list[str]] = [
    [
        "权重方案编码",
        "权重方案名称",
        "权重方案英文名称",
        "指标体系编码",
        "门店等级",
        "省内",
        "阶段",
        "生效期间",
        "失效期间",
        "方法",
        "指标编码",
        "权重",
    ],
    [
        "P1",
        "旗舰店权重",
        "Flagship",
        "TST",
        "旗舰核心店",
        "是",
        "初期",
        "2026-01",
        "2026-06",
        "人工录入",
        "D1",
        "0.6",
    ],
    ["P1", "", "", "", "", "", "", "", "", "", "D2", "40%"],
    ["P1", "", "", "", "", "", "", "", "", "", "D1.I1", "1"],
    ["P1", "", "", "", "", "", "", "", "", "", "D1.I1.a", "0.7"],
    ["P1", "", "", "", "", "", "", "", "", "", "D1.I1.b", "0.3"],
    ["P1", "", "", "", "", "", "", "", "", "", "D2.I1", "1"],
    ["P1", "", "", "", "", "", "", "", "", "", "D2.I1.drop", "1"],
    ["P2", "通用权重", "", "TST", "", "", "", "2026Q1", "", "", "D1", "0.5"],
    ["P2", "", "", "", "", "", "", "", "", "", "D2", "0.5"],
]


def csv_bytes(rows: Sequence[Sequence[object]], encoding: str = "utf-8") -> bytes:
    """Rows as CSV in ``encoding`` ("utf-8-sig" for a BOM, "gbk" as Chinese Excel saves)."""
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows: Sequence[Sequence[object]]) -> bytes:
    """Rows as an xlsx sheet; every cell as given (strings stay text, as Excel's
    "numbers stored as text")."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for r in rows:
        ws.append([None if v == "" else v for v in r])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def audit_count(engine: Engine) -> int:
    with make_sessionmaker(engine)() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def run(engine: Engine, importer, data: bytes, name: str, **kw):  # type: ignore[no-untyped-def]
    """Import in one transaction (committed only when the file is good)."""
    with transaction(make_sessionmaker(engine)) as s:
        report = importer(s, data, name, **kw)
        if not report.ok:
            s.rollback()
    return report
