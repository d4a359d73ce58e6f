"""The demo city's reference data: departments, service items, populations, category rules, shapes and sizes.

Plain constants every generator module reads (no randomness here): what a real city's departments, service
items, complaint categories and grid event categories look like, the hour-of-day and channel shares, the
names and text templates, and the volumes at scale 1.0 over the demo's two years.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

from data_access.runtime.paths import REPO_ROOT

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

TAXONOMY_FILE = REPO_ROOT / "assets" / "taxonomy" / "complaint_categories_3level.csv"

DAYS = 730
DAY = 86400.0
HOUR = 3600.0
EPOCH = dt.date(1970, 1, 1)
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


class DemoProblem(Exception):
    """The demo cannot be generated (missing map layer or taxonomy file), with the reason."""
