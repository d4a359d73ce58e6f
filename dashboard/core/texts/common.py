"""UI texts shared by every page: app and navigation, header, problems, periods and grains, filters, KPI cards.

Key -> (Chinese, English); ``dashboard.core.i18n`` merges the feature tables into ``TEXTS``.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    # app and navigation
    "app_title": ("城市运行驾驶舱", "City Operations Cockpit"),
    "section_cockpit": ("驾驶舱", "Cockpit"),
    "section_topics": ("专题", "Topics"),
    "section_analysis": ("分析", "Analysis"),
    "section_admin": ("管理", "Admin"),
    "page_cockpit": ("城市运行总览", "City overview"),
    "page_services": ("政务服务", "Government services"),
    "page_complaints": ("12345诉求", "12345 hotline"),
    "page_grid": ("网格治理", "Grid management"),
    "page_admin": ("数据源", "Data source"),
    "language": ("语言 / Language", "语言 / Language"),
    # header
    "data_as_of": ("数据截至 {time}", "Data as of {time}"),
    "no_data_yet": ("数据库中还没有任何记录。", "The database holds no records yet."),
    "demo_badge": ("演示数据", "Demo data"),
    "demo_note": (
        "当前展示的是生成的演示数据，不是真实城市数据。",
        "These are generated demo data, not real city data.",
    ),
    "demo_generating": ("首次启动：正在生成演示数据……", "First start: generating demo data…"),
    "demo_generating_progress": (
        "首次启动：正在生成两年的演示城市数据（约一分钟），已完成 {percent}",
        "First start: generating two years of demo city data (about a minute), {percent} done",
    ),
    "demo_generated": (
        "已在内置数据库中生成演示数据（演示城市），可在“数据源”页面查看。",
        "Demo data were generated in the embedded database (demo city); see the Data source page.",
    ),
    # problems
    "db_problem": ("无法使用数据库：{message}", "The database cannot be used: {message}"),
    "settings_problem": ("城市配置有误：{message}", "The city configuration is wrong: {message}"),
    "query_problem": ("查询失败：{message}", "The query failed: {message}"),
    # periods and grains
    "period": ("统计周期", "Period"),
    "period_today": ("今日", "Today"),
    "period_week": ("本周", "This week"),
    "period_month": ("本月", "This month"),
    "period_last_30_days": ("近30天", "Last 30 days"),
    "period_last_12_months": ("近12个月", "Last 12 months"),
    "period_range": ("{start} 至 {end}", "{start} to {end}"),
    "compare_previous": ("上期", "Previous period"),
    "compare_last_year": ("去年同期", "Same period last year"),
    "grain": ("时间粒度", "Time grain"),
    "grain_day": ("按日", "Daily"),
    "grain_week": ("按周", "Weekly"),
    "grain_month": ("按月", "Monthly"),
    "current_period": ("本期", "Current period"),
    # filters
    "district": ("区县", "District"),
    "all_districts": ("全部", "All"),
    "domain": ("业务领域", "Domain"),
    "domain_services": ("政务服务", "Government services"),
    "domain_complaints": ("12345诉求", "12345 hotline"),
    "domain_grid": ("网格治理", "Grid management"),
    "metrics": ("指标", "Metrics"),
    "dimension": ("分析维度", "Dimension"),
    "choose_metric": ("请至少选择一个指标。", "Choose at least one metric."),
    # KPI cards
    "vs_previous": ("较上期", "vs previous"),
    "target_index": ("目标指数 {value}", "Index {value}"),
    "target_value": ("目标 {value}", "Target {value}"),
    "no_target": ("未设目标", "No target"),
    "status_red": ("未达标", "below"),
    "status_amber": ("接近目标", "near"),
    "status_green": ("达标", "met"),
    "kpi_help": (
        "目标指数 = 实际值 ÷ 目标值（越低越好的指标为 目标值 ÷ 实际值），上限 1.25；"
        "≥1.00 达标，0.90–1.00 接近目标，<0.90 未达标。",
        "Target index = actual ÷ target (target ÷ actual where lower is better), capped at 1.25; "
        "≥1.00 on target, 0.90–1.00 near target, <0.90 below target.",
    ),
}
