"""UI texts of the leadership big screen: the cockpit panels, its header, map, rankings and ticker.

Key -> (Chinese, English); ``dashboard.core.i18n`` merges the feature tables into ``TEXTS``.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    # cockpit
    "row_services": ("政务服务", "Government services"),
    "row_complaints": ("12345诉求", "12345 hotline"),
    "row_grid": ("网格治理", "Grid management"),
    "compare_five_weeks": ("5周前同期", "5 weeks earlier"),
    "trend_heading": ("{metric}趋势（{grain}，虚线为{comparison}）", "{metric} trend ({grain}; dashed: {comparison})"),
    # big screen
    "seconds_short": ("秒", "s"),
    "data_as_of_short": ("数据截至", "Data as of"),
    "next_refresh": ("下次刷新", "next refresh in"),
    "refresh_failed": ("数据更新失败，显示 {time} 的数据", "Update failed; showing the data of {time}"),
    "index_short": ("目标指数 {value}", "Index {value}"),
    "vs_previous_period": ("较上期", "vs previous period"),
    "alerts_label": ("实时预警", "ALERTS"),
    "no_alerts": ("当前没有超期事项。", "No overdue items."),
    "alert_overdue": (
        "{name} · {metric} {count} 件（占全市 {share}）",
        "{name} · {metric}: {count} ({share} of the city)",
    ),
    "alert_kind_overdue": ("超期", "Overdue"),
    "alert_kind_near_deadline": ("临期", "Due soon"),
    "alert_kind_due_soon": ("临期", "Due soon"),
    "alert_kind_surge": ("激增", "Surge"),
    "alert_kind_stall": ("停滞", "Stalled"),
    "alert_kind_complaint_surge": ("诉求激增", "Complaint surge"),
    "alert_kind_intake_surge": ("受理激增", "Intake surge"),
    "alert_kind_count_creep": ("持续上升", "Steady rise"),
    "alert_kind_overdue_rate_jump": ("超期率上升", "Overdue rate up"),
    "alert_kind_score_drop": ("三率下滑", "三率 score down"),
    "alert_kind_stage_stall": ("环节停滞", "Stage stalled"),
    "alert_kind_repeat_cluster": ("重复诉求", "Repeat cluster"),
    "map_title": ("诉求热力与网格事件", "Complaints and grid events"),
    "map_level": ("地图层级", "Map level"),
    "map_level_district": ("按区县", "Districts"),
    "map_level_street": ("按街道", "Streets"),
    "map_areas": ("诉求量（件）", "Complaints"),
    "map_hint": (
        "色块：诉求量；光晕：网格事件密度。点击区县（或右上角选择）查看其街道。",
        "Areas: complaints; glow: grid-event density. Click a district (or choose it above) to see its streets.",
    ),
    "map_hint_drilled": (
        "色块：各街道诉求量；光晕：网格事件密度。点击“返回全市”回到全市。",
        "Areas: complaints by street; glow: grid-event density. “Back to city” returns.",
    ),
    "map_drill": ("下钻区县", "Drill into a district"),
    "back_to_city": ("↩ 返回全市", "↩ Back to city"),
    "city_wide": ("全市", "City"),
    "trend_panel": ("近30天趋势", "Last 30 days"),
    "trend_dashed": ("虚线：5周前同期", "dashed: 5 weeks earlier"),
    "rank_streets": ("街道三率综合得分", "Streets: composite 三率 score"),
    "rank_streets_note": (
        "仅排名本期诉求量不少于 {n} 件的街道；颜色按目标判定。",
        "Streets with at least {n} tickets in the period; colours against target.",
    ),
    "rank_departments": ("部门按时办结率", "Departments: on-time completion"),
    "rank_departments_note": ("政务服务办件；颜色按目标判定。", "Government service cases; colours against target."),
}
