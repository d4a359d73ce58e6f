"""A tiny literal city: two districts, two departments, a handful of records per fact table.

Every expected value in the tests is computed by hand from these rows (see the comments), never
by the code under test. Period under test: February 2026; as-of time 2026-03-01 00:00.
"""

from __future__ import annotations

from datetime import datetime as T  # noqa: N812 - short name keeps the literal rows readable
from typing import Any

import sqlalchemy as sa

from data_access.contract import schema

FEB = (T(2026, 2, 1), T(2026, 3, 1))
AS_OF = T(2026, 3, 1)

D1, D2 = "330102", "330106"
S1, S2 = "330102001", "330106001"
C1, C2 = "330102001001", "330106001001"
G1, G2 = "330102001001001", "330106001001001"
A, B = "DEP_A", "DEP_B"

REGIONS = [
    {"code": D1, "name": "上城区", "level": "district", "parent_code": None, "population": 1000},
    {"code": D2, "name": "西湖区", "level": "district", "parent_code": None, "population": 2000},
    {"code": S1, "name": "清波街道", "level": "street", "parent_code": D1, "population": 1000},
    {"code": S2, "name": "北山街道", "level": "street", "parent_code": D2, "population": 2000},
    {"code": C1, "name": "柳翠井巷社区", "level": "community", "parent_code": S1, "population": 1000},
    {"code": C2, "name": "保俶塔社区", "level": "community", "parent_code": S2, "population": 2000},
    {"code": G1, "name": "柳翠井巷社区第1网格", "level": "grid", "parent_code": C1, "population": 1000},
    {"code": G2, "name": "保俶塔社区第1网格", "level": "grid", "parent_code": C2, "population": 2000},
]
DEPARTMENTS = [
    {"code": A, "name": "城市管理局", "name_en": "Urban Management"},
    {"code": B, "name": "市场监督管理局", "name_en": "Market Regulation"},
]
CATEGORIES = [
    {"code": "C01", "domain": "complaints", "level": 1, "name": "城乡建设", "parent_code": None},
    {"code": "C01.01", "domain": "complaints", "level": 2, "name": "市政设施", "parent_code": "C01"},
    {"code": "C01.01.001", "domain": "complaints", "level": 3, "name": "路灯", "parent_code": "C01.01"},
    {"code": "C02", "domain": "complaints", "level": 1, "name": "环境保护", "parent_code": None},
    {"code": "C02.01", "domain": "complaints", "level": 2, "name": "噪声污染", "parent_code": "C02"},
    {"code": "C02.01.001", "domain": "complaints", "level": 3, "name": "施工噪声", "parent_code": "C02.01"},
    {"code": "GE01", "domain": "grid_events", "level": 1, "name": "市容环境", "parent_code": None},
    {"code": "GE01.01", "domain": "grid_events", "level": 2, "name": "暴露垃圾", "parent_code": "GE01"},
]


def _case(case_id: str, dept: str, district: str, street: str, channel: str, submitted: T,
          completed: T | None, status: str, rating: str | None) -> dict[str, Any]:  # fmt: skip
    return {
        "case_id": case_id, "service_item_code": "SI01", "service_item_name": "营业执照办理",
        "department_code": dept, "district_code": district, "street_code": street, "channel": channel,
        "applicant_type": "企业", "submitted_at": submitted, "accepted_at": submitted, "completed_at": completed,
        "promised_limit_hours": 72.0, "legal_limit_hours": 480.0, "status": status, "rating": rating,
    }  # fmt: skip


# Handling hours of the completed February cases: S1 24, S2 96 (late), S3 12.
SERVICE_CASES = [
    _case("S1", A, D1, S1, "网上", T(2026, 2, 1, 9), T(2026, 2, 2, 9), "已办结", "非常满意"),
    _case("S2", A, D1, S1, "窗口", T(2026, 2, 3, 10), T(2026, 2, 7, 10), "已办结", "不满意"),
    _case("S3", B, D2, S2, "掌上", T(2026, 2, 5, 8), T(2026, 2, 5, 20), "已办结", "满意"),
    _case("S4", B, D2, S2, "窗口", T(2026, 2, 10, 9), None, "办理中", None),  # 447 h open: overdue
    _case("S5", A, D2, S2, "自助终端", T(2026, 2, 27, 12), None, "办理中", None),  # 36 h open: not yet
    _case("S6", A, D1, S1, "网上", T(2026, 1, 15, 9), None, "办理中", None),  # January, open: overdue
    _case("S7", B, D1, S1, "网上", T(2026, 2, 12, 9), T(2026, 3, 5), "已办结", None),  # done after as-of
    _case("S8", B, D1, S1, "窗口", T(2026, 2, 14, 9), T(2026, 2, 14, 10), "不予受理", None),  # rejected: not completed
]


def _ticket(ticket_id: str, received: T, dept: str, district: str, street: str, community: str, grid: str,
            category: str, limit: float, first: T | None, resolved_at: T | None, closed: T | None,
            contacted: bool | None, resolved: bool | None, follow_up: str | None,
            repeat_of: str | None = None, description: str = "市民来电反映路灯不亮") -> dict[str, Any]:  # fmt: skip
    return {
        "ticket_id": ticket_id, "received_at": received, "channel": "电话",
        "category_l1_code": category.split(".")[0], "category_l2_code": ".".join(category.split(".")[:2]),
        "category_l3_code": category, "title": "路灯不亮", "description": description,
        "address": "清波街道柳翠井巷1号", "district_code": district, "street_code": street,
        "community_code": community, "grid_code": grid, "lat": 30.25, "lon": 120.16, "department_code": dept,
        "time_limit_hours": limit, "first_response_at": first, "resolved_at": resolved_at, "closed_at": closed,
        "status": "已关闭" if closed else ("已办结" if resolved_at else "办理中"), "contacted": contacted,
        "resolved": resolved, "follow_up": follow_up, "repeat_of": repeat_of,
    }  # fmt: skip


# Personal data in free text (made up) that must never reach a screen or an export unmasked.
PERSONAL_TEXT = {
    "T2": "来电人王建国，电话13812345678，家住清波街道柳翠井巷12幢3单元502室，反映路灯不亮。",
    "T5": "来电人身份证号330106199001011234，手机 139 8765 4321，反映施工噪声。",
}
PERSONAL_NUMBERS = ("13812345678", "13987654321", "330106199001011234", "139 8765 4321", "王建国")

# Hours (first response / resolve / close): T1 2/24/48, T2 4/48/72 (limit 24: late), T3 1/48/96, T4 8/24/48.
COMPLAINTS = [
    _ticket("T1", T(2026, 2, 2, 8), A, D1, S1, C1, G1, "C01.01.001", 168,
            T(2026, 2, 2, 10), T(2026, 2, 3, 8), T(2026, 2, 4, 8), True, True, "满意"),
    _ticket("T2", T(2026, 2, 3, 9), A, D1, S1, C1, G1, "C01.01.001", 24,
            T(2026, 2, 3, 13), T(2026, 2, 5, 9), T(2026, 2, 6, 9), True, False, "基本满意",
            description=PERSONAL_TEXT["T2"]),
    _ticket("T3", T(2026, 2, 4, 10), B, D2, S2, C2, G2, "C02.01.001", 168,
            T(2026, 2, 4, 11), T(2026, 2, 6, 10), T(2026, 2, 8, 10), False, True, "不满意", "T1"),
    _ticket("T4", T(2026, 2, 5, 12), B, D2, S2, C2, G2, "C02.01.001", 168,
            T(2026, 2, 5, 20), T(2026, 2, 6, 12), T(2026, 2, 7, 12), True, True, "未回访", "T3"),
    _ticket("T5", T(2026, 2, 20, 9), A, D2, S2, C2, G2, "C02.01.001", 24,
            None, None, None, None, None, None, description=PERSONAL_TEXT["T5"]),  # open 207 h > 24: overdue
    _ticket("T6", T(2026, 1, 20, 9), A, D1, S1, C1, G1, "C01.01.001", 168,
            None, None, None, None, None, None),  # January, open: overdue
]  # fmt: skip


def _event(event_id: str, grid: str, dept: str, limit: float, times: list[T | None], rework: int = 0,
           side_state: str | None = None) -> dict[str, Any]:  # fmt: skip
    community, street, district = grid[:12], grid[:9], grid[:6]
    stamps = dict(zip([column for _, column in schema.GRID_WORKFLOW], times + [None] * (7 - len(times)), strict=True))
    return {
        "event_id": event_id, "grid_code": grid, "community_code": community, "street_code": street,
        "district_code": district, "source": "网格员巡查", "kind": "事件", "major_category_code": "GE01",
        "minor_category_code": "GE01.01", **stamps, "side_state": side_state, "rework_count": rework,
        "department_code": dept, "time_limit_hours": limit, "lat": 30.25, "lon": 120.16, "reporter_id": "W1",
    }  # fmt: skip


# Stage hours (file, dispatch, handle, feedback, verify, close): E1 1,1,10,1,12,1; E2 0.5,1,48,1,2,1.
GRID_EVENTS = [
    _event("E1", G1, A, 24, [T(2026, 2, 1, 8), T(2026, 2, 1, 9), T(2026, 2, 1, 10), T(2026, 2, 1, 20),
                             T(2026, 2, 1, 21), T(2026, 2, 2, 9), T(2026, 2, 2, 10)]),
    _event("E2", G1, A, 24, [T(2026, 2, 2, 8), T(2026, 2, 2, 8, 30), T(2026, 2, 2, 9, 30), T(2026, 2, 4, 9, 30),
                             T(2026, 2, 4, 10, 30), T(2026, 2, 4, 12, 30), T(2026, 2, 4, 13, 30)], 1, "回退"),
    _event("E3", G2, B, 48, [T(2026, 2, 3, 8), T(2026, 2, 3, 10), T(2026, 2, 3, 11)]),  # overdue at as-of
    _event("E4", G2, B, 48, [T(2026, 2, 10, 8)]),  # collected only
    _event("E5", G2, B, 48, [T(2026, 2, 28, 8), T(2026, 2, 28, 9), T(2026, 2, 28, 10)]),  # 14 h: not yet
]  # fmt: skip

ROWS: dict[str, list[dict[str, Any]]] = {
    "regions": REGIONS,
    "departments": DEPARTMENTS,
    "categories": CATEGORIES,
    "service_cases": SERVICE_CASES,
    "complaints": COMPLAINTS,
    "grid_events": GRID_EVENTS,
}


def load(engine: sa.Engine) -> None:
    """Create the contract tables and insert the fixture rows (tables must be empty or absent)."""
    schema.create_schema(engine)
    with engine.begin() as connection:
        for name, rows in ROWS.items():
            connection.execute(schema.metadata.tables[name].delete())
            connection.execute(schema.metadata.tables[name].insert(), rows)
