"""Generate a deterministic, realistic demo city into any database that speaks the data contract.

``python -m data_access.demo [--scale S] [--url URL] [--seed N] [--end YYYY-MM-DD] [--force] [--with-accounts]``

Two years (730 days ending at ``end``) of government service cases, 12345 complaints and grid
events for the regions in the city config's GeoJSON layers, with a few injected anomalies (listed
in ``demo_anomalies``) that the cockpit's alerts and drill-downs should find. Everything is drawn
from ``numpy.random.default_rng`` streams keyed by the seed, so the same seed, scale and end date
always give the same rows. Facts are generated and written one calendar month at a time, so memory
stays bounded at any scale; DuckDB is loaded from Parquet staging files, other engines with batched inserts.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import datetime as dt
import json
import math
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from statistics import NormalDist
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import polars as pl
import sqlalchemy as sa

from data_access.config.city import CityConfig, load_city
from data_access.contract import schema
from data_access.demo.geo import URBAN_CORE
from data_access.runtime import engine as db
from data_access.runtime.paths import REPO_ROOT
from data_access.semantic.rollups.refresh import invalidate_rollups, refresh_rollups

Progress = Callable[[float, str], None]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

TAXONOMY_FILE = REPO_ROOT / "assets" / "taxonomy" / "complaint_categories_3level.csv"

DAYS = 730
DAY = 86400.0
HOUR = 3600.0
EPOCH = dt.date(1970, 1, 1)
BATCH_ROWS = 5000
POINTS_PER_GRID = 384
CHUNK_ROWS = 150_000  # expected rows per fact table per chunk: bounds memory at any scale
ROADS_PER_STREET = 5

# Expected rows per fact table at scale 1.0 over the two years (before repeats and anomalies).
SERVICE_CASES_PER_2Y = 400_000
COMPLAINTS_PER_2Y = 318_000
GRID_EVENTS_PER_2Y = 300_000

# --------------------------------------------------------------------------------------------
# Reference data: departments, service items, populations, category rules.
# --------------------------------------------------------------------------------------------

DEPARTMENTS: tuple[tuple[str, str, str], ...] = (
    ("SCJG", "市场监管局", "Market Regulation Administration"),
    ("ZJJ", "住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
    ("CGJ", "城市管理局", "Urban Management Bureau"),
    ("JTJ", "交通运输局", "Transport Bureau"),
    ("STHJ", "生态环境局", "Ecology and Environment Bureau"),
    ("GAJ", "公安局", "Public Security Bureau"),
    ("RSJ", "人力资源和社会保障局", "Human Resources and Social Security Bureau"),
    ("WJW", "卫生健康委员会", "Health Commission"),
    ("JYJ", "教育局", "Education Bureau"),
    ("MZJ", "民政局", "Civil Affairs Bureau"),
    ("ZGJ", "自然资源和规划局", "Natural Resources and Planning Bureau"),
    ("SWJT", "水务集团", "Water Supply Group"),
    ("GDGS", "供电公司", "Power Supply Company"),
    ("RQJT", "燃气集团", "Gas Group"),
    ("NYJ", "农业农村局", "Agriculture and Rural Affairs Bureau"),
    ("YJJ", "应急管理局", "Emergency Management Bureau"),
    ("SJJ", "数据资源局", "Data Resources Bureau"),
    ("BGT", "市政府办公厅", "General Office of the Municipal Government"),
)

# (department, service item, promised hours, legal hours, relative volume, share of enterprise applicants)
SERVICE_ITEMS: tuple[tuple[str, str, float, float, float, float], ...] = (
    ("SCJG", "企业设立登记", 24, 120, 9.0, 0.95),
    ("SCJG", "个体工商户登记", 24, 120, 6.0, 0.2),
    ("SCJG", "食品经营许可", 72, 480, 4.0, 0.7),
    ("ZJJ", "建筑工程施工许可", 72, 360, 1.5, 1.0),
    ("ZJJ", "商品房预售许可", 120, 480, 0.5, 1.0),
    ("ZJJ", "住房公积金提取", 24, 120, 8.0, 0.0),
    ("CGJ", "户外广告设置许可", 120, 480, 1.0, 0.9),
    ("CGJ", "城市道路占用挖掘许可", 72, 480, 1.0, 0.8),
    ("JTJ", "道路运输经营许可", 120, 480, 1.0, 0.9),
    ("JTJ", "网约车驾驶员证核发", 72, 480, 2.0, 0.0),
    ("STHJ", "建设项目环评审批", 240, 1440, 0.6, 1.0),
    ("STHJ", "排污许可", 240, 720, 0.5, 1.0),
    ("GAJ", "户籍迁入", 72, 480, 5.0, 0.0),
    ("GAJ", "居住证办理", 168, 360, 6.0, 0.0),
    ("GAJ", "出入境证件办理", 168, 480, 4.0, 0.0),
    ("RSJ", "社会保险参保登记", 24, 120, 8.0, 0.6),
    ("RSJ", "失业保险金申领", 72, 480, 3.0, 0.0),
    ("RSJ", "职业技能等级认定", 120, 480, 2.0, 0.0),
    ("WJW", "出生医学证明办理", 72, 240, 2.0, 0.0),
    ("WJW", "医师执业注册", 120, 480, 0.8, 0.0),
    ("JYJ", "义务教育入学登记", 120, 480, 3.0, 0.0),
    ("JYJ", "民办学校办学许可", 240, 1440, 0.2, 1.0),
    ("MZJ", "婚姻登记", 8, 24, 2.0, 0.0),
    ("MZJ", "最低生活保障申请", 168, 720, 1.0, 0.0),
    ("ZGJ", "不动产登记", 72, 720, 10.0, 0.2),
    ("ZGJ", "建设工程规划许可", 168, 480, 0.7, 1.0),
    ("SWJT", "用水报装", 72, 240, 1.5, 0.5),
    ("GDGS", "低压用电报装", 48, 240, 2.0, 0.5),
    ("RQJT", "燃气开户", 48, 240, 1.5, 0.2),
    ("NYJ", "农药经营许可", 120, 480, 0.3, 0.9),
    ("YJJ", "危险化学品经营许可", 240, 720, 0.3, 1.0),
    ("SJJ", "公共数据开放申请", 120, 480, 0.3, 0.7),
)

# Resident population by district (2020 census, rounded); unknown districts get a random size.
DISTRICT_POPULATION: dict[str, int] = {
    "330102": 1_320_000,  # 上城区
    "330105": 1_120_000,  # 拱墅区
    "330106": 1_150_000,  # 西湖区
    "330108": 500_000,  # 滨江区
    "330109": 2_010_000,  # 萧山区
    "330110": 1_230_000,  # 余杭区
    "330111": 830_000,  # 富阳区
    "330112": 640_000,  # 临安区
    "330113": 1_100_000,  # 临平区
    "330114": 770_000,  # 钱塘区
    "330122": 450_000,  # 桐庐县
    "330127": 330_000,  # 淳安县
    "330182": 440_000,  # 建德市
}

# First day of the Spring Festival holiday: every volume dips that week.
SPRING_FESTIVAL = tuple(
    dt.date.fromisoformat(d)
    for d in ("2020-01-25", "2021-02-12", "2022-02-01", "2023-01-22", "2024-02-10", "2025-01-29", "2026-02-17",
              "2027-02-06", "2028-01-26", "2029-02-13", "2030-02-03", "2031-01-23", "2032-02-11"))  # fmt: skip

COMPLAINT_L1_WEIGHT: dict[str, float] = {
    "城乡建设": 30,
    "劳动和社会保障": 10,
    "交通运输": 9,
    "环境保护": 9,
    "商贸旅游": 8,
    "教育文体": 7,
    "政法": 7,
    "卫生计生": 6,
    "民政": 4,
    "经济管理": 3,
    "国土资源": 2,
    "农村农业": 2,
    "科技与信息产业": 1.5,
    "党务政务": 1,
    "纪检监察": 0.5,
}
# Everyday issues that dominate a real hotline: boosted within their second level.
COMMON_L3 = frozenset(
    ("噪音污染", "物业服务", "环境卫生", "自来水供应", "电力供应", "燃气供应", "违章建筑", "交通安全管理", "食品安全",
     "工资发放", "商品质量", "网约车问题", "公共汽车", "小区管理", "城管执法", "大气污染", "房屋租赁", "治安案件",
     "劳动合同纠纷", "教学管理", "乱收费"))  # fmt: skip
UTILITY_L3 = frozenset({"自来水供应", "电力供应", "燃气供应", "冬季采暖"})
URGENT_L3 = frozenset({"事故处理", "安全隐患", "消防安全", "施工安全", "突发公共卫生事件处理", "危险化学品污染"})
COMPLEX_L1 = frozenset({"国土资源", "纪检监察", "党务政务", "经济管理"})
COMPLEX_L2 = frozenset({"国有土地上房屋征收与补偿", "集体土地上房屋拆迁与补偿", "劳动关系", "建筑市场", "诉讼"})

L3_DEPARTMENT = {
    "自来水供应": "SWJT",
    "电力供应": "GDGS",
    "燃气供应": "RQJT",
    "冬季采暖": "RQJT",
    "公共汽车": "JTJ",
    "地铁城铁": "JTJ",
    "违章建筑": "CGJ",
    "住房公积金": "ZJJ",
    "食品安全": "SCJG",
    "消防安全": "YJJ",
    "交通事故": "GAJ",
}
L2_DEPARTMENT = {
    "安全生产": "YJJ",
    "城市建设和市政管理": "CGJ",
    "城乡规划": "ZGJ",
    "住房保障与房地产": "ZJJ",
    "户籍证件": "GAJ",
    "交通管理": "GAJ",
    "社会治安": "GAJ",
    "刑案侦破": "GAJ",
    "警务督察": "GAJ",
    "市场监管": "SCJG",
    "食品药品监管": "SCJG",
    "质监检验检疫": "SCJG",
    "水利水电": "SWJT",
    "林业管理": "ZGJ",
    "土地承包经营": "NYJ",
    "仲裁与调解": "RSJ",
    "法律服务": "BGT",
    "电信": "SJJ",
    "信息化建设": "SJJ",
    "旅游管理": "BGT",
}
L1_DEPARTMENT = {
    "城乡建设": "ZJJ",
    "环境保护": "STHJ",
    "交通运输": "JTJ",
    "劳动和社会保障": "RSJ",
    "教育文体": "JYJ",
    "卫生计生": "WJW",
    "商贸旅游": "SCJG",
    "国土资源": "ZGJ",
    "政法": "GAJ",
    "民政": "MZJ",
    "农村农业": "NYJ",
    "经济管理": "SCJG",
    "科技与信息产业": "SJJ",
    "党务政务": "BGT",
    "纪检监察": "BGT",
}

# Grid event categories (CJ/T 214 style): (kind, major, weight, handling limit in hours, department, minors).
GRID_CATEGORIES: tuple[tuple[str, str, float, float, str, tuple[str, ...]], ...] = (
    ("部件", "公用设施", 4.0, 48, "CGJ", ("上水井盖", "污水井盖", "雨水箅子", "路灯", "消防栓", "电力井盖")),
    ("部件", "道路交通", 3.0, 72, "JTJ", ("交通信号灯", "交通标志牌", "道路护栏", "公交站亭", "人行道板", "停车泊位")),
    ("部件", "市容环境", 3.0, 72, "CGJ", ("垃圾箱", "公共厕所", "广告牌匾", "环卫设施")),
    ("部件", "园林绿化", 2.5, 120, "CGJ", ("行道树", "绿地", "花坛", "护树设施")),
    ("部件", "房屋土地", 1.0, 240, "ZJJ", ("危旧房屋", "违法建设", "空置地块")),
    ("部件", "其他", 1.0, 120, "CGJ", ("健身设施", "监控电子眼", "其他设施")),
    ("事件", "市容环境", 9.0, 24, "CGJ", ("暴露垃圾", "积存垃圾渣土", "道路不洁", "水域不洁", "绿地脏乱", "焚烧垃圾")),
    ("事件", "宣传广告", 4.0, 48, "CGJ", ("非法小广告", "违规张贴悬挂", "占道广告牌", "广告招牌破损")),
    ("事件", "施工管理", 3.0, 24, "ZJJ", ("施工扰民", "渣土撒漏", "施工占道", "工地扬尘", "无证施工")),
    (
        "事件",
        "街面秩序",
        10.0,
        8,
        "CGJ",
        ("占道经营", "无照游商", "店外经营", "机动车乱停放", "非机动车乱停放", "露天烧烤"),
    ),
    ("事件", "突发事件", 0.8, 2, "YJJ", ("路面塌陷", "自来水管破裂", "燃气泄漏", "道路积水", "火灾隐患")),
    ("事件", "其他", 1.5, 72, "CGJ", ("违规饲养家禽", "噪声扰民", "其他事件")),
)
GRID_MINOR_DEPARTMENT = {
    "上水井盖": "SWJT",
    "污水井盖": "SWJT",
    "消防栓": "SWJT",
    "电力井盖": "GDGS",
    "交通信号灯": "GAJ",
    "监控电子眼": "GAJ",
    "违法建设": "CGJ",
    "空置地块": "ZGJ",
    "水域不洁": "STHJ",
    "焚烧垃圾": "STHJ",
    "渣土撒漏": "CGJ",
    "工地扬尘": "STHJ",
    "机动车乱停放": "GAJ",
    "路面塌陷": "CGJ",
    "自来水管破裂": "SWJT",
    "燃气泄漏": "RQJT",
    "道路积水": "CGJ",
    "噪声扰民": "STHJ",
}

# Hour-of-day shapes (relative weights, 0..23 h).
COMPLAINT_HOURS = (0.6, 0.4, 0.3, 0.25, 0.25, 0.4, 0.9, 2.0, 3.6, 5.2, 5.6, 5.0, 3.8, 3.6, 4.4, 4.6, 4.4, 4.2, 4.3, 4.9,
                   5.1, 4.3, 2.8, 1.4)  # fmt: skip
OFFICE_HOURS = (0, 0, 0, 0, 0, 0, 0, 0.1, 1.5, 9, 10, 9, 3, 5, 9, 9.5, 8, 2, 0.2, 0, 0, 0, 0, 0)
ONLINE_HOURS = (0.3, 0.15, 0.1, 0.1, 0.1, 0.2, 0.6, 1.5, 4, 6.5, 7, 6.5, 4.5, 5, 6.5, 6.5, 6, 5, 4, 4.5, 5, 4.5, 3, 1.2)
PATROL_HOURS = (0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.8, 3, 7, 8, 8, 6, 3, 5, 7, 7, 6, 4, 1.5, 1, 0.8, 0.6, 0.4, 0.2)
VIDEO_HOURS = (1.5, 1, 0.8, 0.8, 0.8, 1, 2, 3, 4, 4.5, 4.5, 4.5, 4, 4, 4.5, 4.5, 4.5, 4.5, 4.5, 4.5, 4, 3.5, 3, 2)

SERVICE_CHANNELS = ("窗口", "网上", "掌上", "自助终端")
SERVICE_CHANNEL_START = (0.36, 0.30, 0.27, 0.07)  # share two years before `end`
SERVICE_CHANNEL_END = (0.20, 0.30, 0.45, 0.05)  # share at `end`: online keeps rising
COMPLAINT_CHANNELS = ("电话", "微信", "APP", "网站", "其他")
COMPLAINT_CHANNEL_SHARE = (0.55, 0.18, 0.12, 0.10, 0.05)
GRID_SOURCES = ("网格员巡查", "视频", "市民上报", "上级交办")
GRID_SOURCE_SHARE = (0.62, 0.16, 0.14, 0.08)

SURNAMES = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜钟陆汪范金方"
)
GIVEN = tuple("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红玲斌波宇浩凯婷雪晨欣怡子轩梓涵思远")
ROAD_FIRST = tuple("文教天目庆春凤起解放延安体育保俶曙光莫干环城秋涛望江复兴之江滨盛江南丰潭古墩紫金学院")
ROAD_SUFFIX = ("路", "路", "街", "大道", "巷")
DETAILS = ("多次反映未果", "影响周边居民生活", "夜间尤为严重", "存在安全隐患", "希望加强监管", "请相关部门核实处理",
           "周边居民意见较大", "已持续较长时间")  # fmt: skip
DESCRIPTION_TEMPLATES = (
    "市民来电反映：{addr}附近{topic}，{detail}，希望相关部门尽快处理。",
    "来电人称{addr}{topic}已持续{days}天，{detail}，要求尽快解决。",
    "网友留言：{addr}存在{topic}，{detail}。",
    "{addr}一带{topic}较为突出，{detail}，请相关部门核实处理。",
)
REPEAT_TEMPLATE = "市民再次反映{addr}{topic}，此前已反映过，问题仍未解决，{detail}。"
PII_SHARE = 0.05

# Anomaly candidates: (second level, third level) complaint categories by anomaly kind.
SURGE_CATEGORIES = (
    ("环境污染", "噪音污染"),
    ("城市建设和市政管理", "自来水供应"),
    ("城市建设和市政管理", "电力供应"),
    ("住房保障与房地产", "物业服务"),
    ("城市建设和市政管理", "环境卫生"),
    ("环境污染", "大气污染"),
    ("城市建设和市政管理", "燃气供应"),
)
CLUSTER_CATEGORIES = (
    ("住房保障与房地产", "物业服务"),
    ("环境污染", "噪音污染"),
    ("城乡规划", "违章建筑"),
    ("城市建设和市政管理", "小区管理"),
    ("城市建设和市政管理", "环境卫生"),
)
STALL_STAGES = (("handle", "处置", "dispatched but not handled"), ("verify", "核查", "fed back but not verified"))
JUMP_DEPARTMENTS = ("ZGJ", "SCJG", "RSJ", "GAJ", "ZJJ")


class DemoRefused(Exception):
    """The target database holds data that is not a generated demo; writing would destroy it."""


class DemoProblem(Exception):
    """The demo cannot be generated (missing map layer or taxonomy file), with the reason."""


@dataclasses.dataclass(frozen=True)
class DemoSummary:
    """Rows written per table and the seconds the whole generation took."""

    regions: int
    departments: int
    categories: int
    targets: int
    service_cases: int
    complaints: int
    grid_events: int
    demo_anomalies: int
    seconds: float

    @property
    def rows(self) -> dict[str, int]:
        return {
            "regions": self.regions,
            "departments": self.departments,
            "categories": self.categories,
            "targets": self.targets,
            "service_cases": self.service_cases,
            "complaints": self.complaints,
            "grid_events": self.grid_events,
            "demo_anomalies": self.demo_anomalies,
        }


# --------------------------------------------------------------------------------------------
# Geography: regions from the GeoJSON layers, populations, and points inside each grid.
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Level:
    """One region level as parallel arrays, in file order."""

    codes: list[str]
    names: list[str]
    parent: IntArray  # index into the level above (-1 for districts)
    center: FloatArray  # (n, 2) lon, lat
    population: IntArray


@dataclasses.dataclass(frozen=True)
class Geography:
    """The four levels plus, for every grid, its ancestors and a pool of points inside it."""

    district: Level
    street: Level
    community: Level
    grid: Level
    grid_street: IntArray
    grid_district: IntArray
    street_district: IntArray
    points: FloatArray  # (n_grids, POINTS_PER_GRID, 2)


def _read_layer(path: Path, code_property: str, name_property: str) -> list[dict[str, Any]]:
    """Features of one GeoJSON layer as plain dicts with code, name, parent, center and rings."""
    with path.open(encoding="utf-8") as handle:
        collection = json.load(handle)
    features = []
    for feature in collection["features"]:
        props = feature["properties"]
        geometry = feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        rings = [np.asarray(ring, dtype=np.float64) for polygon in polygons for ring in polygon]
        code = str(props[code_property])
        parent = props.get("parent_code")
        features.append(
            {
                "code": code,
                "name": str(props[name_property]),
                "parent": str(parent) if parent else code[:-3],
                "center": props.get("center"),
                "rings": rings,
            }
        )
    return features


def points_in_rings(xs: FloatArray, ys: FloatArray, rings: Sequence[FloatArray]) -> BoolArray:
    """Even-odd point-in-polygon test for many points against all rings of one (multi)polygon."""
    inside = np.zeros(len(xs), dtype=bool)
    for ring in rings:
        x1, y1, x2, y2 = ring[:-1, 0], ring[:-1, 1], ring[1:, 0], ring[1:, 1]
        spans = (y1[None, :] > ys[:, None]) != (y2[None, :] > ys[:, None])
        with np.errstate(divide="ignore", invalid="ignore"):
            cross_x = x1[None, :] + (ys[:, None] - y1[None, :]) * (x2 - x1)[None, :] / (y2 - y1)[None, :]
        crossings = np.count_nonzero(spans & (xs[:, None] < cross_x), axis=1)
        inside ^= crossings % 2 == 1
    return inside


def _grid_point_pool(rings: Sequence[FloatArray], rng: np.random.Generator) -> FloatArray:
    """POINTS_PER_GRID random points (6 decimals) strictly inside one grid, by rejection sampling."""
    stacked = np.vstack(rings)
    low, high = stacked.min(axis=0), stacked.max(axis=0)
    found: list[FloatArray] = []
    total = 0
    while total < POINTS_PER_GRID:
        candidates = np.round(rng.uniform(low, high, size=(POINTS_PER_GRID * 2, 2)), 6)
        keep = candidates[points_in_rings(candidates[:, 0], candidates[:, 1], rings)]
        found.append(keep)
        total += len(keep)
    return np.vstack(found)[:POINTS_PER_GRID]


def _split_population(total: IntArray, parent: IntArray, rng: np.random.Generator) -> IntArray:
    """Split each parent's population over its children by random (Dirichlet-like) weights."""
    weights = rng.gamma(3.0, 1.0, size=len(parent))
    sums = np.bincount(parent, weights=weights, minlength=len(total))
    exact = total[parent] * weights / sums[parent]
    result = np.floor(exact).astype(np.int64)
    shortfall = total - np.bincount(parent, weights=result, minlength=len(total)).astype(np.int64)
    # Hand the rounding remainder to the children with the largest fractional parts.
    order = np.lexsort((-(exact - result), parent))
    rank = np.empty(len(parent), dtype=np.int64)
    starts = np.searchsorted(parent[order], np.arange(len(total)))
    rank[order] = np.arange(len(parent)) - starts[parent[order]]
    result += (rank < shortfall[parent]).astype(np.int64)
    return result


def load_geography(city: CityConfig, rng: np.random.Generator) -> Geography:
    """Read the four layers, link each region to its parent, and give every region a population."""
    missing = [level for level in schema.REGION_LEVELS if level not in city.geo]
    if missing:
        raise DemoProblem(f"The city config {city.source} has no [geo.{missing[0]}] layer; the demo needs all four.")
    raw = {
        level: _read_layer(city.geo[level].file, city.geo[level].code_property, city.geo[level].name_property)
        for level in schema.REGION_LEVELS
    }
    levels: dict[str, Level] = {}
    previous: dict[str, int] = {}
    parent_population = np.zeros(0, dtype=np.int64)
    for level in schema.REGION_LEVELS:
        features = raw[level]
        if level == "district":
            parent = np.full(len(features), -1, dtype=np.int64)
            population = np.array(
                [DISTRICT_POPULATION.get(f["code"], int(rng.integers(300_000, 1_500_000))) for f in features]
            )
        else:
            unknown = [f["code"] for f in features if f["parent"] not in previous]
            if unknown:
                raise DemoProblem(f"{level} {unknown[0]} has no parent region in the layer above")
            parent = np.array([previous[f["parent"]] for f in features], dtype=np.int64)
            population = _split_population(parent_population, parent, rng)
        center = np.array(
            [f["center"] if f["center"] else np.vstack(f["rings"]).mean(axis=0) for f in features], dtype=np.float64
        )
        levels[level] = Level([f["code"] for f in features], [f["name"] for f in features], parent, center, population)
        previous = {f["code"]: i for i, f in enumerate(features)}
        parent_population = population
    pools = np.stack([_grid_point_pool(f["rings"], rng) for f in raw["grid"]])
    grid_street = levels["community"].parent[levels["grid"].parent]
    return Geography(
        district=levels["district"],
        street=levels["street"],
        community=levels["community"],
        grid=levels["grid"],
        grid_street=grid_street,
        grid_district=levels["street"].parent[grid_street],
        street_district=levels["street"].parent,
        points=pools,
    )


# --------------------------------------------------------------------------------------------
# Categories and departments.
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ComplaintTaxonomy:
    """Third-level complaint categories with their codes, parents, weights and handling rules."""

    l1_code: list[str]
    l2_code: list[str]
    l3_code: list[str]
    l1_name: list[str]
    l2_name: list[str]
    l3_name: list[str]
    weight: FloatArray
    department: IntArray
    utility: BoolArray
    urgent: BoolArray
    complex: BoolArray
    rows: list[dict[str, Any]]  # category table rows (all three levels)

    def find(self, l2: str, l3: str) -> int:
        for i, (a, b) in enumerate(zip(self.l2_name, self.l3_name, strict=True)):
            if (a, b) == (l2, l3):
                return i
        raise DemoProblem(f"complaint category {l2}/{l3} is not in {TAXONOMY_FILE}")


def _department_index() -> dict[str, int]:
    return {code: i for i, (code, _, _) in enumerate(DEPARTMENTS)}


def load_taxonomy(rng: np.random.Generator, path: Path = TAXONOMY_FILE) -> ComplaintTaxonomy:
    """The real three-level taxonomy, coded C01 / C01.02 / C01.02.003 in file order, with a skew."""
    if not path.is_file():
        raise DemoProblem(f"The complaint taxonomy {path} is missing (it ships with the repository).")
    with path.open(encoding="utf-8", newline="") as handle:
        records = [
            (r["一级分类"].strip(), r["二级分类"].strip(), r["三级分类"].strip()) for r in csv.DictReader(handle)
        ]
    l1_codes: dict[str, str] = {}
    l2_codes: dict[tuple[str, str], str] = {}
    l3_count: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    out: dict[str, list[Any]] = {k: [] for k in ("l1c", "l2c", "l3c", "l1", "l2", "l3")}
    for l1, l2, l3 in records:
        if l1 not in l1_codes:
            l1_codes[l1] = f"C{len(l1_codes) + 1:02d}"
            rows.append({"code": l1_codes[l1], "domain": "complaints", "level": 1, "name": l1, "parent_code": None})
        c1 = l1_codes[l1]
        if (l1, l2) not in l2_codes:
            siblings = sum(1 for key in l2_codes if key[0] == l1)
            l2_codes[(l1, l2)] = f"{c1}.{siblings + 1:02d}"
            rows.append({"code": l2_codes[(l1, l2)], "domain": "complaints", "level": 2, "name": l2, "parent_code": c1})
        c2 = l2_codes[(l1, l2)]
        l3_count[c2] = l3_count.get(c2, 0) + 1
        c3 = f"{c2}.{l3_count[c2]:03d}"
        rows.append({"code": c3, "domain": "complaints", "level": 3, "name": l3, "parent_code": c2})
        for key, value in zip(out, (c1, c2, c3, l1, l2, l3), strict=True):
            out[key].append(value)
    weight = _taxonomy_weights(out["l1"], out["l2c"], out["l3"], rng)
    departments = _department_index()
    department = np.array(
        [
            departments[L3_DEPARTMENT.get(l3) or L2_DEPARTMENT.get(l2) or L1_DEPARTMENT.get(l1, "BGT")]
            for l1, l2, l3 in zip(out["l1"], out["l2"], out["l3"], strict=True)
        ],
        dtype=np.int64,
    )
    return ComplaintTaxonomy(
        l1_code=out["l1c"],
        l2_code=out["l2c"],
        l3_code=out["l3c"],
        l1_name=out["l1"],
        l2_name=out["l2"],
        l3_name=out["l3"],
        weight=weight,
        department=department,
        utility=np.array([n in UTILITY_L3 for n in out["l3"]]),
        urgent=np.array([n in URGENT_L3 for n in out["l3"]]),
        complex=np.array(
            [a in COMPLEX_L1 or b in COMPLEX_L2 for a, b in zip(out["l1"], out["l2"], strict=True)], dtype=bool
        ),
        rows=rows,
    )


def _taxonomy_weights(l1: list[str], l2c: list[str], l3: list[str], rng: np.random.Generator) -> FloatArray:
    """A realistic skew: top-level shares, random second-level shares, Zipf-like third level."""
    n = len(l3)
    l2_keys = sorted(set(l2c))
    l2_share = dict(zip(l2_keys, rng.gamma(1.2, 1.0, size=len(l2_keys)), strict=True))
    raw = np.empty(n)
    for i in range(n):
        boost = 4.0 if l3[i] in COMMON_L3 else (0.4 if l3[i] == "其他" else 1.0)
        raw[i] = boost / (1.0 + rng.integers(0, 6)) ** 0.9
    weight = np.empty(n)
    for key in l2_keys:
        members = np.array([i for i in range(n) if l2c[i] == key])
        weight[members] = raw[members] / raw[members].sum() * l2_share[key]
    for name in sorted(set(l1)):
        members = np.array([i for i in range(n) if l1[i] == name])
        weight[members] = weight[members] / weight[members].sum() * COMPLAINT_L1_WEIGHT.get(name, 1.0)
    return np.asarray(weight / weight.sum(), dtype=np.float64)


@dataclasses.dataclass(frozen=True)
class GridTaxonomy:
    """Minor grid categories (one row per minor) with their major, kind, limit and department."""

    kind: list[str]
    major_code: list[str]
    minor_code: list[str]
    limit: FloatArray
    department: IntArray
    weight: FloatArray
    rows: list[dict[str, Any]]


def build_grid_taxonomy(rng: np.random.Generator) -> GridTaxonomy:
    """Part (GP..) and event (GE..) categories from the digital urban management standard."""
    departments = _department_index()
    rows: list[dict[str, Any]] = []
    kind: list[str] = []
    major: list[str] = []
    minor: list[str] = []
    limit: list[float] = []
    department: list[int] = []
    weight: list[float] = []
    counters = {"部件": 0, "事件": 0}
    for kind_name, major_name, major_weight, hours, dept, minors in GRID_CATEGORIES:
        counters[kind_name] += 1
        prefix = "GP" if kind_name == "部件" else "GE"
        major_code = f"{prefix}{counters[kind_name]:02d}"
        rows.append({"code": major_code, "domain": "grid_events", "level": 1, "name": major_name, "parent_code": None})
        shares = 1.0 / (1.0 + rng.permutation(len(minors))) ** 0.8
        shares = shares / shares.sum() * major_weight
        for j, minor_name in enumerate(minors):
            code = f"{major_code}.{j + 1:02d}"
            rows.append(
                {"code": code, "domain": "grid_events", "level": 2, "name": minor_name, "parent_code": major_code}
            )
            kind.append(kind_name)
            major.append(major_code)
            minor.append(code)
            limit.append(4.0 if minor_name.endswith("井盖") else float(hours))
            department.append(departments[GRID_MINOR_DEPARTMENT.get(minor_name, dept)])
            weight.append(float(shares[j]))
    w = np.array(weight)
    return GridTaxonomy(kind, major, minor, np.array(limit), np.array(department, dtype=np.int64), w / w.sum(), rows)


# --------------------------------------------------------------------------------------------
# Calendar and seasonality.
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Calendar:
    """The 730 days of the demo with their start (epoch seconds, local wall time) and volume factors."""

    dates: list[dt.date]
    start: FloatArray
    weekday: IntArray
    festival: BoolArray
    years: FloatArray  # years elapsed since the first day
    horizon: float  # end + 1 day 00:00: nothing happens at or after it

    def factors(
        self, weekday: Sequence[float], summer: float, peak_day: int, festival: float, growth: float
    ) -> FloatArray:
        """Relative daily volume: weekday shape x mild yearly wave x Spring Festival dip x slow growth."""
        doy = np.array([d.timetuple().tm_yday for d in self.dates], dtype=np.float64)
        yearly = 1.0 + summer * np.cos(2 * np.pi * (doy - peak_day) / 365.25)
        shape = np.asarray(weekday)[self.weekday] * yearly * np.where(self.festival, festival, 1.0)
        return np.asarray(shape * (1.0 + growth * self.years), dtype=np.float64)


def build_calendar(end: dt.date, until: dt.datetime | None = None) -> Calendar:
    """The demo's days; ``until`` (a moment on ``end``) stops time there instead of at midnight."""
    if until is not None and until.date() != end:
        raise ValueError(f"until {until} is not on the end date {end}")
    dates = [end - dt.timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    start = np.array([(d - EPOCH).days * DAY for d in dates])
    festival = np.array([any(0 <= (d - f).days < 7 for f in SPRING_FESTIVAL) for d in dates])
    return Calendar(
        dates=dates,
        start=start,
        weekday=np.array([d.weekday() for d in dates], dtype=np.int64),
        festival=festival,
        years=np.arange(DAYS, dtype=np.float64) / 365.0,
        horizon=float(start[-1] + DAY) if until is None else (until - dt.datetime(1970, 1, 1)).total_seconds(),
    )


@dataclasses.dataclass(frozen=True)
class Chunk:
    """A calendar month, or part of one at large scales: the unit of generation and insertion."""

    first: int  # first day index
    stop: int  # one past the last day index
    label: str


def fact_chunks(calendar: Calendar, max_daily_rows: float) -> list[Chunk]:
    """Calendar months, split into pieces of at most CHUNK_ROWS expected rows per table (bounded memory)."""
    max_days = max(1, int(CHUNK_ROWS // max(max_daily_rows, 1.0)))
    chunks: list[Chunk] = []
    first = 0
    for i in range(1, DAYS + 1):
        if i == DAYS or calendar.dates[i].day == 1 or i - first >= max_days:
            label = calendar.dates[first].strftime("%Y-%m" if calendar.dates[first].day == 1 else "%Y-%m-%d")
            chunks.append(Chunk(first, i, label))
            first = i
    return chunks


def _days_in_chunk(expected: FloatArray, chunk: Chunk, rng: np.random.Generator) -> IntArray:
    """Day index of every row in a chunk, from Poisson daily counts."""
    counts = rng.poisson(expected[chunk.first : chunk.stop])
    return np.repeat(np.arange(chunk.first, chunk.stop, dtype=np.int64), counts)


def _times(calendar: Calendar, day: IntArray, hours: Sequence[float], rng: np.random.Generator) -> FloatArray:
    """Timestamps (whole epoch seconds) on the given days following an hour-of-day profile."""
    profile = np.asarray(hours, dtype=np.float64)
    hour = rng.choice(24, size=len(day), p=profile / profile.sum())
    return np.asarray(calendar.start[day] + hour * HOUR + rng.integers(0, 3600, size=len(day)), dtype=np.float64)


def _lognormal(median: FloatArray | float, sigma: float, n: int, rng: np.random.Generator) -> FloatArray:
    return np.asarray(np.exp(np.log(median) + sigma * rng.standard_normal(n)), dtype=np.float64)


def _overdue_z(overdue: FloatArray) -> FloatArray:
    """Standard normal quantiles for target overdue shares (one per department)."""
    return np.array([NormalDist().inv_cdf(1.0 - float(q)) for q in overdue], dtype=np.float64)


def _median_for_overdue(limit: FloatArray, z: FloatArray, sigma: float) -> FloatArray:
    """Lognormal median so that the share above ``limit`` is the share whose quantile is ``z``."""
    return np.asarray(limit * np.exp(-z * sigma), dtype=np.float64)


def _choose(shares: Sequence[float] | FloatArray, n: int, rng: np.random.Generator) -> IntArray:
    p = np.asarray(shares, dtype=np.float64)
    return np.asarray(rng.choice(len(p), size=n, p=p / p.sum()), dtype=np.int64)


def _cut_at_horizon(stages: list[FloatArray], horizon: float) -> list[FloatArray]:
    """Later workflow stages are NULL (NaN) once one stage has not happened by the horizon."""
    result: list[FloatArray] = []
    missing = np.zeros(len(stages[0]), dtype=bool)
    for stage in stages:
        missing = missing | np.isnan(stage) | (stage >= horizon)
        result.append(np.where(missing, np.nan, np.round(stage)))
    return result


# --------------------------------------------------------------------------------------------
# The world: everything decided once before the facts are drawn.
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Surge:
    street: int
    category: int
    first: int
    days: int
    rate: float  # extra tickets per day
    focus: IntArray  # a few grids of the street where most extra tickets come from


@dataclasses.dataclass(frozen=True)
class OverdueJump:
    department: int
    first: int
    days: int
    share: float  # extra share of cases forced overdue


@dataclasses.dataclass(frozen=True)
class RepeatCluster:
    community: int
    grid: int
    category: int
    first: int
    repeats: int
    point: int
    road: int
    house: int


@dataclasses.dataclass(frozen=True)
class Stall:
    grid: int
    stage: int  # index into the seven workflow stages
    first: int
    days: int
    rate: float  # extra events per day in the stalled grid


@dataclasses.dataclass(frozen=True)
class World:
    """Inputs shared by every chunk: geography, taxonomies, calendar, weights and anomalies."""

    city: CityConfig
    scale: float
    seed: int
    geo: Geography
    taxonomy: ComplaintTaxonomy
    grid_taxonomy: GridTaxonomy
    calendar: Calendar
    service_daily: FloatArray
    complaint_daily: FloatArray
    grid_daily: FloatArray
    complaint_grid_p: FloatArray
    service_street_p: FloatArray
    event_grid_p: FloatArray
    street_unhappy: FloatArray  # logit shift of dissatisfaction by street
    department_unhappy: FloatArray
    complaint_z: FloatArray  # per department: normal quantile of its overdue share
    service_z: FloatArray
    event_z: FloatArray
    roads: list[list[str]]  # per street
    workers: IntArray  # grid workers per grid
    surges: list[Surge]
    jumps: list[OverdueJump]
    clusters: list[RepeatCluster]
    stalls: list[Stall]


def _daily(calendar: Calendar, total: float, factors: FloatArray) -> FloatArray:
    return np.asarray(total * factors / factors.sum(), dtype=np.float64)


def _road_names(geo: Geography, rng: np.random.Generator) -> list[list[str]]:
    """A handful of road names per street, for addresses."""
    roads: list[list[str]] = []
    for _ in geo.street.codes:
        names: list[str] = []
        while len(names) < ROADS_PER_STREET:
            a, b = rng.choice(len(ROAD_FIRST), size=2, replace=False)
            name = ROAD_FIRST[a] + ROAD_FIRST[b] + ROAD_SUFFIX[int(rng.integers(len(ROAD_SUFFIX)))]
            if name not in names:
                names.append(name)
        roads.append(names)
    return roads


def build_world(city: CityConfig, scale: float, seed: int, end: dt.date, until: dt.datetime | None = None) -> World:
    """Decide everything that does not depend on the chunk: weights, effects, anomalies."""
    setup = np.random.default_rng([seed, 0])
    geo = load_geography(city, setup)
    taxonomy = load_taxonomy(setup)
    grid_taxonomy = build_grid_taxonomy(setup)
    calendar = build_calendar(end, until)
    n_grids, n_streets, n_departments = len(geo.grid.codes), len(geo.street.codes), len(DEPARTMENTS)
    urban = np.array([code in URBAN_CORE for code in geo.district.codes])

    grid_pop = geo.grid.population.astype(np.float64)
    hotspot = np.ones(n_grids)
    hot = setup.choice(n_grids, size=max(1, n_grids // 80), replace=False, p=grid_pop / grid_pop.sum())
    hotspot[hot] = setup.uniform(3.0, 6.0, size=len(hot))
    complaint_w = grid_pop * hotspot * np.where(urban[geo.grid_district], 1.3, 0.8)
    event_w = grid_pop * np.where(urban[geo.grid_district], 1.2, 0.7) * setup.uniform(0.7, 1.3, size=n_grids)
    street_w = geo.street.population.astype(np.float64) * np.where(urban[geo.street_district], 1.2, 0.9)

    street_unhappy = setup.normal(0.0, 0.25, size=n_streets)
    bad = setup.choice(n_streets, size=max(1, n_streets // 14), replace=False)
    street_unhappy[bad] += setup.uniform(1.0, 1.5, size=len(bad))

    complaint_daily = _daily(
        calendar, COMPLAINTS_PER_2Y * scale, calendar.factors((1.05, 1, 1, 1, 1, 0.85, 0.8), 0.12, 200, 0.75, 0.08)
    )
    world = World(
        city=city,
        scale=scale,
        seed=seed,
        geo=geo,
        taxonomy=taxonomy,
        grid_taxonomy=grid_taxonomy,
        calendar=calendar,
        service_daily=_daily(
            calendar,
            SERVICE_CASES_PER_2Y * scale,
            calendar.factors((1.08, 1, 1, 1, 0.95, 0.3, 0.2), 0.05, 100, 0.2, 0.05),
        ),
        complaint_daily=complaint_daily,
        grid_daily=_daily(
            calendar,
            GRID_EVENTS_PER_2Y * scale,
            calendar.factors((1.05, 1.05, 1.05, 1.05, 1, 0.55, 0.5), 0.08, 180, 0.5, 0.05),
        ),
        complaint_grid_p=complaint_w / complaint_w.sum(),
        service_street_p=street_w / street_w.sum(),
        event_grid_p=event_w / event_w.sum(),
        street_unhappy=street_unhappy,
        department_unhappy=setup.normal(0.0, 0.3, size=n_departments),
        complaint_z=_overdue_z(setup.uniform(0.03, 0.09, size=n_departments)),
        service_z=_overdue_z(setup.uniform(0.03, 0.08, size=n_departments)),
        event_z=_overdue_z(setup.uniform(0.02, 0.07, size=n_departments)),
        roads=_road_names(geo, setup),
        workers=setup.integers(1, 4, size=n_grids),
        surges=[],
        jumps=[],
        clusters=[],
        stalls=[],
    )
    return plan_anomalies(world, np.random.default_rng([seed, 1]))


# --------------------------------------------------------------------------------------------
# Anomalies.
# --------------------------------------------------------------------------------------------

ANOMALY_ORDER = ("surge", "repeat_cluster", "stall", "overdue_jump", "surge", "repeat_cluster", "surge",
                 "overdue_jump", "stall", "surge", "repeat_cluster", "surge")  # fmt: skip


def _anchor_days(rng: np.random.Generator) -> list[int]:
    """Start days spread evenly over the two years, jittered, away from the very start."""
    slots = np.linspace(45, DAYS - 40, len(ANOMALY_ORDER))
    return [int(s + rng.integers(-10, 11)) for s in slots]


def plan_anomalies(world: World, rng: np.random.Generator) -> World:
    """Choose where and when each injected anomaly happens; the baseline stays free of them."""
    geo, taxonomy = world.geo, world.taxonomy
    # Tiny demos (tests) still get a visible anomaly: at least 2 extra rows a day.
    floor = min(world.scale, 1.0)
    surges: list[Surge] = []
    jumps: list[OverdueJump] = []
    clusters: list[RepeatCluster] = []
    stalls: list[Stall] = []
    # Big streets and common categories, so "3-6x normal" is also a visible absolute number.
    big_streets = list(np.argsort(-geo.street.population, kind="stable")[: max(6, len(geo.street.codes) // 3)])
    surge_categories = [taxonomy.find(*pair) for pair in SURGE_CATEGORIES]
    cluster_categories = [taxonomy.find(*pair) for pair in CLUSTER_CATEGORIES]
    street_share = np.bincount(geo.grid_street, weights=world.complaint_grid_p, minlength=len(geo.street.codes))
    departments = _department_index()
    grid_pop = geo.grid.population
    busy_grids = np.flatnonzero(grid_pop >= np.median(grid_pop))
    anchors = _anchor_days(rng)
    for position, (kind, anchor) in enumerate(zip(ANOMALY_ORDER, anchors, strict=True)):
        if kind == "surge":
            days = int(rng.integers(5, 11))
            first = DAYS - days if position == len(ANOMALY_ORDER) - 1 else min(anchor, DAYS - days)
            street = int(big_streets.pop(int(rng.integers(len(big_streets)))))
            category = surge_categories.pop(int(rng.integers(len(surge_categories))))
            normal = float(world.complaint_daily.mean() * street_share[street] * taxonomy.weight[category])
            rate = max(normal * (rng.uniform(3.0, 6.0) - 1.0), rng.uniform(8.0, 12.0) * floor, 2.0)
            street_grids = np.flatnonzero(geo.grid_street == street)
            focus = rng.choice(street_grids, size=min(2, len(street_grids)), replace=False)
            surges.append(Surge(street, category, first, days, rate, np.sort(focus).astype(np.int64)))
        elif kind == "overdue_jump":
            code = JUMP_DEPARTMENTS[len(jumps) * 2 % len(JUMP_DEPARTMENTS)]
            jumps.append(OverdueJump(departments[code], anchor, int(rng.integers(21, 29)), rng.uniform(0.3, 0.36)))
        elif kind == "repeat_cluster":
            repeats = int(rng.integers(10, 15))
            first = min(anchor, DAYS - 14)
            grid = int(rng.choice(busy_grids))
            clusters.append(
                RepeatCluster(
                    community=int(geo.grid.parent[grid]),
                    grid=grid,
                    category=cluster_categories.pop(int(rng.integers(len(cluster_categories)))),
                    first=first,
                    repeats=repeats,
                    point=int(rng.integers(POINTS_PER_GRID)),
                    road=int(rng.integers(ROADS_PER_STREET)),
                    house=int(rng.integers(1, 300)),
                )
            )
        else:
            stage_key = STALL_STAGES[len(stalls) % len(STALL_STAGES)][0]
            stage = [key for key, _ in schema.GRID_WORKFLOW].index(stage_key)
            days = int(rng.integers(7, 22))
            grid = int(rng.choice(busy_grids))
            stalls.append(Stall(grid, stage, min(anchor, DAYS - days), days, max(2.0, 3.0 * floor)))
    return dataclasses.replace(world, surges=surges, jumps=jumps, clusters=clusters, stalls=stalls)


def anomaly_rows(world: World) -> list[dict[str, Any]]:
    """The demo_anomalies table: what was injected where, so tests and demos can point at it."""
    geo, taxonomy, calendar = world.geo, world.taxonomy, world.calendar

    def at(day: int) -> dt.datetime:
        return dt.datetime.combine(calendar.dates[0], dt.time()) + dt.timedelta(days=day)

    rows: list[dict[str, Any]] = []
    for s in world.surges:
        street_share = float(world.complaint_grid_p[geo.grid_street == s.street].sum())
        normal = float(world.complaint_daily.mean()) * street_share * float(taxonomy.weight[s.category])
        note = (
            f"surge: {geo.street.names[s.street]} x {taxonomy.l3_name[s.category]}, {s.days} days, "
            f"~{s.rate:.1f} extra tickets/day (normal ~{normal:.2f}/day)"
        )
        rows.append(_anomaly("surge", geo.street.codes[s.street], None, taxonomy.l3_code[s.category], at(s.first),
                             at(s.first + s.days), note))  # fmt: skip
    for j in world.jumps:
        code, name, _ = DEPARTMENTS[j.department]
        note = f"overdue_jump: {name} service cases overdue at ~{j.share * 100 + 4:.0f}% for {j.days} days"
        rows.append(_anomaly("overdue_jump", None, code, None, at(j.first), at(j.first + j.days), note))
    for c in world.clusters:
        note = (
            f"repeat_cluster: {geo.community.names[c.community]} x {taxonomy.l3_name[c.category]}, "
            f"{c.repeats} repeat tickets at {world.roads[geo.grid_street[c.grid]][c.road]}{c.house}号"
        )
        rows.append(_anomaly("repeat_cluster", geo.community.codes[c.community], None, taxonomy.l3_code[c.category],
                             at(c.first), at(c.first + 14), note))  # fmt: skip
    for st in world.stalls:
        key, label, what = next(s for s in STALL_STAGES if s[0] == schema.GRID_WORKFLOW[st.stage][0])
        note = f"stall: stage={key} ({label}) in grid {geo.grid.names[st.grid]}: events {what} for {st.days} days"
        rows.append(_anomaly("stall", geo.grid.codes[st.grid], None, None, at(st.first), at(st.first + st.days), note))
    rows.sort(key=lambda r: (r["start_at"], r["kind"]))
    for i, row in enumerate(rows, start=1):
        row["id"] = i
    return rows


def _anomaly(
    kind: str,
    region: str | None,
    department: str | None,
    category: str | None,
    start: dt.datetime,
    end: dt.datetime,
    note: str,
) -> dict[str, Any]:
    return {
        "id": 0,
        "kind": kind,
        "region_code": region,
        "department_code": department,
        "category_code": category,
        "start_at": start,
        "end_at": end,
        "note": note,
    }


# --------------------------------------------------------------------------------------------
# Dimension tables.
# --------------------------------------------------------------------------------------------


def region_rows(geo: Geography) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    above: Level | None = None
    for level_name in schema.REGION_LEVELS:
        level: Level = getattr(geo, level_name)
        for i, code in enumerate(level.codes):
            rows.append(
                {
                    "code": code,
                    "name": level.names[i],
                    "level": level_name,
                    "parent_code": above.codes[int(level.parent[i])] if above is not None else None,
                    "population": int(level.population[i]),
                    "center_lon": round(float(level.center[i, 0]), 6),
                    "center_lat": round(float(level.center[i, 1]), 6),
                }
            )
        above = level
    return rows


def department_rows() -> list[dict[str, Any]]:
    return [{"code": c, "name": n, "name_en": e} for c, n, e in DEPARTMENTS]


def target_rows(world: World) -> list[dict[str, Any]]:
    """A few overrides of the city-wide targets: a stricter district, a department, one year."""
    known = set(world.city.targets)
    districts = world.geo.district.codes

    def district(code: str, fallback: int) -> str:
        return code if code in districts else districts[fallback]

    xihu, shangcheng, binjiang = district("330106", 0), district("330102", -1), district("330108", 0)
    year = world.calendar.dates[-1].year
    candidates = [
        ("complaint_on_time_rate", xihu, None, None, None, 0.97),
        ("service_on_time_rate", None, "SCJG", None, None, 0.98),
        ("grid_closure_rate", shangcheng, None, None, None, 0.97),
        ("complaint_satisfaction_rate", None, None, dt.date(year, 1, 1), dt.date(year, 12, 31), 0.92),
        ("service_online_share", binjiang, None, None, None, 0.9),
    ]
    rows: list[dict[str, Any]] = []
    for metric, region, department, start, stop, value in candidates:
        if metric in known:
            rows.append(
                {
                    "id": len(rows) + 1,
                    "metric": metric,
                    "region_code": region,
                    "department_code": department,
                    "period_start": start,
                    "period_end": stop,
                    "value": value,
                }
            )
    return rows


# --------------------------------------------------------------------------------------------
# Facts: one chunk (calendar month) at a time.
# --------------------------------------------------------------------------------------------


def _timestamps(values: FloatArray) -> pl.Series:
    """Epoch seconds (NaN = NULL) as a naive microsecond datetime column."""
    series = pl.Series(values.astype(np.float64)).fill_nan(None)
    return (series * 1_000_000).cast(pl.Int64).cast(pl.Datetime("us"))


def _null_unless(values: pl.Series, keep: BoolArray) -> pl.Series:
    """The values where ``keep`` holds, NULL elsewhere."""
    frame = pl.DataFrame({"v": values, "k": pl.Series(keep, dtype=pl.Boolean)})
    return frame.select(pl.when(pl.col("k")).then(pl.col("v"))).to_series()


def _codes(names: Sequence[str], index: IntArray) -> pl.Series:
    """Look up a string per row by index, via a categorical-free gather (fast, no Python loop)."""
    return pl.Series(list(names), dtype=pl.String).gather(pl.Series(index.astype(np.int64)))


def _with_ids(frame: pl.DataFrame, time_column: str, id_column: str, prefix: str, first_seq: int) -> pl.DataFrame:
    """Sort by time and number rows with a running sequence: e.g. RX2024010500012345.

    The sequence runs across chunks, so ids stay unique even for rows (repeat tickets) whose time
    falls after the chunk that generated them."""
    frame = frame.sort([time_column, "_row"])
    day = pl.col(time_column).dt.strftime("%Y%m%d")
    seq = pl.int_range(first_seq, first_seq + pl.len()).cast(pl.String).str.zfill(8)
    return frame.with_columns(pl.concat_str([pl.lit(prefix), day, seq]).alias(id_column))


def service_chunk(world: World, chunk: Chunk, rng: np.random.Generator, first_seq: int = 1) -> pl.DataFrame:
    """Government service cases submitted in one chunk."""
    cal = world.calendar
    day = _days_in_chunk(world.service_daily, chunk, rng)
    n = len(day)
    items = np.array([w for *_, w, _ in SERVICE_ITEMS])
    item = _choose(items, n, rng)
    departments = _department_index()
    item_dept = np.array([departments[d] for d, *_ in SERVICE_ITEMS], dtype=np.int64)
    promised = np.array([p for _, _, p, *_ in SERVICE_ITEMS], dtype=np.float64)[item]
    legal = np.array([legal for _, _, _, legal, *_ in SERVICE_ITEMS], dtype=np.float64)[item]
    enterprise = rng.random(n) < np.array([e for *_, e in SERVICE_ITEMS])[item]
    dept = item_dept[item]

    # Channel shares drift towards mobile over the two years.
    progress = (day / (DAYS - 1))[:, None]
    shares = (
        np.asarray(SERVICE_CHANNEL_START)
        + (np.asarray(SERVICE_CHANNEL_END) - np.asarray(SERVICE_CHANNEL_START)) * progress
    )
    channel = (rng.random(n)[:, None] > np.cumsum(shares, axis=1)[:, :-1]).sum(axis=1)
    online = (channel == 1) | (channel == 2)
    submitted = np.where(online, _times(cal, day, ONLINE_HOURS, rng), _times(cal, day, OFFICE_HOURS, rng))
    street = _choose(world.service_street_p, n, rng)

    sigma = 0.7
    median = _median_for_overdue(promised, world.service_z[dept], sigma)
    total = _lognormal(median, sigma, n, rng) * HOUR
    for jump in world.jumps:
        start, stop = cal.start[jump.first], cal.start[jump.first] + jump.days * DAY
        hit = (dept == jump.department) & (submitted >= start) & (submitted < stop) & (rng.random(n) < jump.share)
        total = np.where(hit, promised * HOUR * rng.uniform(1.05, 2.2, size=n), total)
    accept_delay = np.where(online, _lognormal(2.0, 1.0, n, rng), rng.uniform(0.05, 0.5, size=n)) * HOUR
    accept_delay = np.minimum(accept_delay, 0.4 * total)
    rejected = rng.random(n) < 0.015
    accepted = np.where(rejected, np.nan, submitted + accept_delay)
    completed = np.where(rejected, submitted + rng.uniform(1, 24, size=n) * HOUR, submitted + total)
    accepted, completed = (np.where(t >= cal.horizon, np.nan, np.round(t)) for t in (accepted, completed))
    status = np.where(rejected, 2, np.where(np.isnan(completed), 0, 1))
    overdue = total > promised * HOUR
    good = np.where(overdue[:, None], [[0.45, 0.30, 0.12, 0.08, 0.05]], [[0.74, 0.21, 0.03, 0.015, 0.005]])
    rating_index = (rng.random(n)[:, None] > np.cumsum(good, axis=1)[:, :-1]).sum(axis=1)
    rated = (status == 1) & (rng.random(n) < 0.6)

    names = [name for _, name, *_ in SERVICE_ITEMS]
    item_codes = [f"{d}-{i + 1:03d}" for i, (d, *_) in enumerate(SERVICE_ITEMS)]
    frame = pl.DataFrame(
        {
            "_row": np.arange(n),
            "service_item_code": _codes(item_codes, item),
            "service_item_name": _codes(names, item),
            "department_code": _codes([c for c, _, _ in DEPARTMENTS], dept),
            "district_code": _codes(world.geo.district.codes, world.geo.street_district[street]),
            "street_code": _codes(world.geo.street.codes, street),
            "channel": _codes(SERVICE_CHANNELS, channel),
            "applicant_type": pl.Series(np.where(enterprise, "企业", "个人")),
            "submitted_at": _timestamps(submitted),
            "accepted_at": _timestamps(accepted),
            "completed_at": _timestamps(completed),
            "promised_limit_hours": promised,
            "legal_limit_hours": legal,
            "status": _codes(("办理中", "已办结", "不予受理"), status),
            "rating": _null_unless(_codes(schema.SERVICE_RATINGS, rating_index), rated),
        }
    )
    frame = _with_ids(frame, "submitted_at", "case_id", "ZW", first_seq)
    return frame.select([c.name for c in schema.service_cases.columns])


@dataclasses.dataclass
class ComplaintDraft:
    """The who/where/what of complaint rows before their handling is simulated."""

    received: FloatArray
    grid: IntArray
    category: IntArray
    point: IntArray
    road: IntArray
    house: IntArray
    repeat_src: IntArray  # row index of the ticket this one repeats, or -1
    flag: IntArray  # 0 baseline, 1 repeat, 2 surge, 3 cluster

    def extend(self, other: ComplaintDraft, *, shift: bool = True) -> ComplaintDraft:
        """Append rows; ``shift`` when other's repeat_src counts from its own first row."""
        offset = len(self.received) if shift else 0
        shifted = np.where(other.repeat_src >= 0, other.repeat_src + offset, -1)

        def both(a: Any, b: Any) -> Any:
            return np.concatenate([a, b])

        return ComplaintDraft(
            received=both(self.received, other.received),
            grid=both(self.grid, other.grid),
            category=both(self.category, other.category),
            point=both(self.point, other.point),
            road=both(self.road, other.road),
            house=both(self.house, other.house),
            repeat_src=both(self.repeat_src, shifted),
            flag=both(self.flag, other.flag),
        )


def _draft(
    received: FloatArray, grid: IntArray, category: IntArray, flag: int, rng: np.random.Generator
) -> ComplaintDraft:
    n = len(received)
    return ComplaintDraft(
        received=received,
        grid=grid,
        category=category,
        point=rng.integers(0, POINTS_PER_GRID, size=n),
        road=rng.integers(0, ROADS_PER_STREET, size=n),
        house=rng.integers(1, 300, size=n),
        repeat_src=np.full(n, -1, dtype=np.int64),
        flag=np.full(n, flag, dtype=np.int64),
    )


def _baseline_complaints(world: World, chunk: Chunk, rng: np.random.Generator) -> ComplaintDraft:
    day = _days_in_chunk(world.complaint_daily, chunk, rng)
    received = _times(world.calendar, day, COMPLAINT_HOURS, rng)
    grid = _choose(world.complaint_grid_p, len(day), rng)
    category = _choose(world.taxonomy.weight, len(day), rng)
    return _draft(received, grid, category, 0, rng)


def _repeats(world: World, chunk: Chunk, base: ComplaintDraft, rng: np.random.Generator) -> ComplaintDraft:
    """About 4 % repeat tickets: same grid, category and address, a few days after the original."""
    source = np.flatnonzero(rng.random(len(base.received)) < 0.042)
    delay = rng.uniform(0.5, 20.0, size=len(source)) * DAY
    received = np.round(base.received[source] + delay)
    keep = received < world.calendar.horizon
    source, received = source[keep], received[keep]
    return ComplaintDraft(
        received=received,
        grid=base.grid[source],
        category=base.category[source],
        point=base.point[source],
        road=base.road[source],
        house=base.house[source],
        repeat_src=source.astype(np.int64),
        flag=np.full(len(source), 1, dtype=np.int64),
    )


def _surge_complaints(world: World, chunk: Chunk, rng: np.random.Generator) -> ComplaintDraft | None:
    drafts: list[ComplaintDraft] = []
    for surge in world.surges:
        days = [d for d in range(surge.first, surge.first + surge.days) if chunk.first <= d < chunk.stop]
        if not days:
            continue
        counts = rng.poisson(surge.rate, size=len(days))
        day = np.repeat(np.array(days, dtype=np.int64), counts)
        street_grids = np.flatnonzero(world.geo.grid_street == surge.street)
        grid = np.where(
            rng.random(len(day)) < 0.7,
            rng.choice(surge.focus, size=len(day)),
            rng.choice(street_grids, size=len(day)),
        )
        received = _times(world.calendar, day, COMPLAINT_HOURS, rng)
        drafts.append(_draft(received, grid.astype(np.int64), np.full(len(day), surge.category), 2, rng))
    return _concat_drafts(drafts)


def _cluster_complaints(world: World, chunk: Chunk, rng: np.random.Generator) -> ComplaintDraft | None:
    """Chains of repeat tickets at one address: each one points at the ticket before it."""
    drafts: list[ComplaintDraft] = []
    for cluster in world.clusters:
        if not chunk.first <= cluster.first < chunk.stop:
            continue
        n = cluster.repeats + 1
        start = world.calendar.start[cluster.first]
        received = np.sort(np.round(start + 8 * HOUR + rng.uniform(0, 13.5 * DAY, size=n)))
        drafts.append(
            ComplaintDraft(
                received=received,
                grid=np.full(n, cluster.grid, dtype=np.int64),
                category=np.full(n, cluster.category, dtype=np.int64),
                point=np.full(n, cluster.point, dtype=np.int64),
                road=np.full(n, cluster.road, dtype=np.int64),
                house=np.full(n, cluster.house, dtype=np.int64),
                repeat_src=np.arange(-1, n - 1, dtype=np.int64),
                flag=np.full(n, 3, dtype=np.int64),
            )
        )
    return _concat_drafts(drafts)


def _concat_drafts(drafts: list[ComplaintDraft]) -> ComplaintDraft | None:
    if not drafts:
        return None
    result = drafts[0]
    for draft in drafts[1:]:
        result = result.extend(draft)
    return result


def complaint_chunk(world: World, chunk: Chunk, rng: np.random.Generator, first_seq: int = 1) -> pl.DataFrame:
    """12345 tickets received in one chunk: baseline, repeats, surges and repeat clusters."""
    base = _baseline_complaints(world, chunk, rng)
    draft = base.extend(_repeats(world, chunk, base, rng), shift=False)
    for extra in (_surge_complaints(world, chunk, rng), _cluster_complaints(world, chunk, rng)):
        if extra is not None:
            draft = draft.extend(extra)
    return _simulate_complaints(world, draft, rng, first_seq)


def _complaint_limits(world: World, category: IntArray, rng: np.random.Generator) -> FloatArray:
    """Time limits by urgency: 2 h emergencies, 24 h utilities, 168 h normal, 360 h complex."""
    tax = world.taxonomy
    n = len(category)
    u = rng.random(n)
    emergency = u < np.where(tax.urgent[category], 0.35, np.where(tax.utility[category], 0.1, 0.025))
    complex_ = ~emergency & (rng.random(n) < np.where(tax.complex[category], 0.6, 0.08))
    limit = np.where(tax.utility[category], 24.0, 168.0)
    return np.where(emergency, 2.0, np.where(complex_, 360.0, limit))


def _follow_up(world: World, street: IntArray, dept: IntArray, overdue: BoolArray, flag: IntArray,
               rng: np.random.Generator) -> IntArray:  # fmt: skip
    """满意/基本满意/不满意/未回访 with street, department, lateness and repeat effects."""
    n = len(street)
    logit = (
        math.log(0.07 / 0.93)
        + world.street_unhappy[street]
        + world.department_unhappy[dept]
        + np.where(overdue, 0.9, 0.0)
        + np.where(flag == 1, 0.7, np.where(flag == 3, 2.5, 0.0))
    )
    unhappy = 1.0 / (1.0 + np.exp(-logit))
    basic = 0.16 * (1.0 + 0.5 * np.tanh(world.street_unhappy[street]))
    visited_u = rng.random(n)
    result = np.where(visited_u < unhappy, 2, np.where(visited_u < unhappy + basic, 1, 0))
    return np.asarray(np.where(rng.random(n) < 0.06, 3, result), dtype=np.int64)


def _simulate_complaints(world: World, draft: ComplaintDraft, rng: np.random.Generator, first_seq: int) -> pl.DataFrame:
    """Handling, follow-up, text and codes for every drafted ticket."""
    geo, tax, cal = world.geo, world.taxonomy, world.calendar
    n = len(draft.received)
    category, grid = draft.category, draft.grid
    street, community = geo.grid_street[grid], geo.grid.parent[grid]
    dept = tax.department[category]
    limit = _complaint_limits(world, category, rng)

    response = _lognormal(np.minimum(2.5, 0.3 * limit), 0.9, n, rng)
    sigma = 0.75
    handling = _lognormal(_median_for_overdue(limit, world.complaint_z[dept], sigma), sigma, n, rng)
    handling = np.maximum(handling, response + 0.1)
    closing = np.minimum(_lognormal(18.0, 0.8, n, rng), 120.0)
    received = np.round(draft.received)
    first, resolved_at, closed = _cut_at_horizon(
        [received + response * HOUR, received + handling * HOUR, received + (handling + closing) * HOUR], cal.horizon
    )
    status = np.where(~np.isnan(closed), 2, np.where(~np.isnan(resolved_at), 1, 0))
    follow = _follow_up(world, street, dept, handling > limit, draft.flag, rng)
    follow = np.where(status == 2, follow, -1)
    resolved_p = np.select([follow == 0, follow == 1, follow == 2], [0.97, 0.85, 0.35], 0.9)
    contacted_p = np.select([follow == 0, follow == 1, follow == 2], [0.99, 0.97, 0.85], 0.95)
    resolved = _null_unless(pl.Series(rng.random(n) < resolved_p), status != 0)
    contacted = _null_unless(pl.Series(rng.random(n) < contacted_p), ~np.isnan(first))
    channel = _choose(COMPLAINT_CHANNEL_SHARE, n, rng)
    lonlat = geo.points[grid, draft.point]
    title, description, address = _complaint_texts(world, draft, street, rng)

    frame = pl.DataFrame(
        {
            "_row": np.arange(n),
            "_src": draft.repeat_src,
            "received_at": _timestamps(received),
            "channel": _codes(COMPLAINT_CHANNELS, channel),
            "category_l1_code": _codes(tax.l1_code, category),
            "category_l2_code": _codes(tax.l2_code, category),
            "category_l3_code": _codes(tax.l3_code, category),
            "title": title,
            "description": description,
            "address": address,
            "district_code": _codes(geo.district.codes, geo.street_district[street]),
            "street_code": _codes(geo.street.codes, street),
            "community_code": _codes(geo.community.codes, community),
            "grid_code": _codes(geo.grid.codes, grid),
            "lat": lonlat[:, 1],
            "lon": lonlat[:, 0],
            "department_code": _codes([c for c, _, _ in DEPARTMENTS], dept),
            "time_limit_hours": limit,
            "first_response_at": _timestamps(first),
            "resolved_at": _timestamps(resolved_at),
            "closed_at": _timestamps(closed),
            "status": _codes(("办理中", "已办结", "已关闭"), status),
            "contacted": contacted,
            "resolved": resolved,
            "follow_up": _null_unless(_codes(schema.FOLLOW_UP_RESULTS, np.maximum(follow, 0)), follow >= 0),
        }
    )
    frame = _with_ids(frame, "received_at", "ticket_id", "RX", first_seq)
    originals = frame.select(pl.col("_row").alias("_src"), pl.col("ticket_id").alias("repeat_of"))
    frame = frame.join(originals, on="_src", how="left").sort(["received_at", "_row"])
    return frame.select([c.name for c in schema.complaints.columns])


def _fake_id_number(area: str, rng: np.random.Generator) -> str:
    """An 18-digit resident ID with a valid check digit (GB 11643), made up."""
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=int(rng.integers(0, 20000)))
    body = f"{area}{birth:%Y%m%d}{int(rng.integers(0, 1000)):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


def _fake_phone(rng: np.random.Generator) -> str:
    return f"1{int(rng.integers(3, 10))}{int(rng.integers(0, 10**9)):09d}"


def _fake_name(rng: np.random.Generator) -> str:
    size = 1 + int(rng.random() < 0.6)
    return SURNAMES[int(rng.integers(len(SURNAMES)))] + "".join(
        GIVEN[int(i)] for i in rng.integers(0, len(GIVEN), size=size)
    )


def _topic(l1: str, l2: str, l3: str) -> str:
    """The most specific category name that is not the catch-all 其他."""
    return next((name for name in (l3, l2, l1) if name != "其他"), l1)


def _template_expr(template: str, columns: dict[str, pl.Expr]) -> pl.Expr:
    """A str.format-style template ("{addr}…{topic}") as a vectorised polars string expression."""
    names = re.findall(r"\{(\w+)\}", template)
    return pl.format(re.sub(r"\{\w+\}", "{}", template), *(columns[name] for name in names))


def _complaint_texts(
    world: World, draft: ComplaintDraft, street: IntArray, rng: np.random.Generator
) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Title, free-text description (about 5 % with personal data to mask) and address."""
    geo, tax = world.geo, world.taxonomy
    n = len(draft.received)
    topics = [_topic(l1, l2, l3) + "问题" for l1, l2, l3 in zip(tax.l1_name, tax.l2_name, tax.l3_name, strict=True)]
    templates = (*DESCRIPTION_TEMPLATES, REPEAT_TEMPLATE)
    is_repeat = draft.repeat_src >= 0
    template = np.where(is_repeat, len(templates) - 1, rng.integers(0, len(templates) - 1, size=n))
    district = geo.street_district[street]
    road_names = [road for roads in world.roads for road in roads]
    frame = pl.DataFrame(
        {
            "district": _codes(geo.district.names, district),
            "street": _codes(geo.street.names, street),
            "road": _codes(road_names, street * ROADS_PER_STREET + draft.road),
            "house": pl.Series(draft.house).cast(pl.String),
            "topic": _codes(topics, draft.category),
            "detail": _codes(DETAILS, rng.integers(0, len(DETAILS), size=n)),
            "days": pl.Series(rng.integers(2, 30, size=n)).cast(pl.String),
            "template": pl.Series(template),
        }
    )
    place = pl.concat_str([pl.col("street"), pl.col("road"), pl.col("house"), pl.lit("号")])
    columns = {"addr": place, "topic": pl.col("topic"), "detail": pl.col("detail"), "days": pl.col("days")}
    description: pl.Expr = pl.lit(None, dtype=pl.String)
    for index, text in enumerate(templates):
        description = pl.when(pl.col("template") == index).then(_template_expr(text, columns)).otherwise(description)
    texts = frame.select(
        pl.col("topic").alias("title"),
        description.alias("description"),
        pl.concat_str([pl.lit(world.city.name), pl.col("district"), place]).alias("address"),
        pl.concat_str([pl.col("district"), place]).alias("home"),
    )
    # A few descriptions carry personal data (phone, ID number, name and home address) to be masked.
    rows = np.flatnonzero(rng.random(n) < PII_SHARE)
    kinds = rng.choice(4, size=len(rows), p=[0.4, 0.3, 0.2, 0.1])
    homes = texts.get_column("home").gather(pl.Series(rows)).to_list()
    extra = [
        _personal_data(int(kind), geo.district.codes[int(district[row])], home, rng)
        for row, kind, home in zip(rows, kinds, homes, strict=True)
    ]
    suffix = pl.repeat("", n, dtype=pl.String, eager=True).scatter(rows, extra) if len(rows) else None
    descriptions = texts.get_column("description")
    if suffix is not None:
        descriptions = descriptions + suffix
    return texts.get_column("title"), descriptions, texts.get_column("address")


def _personal_data(kind: int, district_code: str, address: str, rng: np.random.Generator) -> str:
    """A sentence with a fake phone number, ID number, or name and exact home address."""
    if kind == 0:
        return f"联系电话：{_fake_phone(rng)}。"
    if kind == 1:
        building, unit, room = int(rng.integers(1, 30)), int(rng.integers(1, 6)), int(rng.integers(101, 2600))
        return f"来电人{_fake_name(rng)}，家住{address}{building}幢{unit}单元{room}室。"
    if kind == 2:
        return f"来电人身份证号码{_fake_id_number(district_code, rng)}。"
    return f"来电人{_fake_name(rng)}，身份证号{_fake_id_number(district_code, rng)}，电话{_fake_phone(rng)}。"


def grid_event_chunk(world: World, chunk: Chunk, rng: np.random.Generator, first_seq: int = 1) -> pl.DataFrame:
    """Grid events collected in one chunk, with their seven workflow timestamps."""
    geo, gt, cal = world.geo, world.grid_taxonomy, world.calendar
    day = _days_in_chunk(world.grid_daily, chunk, rng)
    grid = _choose(world.event_grid_p, len(day), rng)
    extra_days: list[IntArray] = []
    extra_grids: list[IntArray] = []
    for stall in world.stalls:
        days = [d for d in range(stall.first, stall.first + stall.days) if chunk.first <= d < chunk.stop]
        counts = rng.poisson(stall.rate, size=len(days))
        extra_days.append(np.repeat(np.array(days, dtype=np.int64), counts))
        extra_grids.append(np.full(int(counts.sum()), stall.grid, dtype=np.int64))
    day = np.concatenate([day, *extra_days])
    grid = np.concatenate([grid, *extra_grids])
    n = len(day)
    source = _choose(GRID_SOURCE_SHARE, n, rng)
    collected = np.where(source == 1, _times(cal, day, VIDEO_HOURS, rng), _times(cal, day, PATROL_HOURS, rng))
    minor = _choose(gt.weight, n, rng)
    dept = gt.department[minor]
    limit = gt.limit[minor]

    side = _choose((0.94, 0.02, 0.03, 0.01), n, rng)  # none, 延期, 回退, 挂账
    rework = np.where(side == 2, 1 + (rng.random(n) < 0.2), 0)
    sigma = 0.7
    handling = _lognormal(_median_for_overdue(limit, world.event_z[dept], sigma), sigma, n, rng)
    handling = np.where(side == 1, handling * rng.uniform(1.2, 2.5, size=n), handling)
    handling = handling + rework * limit * rng.uniform(0.5, 1.5, size=n)
    steps = np.stack(
        [
            np.zeros(n),
            _lognormal(0.4, 0.8, n, rng),
            _lognormal(0.3, 0.9, n, rng),
            handling,
            _lognormal(0.5, 0.8, n, rng),
            _lognormal(2.0, 0.9, n, rng) + rework * 4.0,
            _lognormal(0.3, 0.8, n, rng),
        ]
    )
    stages = collected + np.cumsum(steps, axis=0) * HOUR
    stages[3:, side == 3] = np.nan  # 挂账: parked after dispatch
    _apply_stalls(world, stages, grid, rng)
    timestamps = _cut_at_horizon(list(stages), cal.horizon)

    worker = np.floor(rng.random(n) * world.workers[grid]).astype(np.int64) + 1
    points = geo.points[grid, rng.integers(0, POINTS_PER_GRID, size=n)]
    frame = pl.DataFrame(
        {
            "_row": np.arange(n),
            "grid_code": _codes(geo.grid.codes, grid),
            "community_code": _codes(geo.community.codes, geo.grid.parent[grid]),
            "street_code": _codes(geo.street.codes, geo.grid_street[grid]),
            "district_code": _codes(geo.district.codes, geo.grid_district[grid]),
            "source": _codes(GRID_SOURCES, source),
            "kind": _codes(gt.kind, minor),
            "major_category_code": _codes(gt.major_code, minor),
            "minor_category_code": _codes(gt.minor_code, minor),
            **{column: _timestamps(ts) for (_, column), ts in zip(schema.GRID_WORKFLOW, timestamps, strict=True)},
            "side_state": _null_unless(_codes(("", "延期", "回退", "挂账"), side), side > 0),
            "rework_count": pl.Series(rework, dtype=pl.Int32),
            "department_code": _codes([c for c, _, _ in DEPARTMENTS], dept),
            "time_limit_hours": limit,
            "lat": points[:, 1],
            "lon": points[:, 0],
            "_k": worker,
        }
    )
    frame = frame.with_columns(
        pl.concat_str([pl.lit("W"), pl.col("grid_code"), pl.lit("-"), pl.col("_k").cast(pl.String).str.zfill(2)]).alias(
            "reporter_id"
        ),
    )
    frame = _with_ids(frame, "collected_at", "event_id", "WG", first_seq)
    return frame.select([c.name for c in schema.grid_events.columns])


def _apply_stalls(world: World, stages: FloatArray, grid: IntArray, rng: np.random.Generator) -> None:
    """Events of a stalled grid wait at one stage until the stall ends (later stages shift too)."""
    cal = world.calendar
    for stall in world.stalls:
        start = cal.start[stall.first]
        stop = start + stall.days * DAY
        hit = (grid == stall.grid) & (stages[0] >= start) & (stages[0] < stop) & ~np.isnan(stages[stall.stage])
        release = stop + rng.uniform(2, 36, size=int(hit.sum())) * HOUR
        delay = np.maximum(release - stages[stall.stage, hit], 0.0)
        stages[stall.stage :, hit] += delay


# --------------------------------------------------------------------------------------------
# Writing: DuckDB through Parquet staging files, everything else through batched Core inserts.
# --------------------------------------------------------------------------------------------

CONTRACT_TABLES: tuple[sa.Table, ...] = (
    *schema.FACT_TABLES,
    *schema.DIMENSION_TABLES,
    schema.demo_anomalies,
    schema.cockpit_meta,
)
STAGE_PREFIX = "_demo_stage_"  # DuckDB fact tables are built under this prefix, then renamed into place
# DuckDB's memory limit while it builds the fact tables: it caps the buffer cache of freshly written
# blocks; the ART index of the table being built is pinned, so the limit grows with the largest table.
LOAD_MEMORY_FLOOR = 1 << 30
LOAD_MEMORY_PER_ROW = 100
_SIZE_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "KIB": 1 << 10, "MIB": 1 << 20,
               "GIB": 1 << 30, "TIB": 1 << 40}  # fmt: skip


def _size_bytes(text: str) -> float:
    """A DuckDB size setting ('18.6 GiB', '500MB') in bytes; infinite when it cannot be read."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", text)
    if not match or match.group(2).upper() not in _SIZE_UNITS:
        return math.inf
    return float(match.group(1)) * _SIZE_UNITS[match.group(2).upper()]


class Writer:
    """Replaces the contract tables' rows all-or-nothing, whatever the engine.

    PostgreSQL and MySQL: one transaction of batched inserts. DuckDB got the same once, but a
    transaction there holds what it inserted (the Arrow chunks registered for each INSERT, the
    transaction-local rows and the primary keys' ART indexes) in memory until it commits: about
    0.5 GB per million fact rows, 14 GB at scale 30. So DuckDB keeps the guarantee another way:
    fact chunks go to Parquet files in a scratch directory next to the database; once all are
    written, each fact table is built as a staging copy (same DDL, prefixed name) by one
    ``INSERT ... SELECT`` from its files in its own transaction, which DuckDB streams to disk, index
    included, under a temporarily lowered memory limit; then one short transaction replaces the
    small tables' rows and swaps the staging tables in (DROP + RENAME). Until that commit the
    contract tables are untouched; on failure the staging tables are dropped (leftovers of a killed
    run are dropped by the next one).
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.is_duckdb = engine.dialect.name == "duckdb"
        self._raw: Any = None
        self._duck: Any = None
        self._connection: sa.Connection | None = None
        self._scratch: Path | None = None
        self._parts: dict[str, list[Path]] = {}
        self._small: list[tuple[sa.Table, pl.DataFrame]] = []
        self._rows: dict[str, int] = {}

    def __enter__(self) -> Writer:
        if self.is_duckdb:
            self._raw = self.engine.raw_connection()
            self._duck = self._raw.driver_connection
            self._drop_staging()
            self._scratch = Path(tempfile.mkdtemp(prefix=".demo-load-", dir=self._scratch_parent()))
        else:
            self._connection = self.engine.connect()
            self._connection.begin()
            for table in CONTRACT_TABLES:
                self._connection.execute(table.delete())
        return self

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        try:
            if self.is_duckdb:
                try:
                    if not exc_type:
                        self._load_duckdb()
                finally:
                    with contextlib.suppress(Exception):  # never mask the error that got us here
                        self._drop_staging()
            elif self._connection is not None:
                (self._connection.rollback if exc_type else self._connection.commit)()
        finally:
            if self._scratch is not None:
                shutil.rmtree(self._scratch, ignore_errors=True)
            if self._raw is not None:
                self._raw.close()
            if self._connection is not None:
                self._connection.close()

    def _scratch_parent(self) -> str | None:
        """The database's own directory (same disk as the data), or the system temp dir for :memory:."""
        database = self.engine.url.database
        if database and database != ":memory:" and not database.startswith("md:"):
            return str(Path(database).resolve().parent)
        return None

    def _drop_staging(self) -> None:
        for table in schema.FACT_TABLES:
            self._duck.execute(f'DROP TABLE IF EXISTS "{STAGE_PREFIX}{table.name}"')

    def _load_duckdb(self) -> None:
        previous = str(self._duck.execute("SELECT current_setting('memory_limit')").fetchone()[0])
        limit = max(LOAD_MEMORY_FLOOR, LOAD_MEMORY_PER_ROW * max(self._rows.values(), default=0))
        lowered = limit < _size_bytes(previous)
        if lowered:
            self._duck.execute(f"SET memory_limit = '{limit}B'")
        try:
            for table in schema.FACT_TABLES:  # each in its own transaction: memory stays bounded
                stage = f"{STAGE_PREFIX}{table.name}"
                ddl = sa.schema.CreateTable(table.to_metadata(sa.MetaData(), name=stage))
                self._duck.execute(str(ddl.compile(dialect=self.engine.dialect)))
                files = [str(path) for path in self._parts.get(table.name, [])]
                if files:
                    columns = ", ".join(f'"{c.name}"' for c in table.columns)
                    self._duck.execute(
                        f'INSERT INTO "{stage}" ({columns}) SELECT {columns} FROM read_parquet(?)', [files]
                    )
        finally:
            if lowered:
                self._duck.execute(f"SET memory_limit = '{previous}'")
        self._duck.begin()
        try:
            for table in schema.FACT_TABLES:
                self._duck.execute(f'DROP TABLE IF EXISTS "{table.name}"')
                self._duck.execute(f'ALTER TABLE "{STAGE_PREFIX}{table.name}" RENAME TO "{table.name}"')
            for table in CONTRACT_TABLES:
                if table not in schema.FACT_TABLES:
                    self._duck.execute(f'DELETE FROM "{table.name}"')
            for table, frame in self._small:
                self._append_duckdb(table.name, frame)
            self._duck.commit()
        except BaseException:
            self._duck.rollback()
            raise

    def _append_duckdb(self, name: str, frame: pl.DataFrame) -> None:
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        self._duck.register("demo_chunk", frame.to_arrow())
        try:
            self._duck.execute(f'INSERT INTO "{name}" ({columns}) SELECT {columns} FROM demo_chunk')
        finally:
            self._duck.unregister("demo_chunk")

    def insert(self, table: sa.Table, frame: pl.DataFrame) -> int:
        """Append a frame whose columns are the table's columns, in order."""
        if frame.height == 0:
            return 0
        if self.is_duckdb:
            if table in schema.FACT_TABLES:
                assert self._scratch is not None
                parts = self._parts.setdefault(table.name, [])
                path = self._scratch / f"{table.name}-{len(parts):06d}.parquet"
                # Same dtypes in every part; lz4 costs less CPU than zstd on both ends.
                frame.cast(pl.Schema(_polars_schema(table))).write_parquet(path, compression="lz4")
                parts.append(path)
                self._rows[table.name] = self._rows.get(table.name, 0) + frame.height
            else:
                self._small.append((table, frame))
        else:
            assert self._connection is not None
            for part in frame.iter_slices(BATCH_ROWS):
                self._connection.execute(table.insert(), part.to_dicts())
        return frame.height

    def insert_rows(self, table: sa.Table, rows: list[dict[str, Any]]) -> int:
        if not rows:
            return 0
        frame = pl.DataFrame(rows, schema=_polars_schema(table), orient="row")
        return self.insert(table, frame.select([c.name for c in table.columns]))


def _polars_schema(table: sa.Table) -> dict[str, Any]:
    """Polars dtypes for a table, so all-NULL columns still get the right type."""
    mapping: dict[str, Any] = {}
    for column in table.columns:
        kind = column.type
        if isinstance(kind, sa.DateTime):
            mapping[column.name] = pl.Datetime("us")
        elif isinstance(kind, sa.Date):
            mapping[column.name] = pl.Date
        elif isinstance(kind, sa.Boolean):
            mapping[column.name] = pl.Boolean
        elif isinstance(kind, sa.Integer):
            mapping[column.name] = pl.Int64
        elif isinstance(kind, sa.Float):
            mapping[column.name] = pl.Float64
        else:
            mapping[column.name] = pl.String
    return mapping


# --------------------------------------------------------------------------------------------
# Public API.
# --------------------------------------------------------------------------------------------


def _fact_row_counts(engine: sa.Engine) -> dict[str, int]:
    """Rows in each fact table that exists (missing tables are simply absent)."""
    present = set(sa.inspect(engine).get_table_names())
    counts: dict[str, int] = {}
    with engine.connect() as connection:
        for table in schema.FACT_TABLES:
            if table.name in present:
                counts[table.name] = int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
    return counts


def is_demo_database(engine: sa.Engine) -> bool:
    """True when cockpit_meta says the data is a generated demo (safe to regenerate)."""
    return db.read_meta(engine).get("dataset") == "demo"


def ensure_demo(engine: sa.Engine, progress: Progress | None = None) -> bool:
    """Fill an empty database (no fact tables, or all empty) with the default demo; True if it did."""
    db.check_connection(engine)
    counts = _fact_row_counts(engine)
    if counts and any(counts.values()):
        return False
    generate_demo(engine, progress=progress)
    return True


def _check_writable(engine: sa.Engine, force: bool) -> None:
    counts = _fact_row_counts(engine)
    if force or not any(counts.values()) or is_demo_database(engine):
        return
    shown = engine.url.render_as_string(hide_password=True)
    held = ", ".join(f"{name}: {count:,} rows" for name, count in counts.items() if count)
    raise DemoRefused(
        f"The database {shown} already holds data that is not a generated demo ({held}). "
        "Refusing to overwrite it; pass --force (force=True) to replace its contents with the demo city."
    )


def _as_of(frames: Sequence[pl.DataFrame]) -> dt.datetime | None:
    """The latest timestamp in a set of fact frames."""
    latest: dt.datetime | None = None
    for frame in frames:
        for name, dtype in frame.schema.items():
            if isinstance(dtype, pl.Datetime):
                value = frame.get_column(name).max()
                if isinstance(value, dt.datetime) and (latest is None or value > latest):
                    latest = value
    return latest


def _chunk_rngs(seed: int, index: int) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator]:
    """Independent streams per table and chunk: a change to one table leaves the others alone."""
    return (
        np.random.default_rng([seed, 10, index]),
        np.random.default_rng([seed, 11, index]),
        np.random.default_rng([seed, 12, index]),
    )


def world_chunks(world: World) -> list[Chunk]:
    busiest = max(float(daily.max()) for daily in (world.service_daily, world.complaint_daily, world.grid_daily))
    return fact_chunks(world.calendar, busiest)


def _before_horizon(world: World, frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Drop records that would arrive after the demo's 'now' (only the last day can have them)."""
    horizon = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=world.calendar.horizon)
    return frame.filter(pl.col(column) < horizon)


def iter_fact_chunks(world: World) -> Iterator[tuple[Chunk, pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
    """(chunk, service cases, complaints, grid events), chunk by chunk in time order."""
    next_seq = [1, 1, 1]
    for index, chunk in enumerate(world_chunks(world)):
        service_rng, complaint_rng, grid_rng = _chunk_rngs(world.seed, index)
        frames = (
            _before_horizon(world, service_chunk(world, chunk, service_rng, next_seq[0]), "submitted_at"),
            _before_horizon(world, complaint_chunk(world, chunk, complaint_rng, next_seq[1]), "received_at"),
            _before_horizon(world, grid_event_chunk(world, chunk, grid_rng, next_seq[2]), "collected_at"),
        )
        next_seq = [seq + frame.height for seq, frame in zip(next_seq, frames, strict=True)]
        yield (chunk, *frames)


def generate_demo(
    engine: sa.Engine,
    *,
    scale: float = 1.0,
    seed: int = 7,
    end: dt.date | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> DemoSummary:
    """Create the contract tables and (re)fill them with the demo city; refuses to clobber real data."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    report = progress or (lambda fraction, message: None)
    began = time.perf_counter()
    until = None
    if end is None:  # a live-looking demo: two years up to this very moment, city time
        until = dt.datetime.now(ZoneInfo(load_city().timezone)).replace(tzinfo=None, microsecond=0)
        end = until.date()
    db.check_connection(engine)
    schema.create_schema(engine)
    _check_writable(engine, force)
    with engine.begin() as connection:  # until the refresh at the end, queries read the facts
        invalidate_rollups(connection)

    report(0.0, "Reading the map and preparing the demo city")
    city = load_city()
    world = build_world(city, scale, seed, end, until)
    counts = {"service_cases": 0, "complaints": 0, "grid_events": 0}
    latest: dt.datetime | None = None
    chunks = world_chunks(world)
    with Writer(engine) as writer:
        regions = writer.insert_rows(schema.regions, region_rows(world.geo))
        departments = writer.insert_rows(schema.departments, department_rows())
        categories = writer.insert_rows(schema.categories, world.taxonomy.rows + world.grid_taxonomy.rows)
        targets = writer.insert_rows(schema.targets, target_rows(world))
        anomalies = writer.insert_rows(schema.demo_anomalies, anomaly_rows(world))
        report(0.05, "Regions, departments and categories written")
        for index, (chunk, cases, tickets, events) in enumerate(iter_fact_chunks(world)):
            counts["service_cases"] += writer.insert(schema.service_cases, cases)
            counts["complaints"] += writer.insert(schema.complaints, tickets)
            counts["grid_events"] += writer.insert(schema.grid_events, events)
            chunk_latest = _as_of([cases, tickets, events])
            if chunk_latest is not None and (latest is None or chunk_latest > latest):
                latest = chunk_latest
            rows = cases.height + tickets.height + events.height
            report(0.05 + 0.94 * (index + 1) / len(chunks), f"{chunk.label}: {rows:,} rows")
        meta = {
            "dataset": "demo",
            "city_name": city.name,
            "generated_at": dt.datetime.now().isoformat(timespec="seconds"),
            "seed": str(seed),
            "scale": repr(float(scale)),
            "end_date": end.isoformat(),
            "as_of": latest.isoformat(timespec="seconds") if latest else "",
        }
        writer.insert_rows(schema.cockpit_meta, [{"key": k, "value": v} for k, v in meta.items()])
    report(0.99, "Refreshing the daily rollups and open items")
    with engine.begin() as connection:
        refresh_rollups(connection)
    seconds = time.perf_counter() - began
    report(1.0, f"Demo city ready in {seconds:.1f} s")
    return DemoSummary(
        regions=regions,
        departments=departments,
        categories=categories,
        targets=targets,
        service_cases=counts["service_cases"],
        complaints=counts["complaints"],
        grid_events=counts["grid_events"],
        demo_anomalies=anomalies,
        seconds=seconds,
    )


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m data_access.demo",
        description="Create the cockpit tables and fill them with a generated demo city (two years of data).",
    )
    parser.add_argument("--scale", type=float, default=1.0, help="volume multiplier (1.0 = about 1M fact rows)")
    parser.add_argument("--url", help="database URL (default: COCKPIT_DATABASE_URL, secrets, or the embedded DuckDB)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (same seed, scale and end = same rows)")
    parser.add_argument(
        "--end",
        type=dt.date.fromisoformat,
        help="last day of the data, YYYY-MM-DD (default: up to now, in the city time zone)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite a database that holds non-demo data")
    parser.add_argument(
        "--with-accounts", action="store_true", help="also create one demo account per role (listed on its login page)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.scale <= 0:
        print("--scale must be positive", file=sys.stderr)
        return 2
    target = db.resolve_target(args.url)
    print(f"Demo city -> {target.display_url} ({target.origin})")

    def show(fraction: float, message: str) -> None:
        print(f"[{fraction * 100:5.1f}%] {message}", flush=True)

    try:
        engine = db.get_engine(target.url)
        summary = generate_demo(engine, scale=args.scale, seed=args.seed, end=args.end, force=args.force, progress=show)
        if args.with_accounts:
            from data_access.security.demo_users import create_demo_accounts

            for account in create_demo_accounts(engine):
                print(f"  demo account {account['name']} ({account['role']}, {account['scope']})")
    except (db.DatabaseProblem, DemoRefused, DemoProblem) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    finally:
        db.dispose_engine(target.url)
    for table, count in summary.rows.items():
        print(f"  {table:15s} {count:>12,}")
    print(f"Done in {summary.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
