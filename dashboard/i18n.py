"""Every UI string of the cockpit in one table: key -> (Chinese, English). Chinese is the default.

Metric names are not repeated here: they come from the metric registry (``label_zh`` / ``label_en``),
so a metric is named the same on every page, in every export and in the docs.
"""

from __future__ import annotations

from data_access.metric_registry import METRICS

LANGUAGES: tuple[str, ...] = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LANGUAGE_NAMES: dict[str, str] = {"zh": "中文", "en": "English"}

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
    "page_explore": ("指标查询", "Metric explorer"),
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
    # cockpit
    "row_services": ("政务服务", "Government services"),
    "row_complaints": ("12345诉求", "12345 hotline"),
    "row_grid": ("网格治理", "Grid management"),
    "trend_30_days": ("近30天", "last 30 days"),
    "compare_five_weeks": ("5周前同期", "5 weeks earlier"),
    "trend_title": ("{metric}趋势", "{metric} trend"),
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
    # topic pages
    "kpis": ("关键指标", "Key indicators"),
    "trend": ("趋势", "Trend"),
    "breakdown": ("分项", "Breakdown"),
    "on_time_by_department": ("各部门按时办结率", "On-time completion rate by department"),
    "composite_by_street": (
        "街道三率综合得分（前{n}名与后{n}名）",
        "Composite 三率 score by street (top {n} and bottom {n})",
    ),
    "composite_min_volume": (
        "仅统计本期诉求量不少于 {n} 件的街道。",
        "Only streets with at least {n} tickets in the period.",
    ),
    "top_group": ("前{n}名", "Top {n}"),
    "bottom_group": ("后{n}名", "Bottom {n}"),
    "stage_hours": ("各环节时长中位数", "Median hours per workflow stage"),
    "stage_file": ("立案", "Filing"),
    "stage_dispatch": ("派遣", "Dispatch"),
    "stage_handle": ("处置", "Handling"),
    "stage_feedback": ("处置反馈", "Feedback"),
    "stage_verify": ("核查", "Verification"),
    "stage_close": ("结案", "Closing"),
    "target_line": ("目标 {value}", "Target {value}"),
    "no_rows": ("所选范围内没有数据。", "No data in the selected range."),
    # explore
    "explore_intro": (
        "选择一个业务领域的指标和分析维度；所有数字来自统一的指标口径。",
        "Choose metrics of one domain and a dimension; every number comes from the shared metric definitions.",
    ),
    "chart": ("图表", "Chart"),
    "table": ("数据表", "Table"),
    "download_csv": ("下载 CSV", "Download CSV"),
    "chart_top_n": ("图中显示前 {n} 项，完整结果见下表。", "The chart shows the top {n}; the table has every row."),
    "dimension_name": ("名称", "Name"),
    "dim_day": ("日", "Day"),
    "dim_week": ("周", "Week"),
    "dim_month": ("月", "Month"),
    "alerts": ("预警", "Alerts"),
    "alerts_none": ("当前范围内没有预警。", "No alerts in this view."),
    "alerts_unavailable": ("预警暂不可用（详见服务日志）。", "Alerts are unavailable right now (see the server log)."),
    "alert_severity": ("级别", "Severity"),
    "alert_kind": ("类型", "Kind"),
    "alert_message": ("说明", "Description"),
    "alert_link": ("查看", "Open"),
    "alert_open": ("查看明细", "Open"),
    "severity_high": ("高", "High"),
    "severity_medium": ("中", "Medium"),
    "severity_low": ("低", "Low"),
    "link_active": ("按预警链接筛选：{filters}", "Filtered by the alert link: {filters}"),
    "link_clear": ("清除链接筛选", "Clear link filters"),
    "link_ignored": ("链接参数无效，已忽略：{params}", "Invalid link parameters ignored: {params}"),
    "dim_district": ("区县", "District"),
    "dim_street": ("街道", "Street"),
    "dim_community": ("社区", "Community"),
    "dim_grid": ("网格", "Grid"),
    "dim_department": ("部门", "Department"),
    "dim_category_l1": ("一级分类", "Category (level 1)"),
    "dim_category_l2": ("二级分类", "Category (level 2)"),
    "dim_category_l3": ("三级分类", "Category (level 3)"),
    "dim_service_item": ("事项", "Service item"),
    "dim_channel": ("渠道", "Channel"),
    "dim_applicant_type": ("申请人类型", "Applicant type"),
    "dim_source": ("来源", "Source"),
    "dim_kind": ("部件/事件", "Part / event"),
    "dim_side_state": ("特殊状态", "Side state"),
    "dim_status": ("状态", "Status"),
    "dim_rating": ("好差评", "Rating"),
    "dim_follow_up": ("回访结果", "Follow-up result"),
    "value_missing": ("（空）", "(empty)"),
    # admin
    "admin_source": ("数据来源", "Where the data come from"),
    "admin_url": ("数据库地址", "Database URL"),
    "admin_origin": ("地址来源", "URL taken from"),
    "origin_argument": ("启动参数", "command-line argument"),
    "origin_environment": ("环境变量 COCKPIT_DATABASE_URL", "environment variable COCKPIT_DATABASE_URL"),
    "origin_secrets": (".streamlit/secrets.toml", ".streamlit/secrets.toml"),
    "origin_embedded": ("内置 DuckDB 数据库", "embedded DuckDB database"),
    "admin_dataset": ("数据集", "Dataset"),
    "dataset_demo": ("演示数据（生成）", "demo data (generated)"),
    "dataset_real": ("城市数据", "city data"),
    "admin_meta": ("数据集信息", "Dataset facts"),
    "admin_tables": ("各表行数", "Rows per table"),
    "admin_table": ("表", "Table"),
    "admin_latest_record": ("本表最新记录", "Latest in table"),
    "admin_rows": ("行数", "Rows"),
    "admin_latest": ("最新记录时间", "Latest record"),
    "admin_schema": ("结构检查", "Schema check"),
    "schema_ok": ("数据库符合数据契约，所需的表和字段都存在。", "The database meets the data contract."),
    "admin_description": ("说明", "Description"),
    "table_service_cases": ("政务服务办件", "government service cases"),
    "table_complaints": ("12345诉求工单", "12345 tickets"),
    "table_grid_events": ("网格事件", "grid events"),
    "table_regions": ("行政区划与网格", "regions and grids"),
    "table_departments": ("部门", "departments"),
    "table_categories": ("分类", "categories"),
    "table_targets": ("目标值", "targets"),
    "table_demo_anomalies": ("演示数据中注入的异常", "anomalies injected into the demo"),
    "table_cockpit_meta": ("数据集信息", "dataset facts"),
    "meta_as_of": ("生成时的数据截止时间", "as-of time when generated"),
    "meta_city_name": ("城市", "city"),
    "meta_end_date": ("最后一天", "last day"),
    "meta_generated_at": ("生成时间", "generated at"),
    "meta_scale": ("规模系数", "scale"),
    "meta_seed": ("随机种子", "random seed"),
    "admin_settings": ("运行设置", "Settings"),
    "admin_city_file": ("城市配置文件", "City configuration file"),
    "admin_city": ("城市", "City"),
    "admin_cache_ttl": ("查询缓存时长", "Query cache TTL"),
    "admin_refresh": ("大屏刷新间隔", "Wall-screen refresh interval"),
    "admin_three_rates": (
        "三率权重（响应/解决/满意，基本满意系数）",
        "三率 weights (response/resolution/satisfaction, factor)",
    ),
    "admin_item": ("项目", "Item"),
    "admin_value": ("取值", "Value"),
    "seconds": ("{n} 秒", "{n} s"),
    # admin page: import uploaded files (issue 8, bring your own city)
    "upload_title": ("导入数据", "Import data"),
    "upload_help": (
        "上传本市导出的文件（CSV、XLSX、Parquet 或 Open311 JSON），选择预设或映射文件；先校验全部记录，"
        "再在一个事务中写入，按编号更新，不合格记录进入隔离文件。",
        "Upload your city's exports (CSV, XLSX, Parquet or Open311 JSON) and choose a preset or a mapping "
        "file; every record is checked first, then loaded in one transaction (upsert by id); rejected "
        "records go to a quarantine file.",
    ),
    "upload_table": ("目标表", "Target table"),
    "upload_mapping_kind": ("字段映射", "Mapping"),
    "upload_mapping_preset": ("预设", "Preset"),
    "upload_mapping_file": ("映射文件（TOML）", "Mapping file (TOML)"),
    "upload_preset": ("预设映射", "Preset mapping"),
    "upload_files": ("数据文件", "Data files"),
    "upload_run": ("校验并导入", "Check and import"),
    "upload_no_files": ("请先选择要导入的数据文件。", "Choose the data files to import first."),
    "upload_no_mapping": ("请选择一个预设，或上传一个映射文件。", "Choose a preset or upload a mapping file."),
    "upload_failed": ("导入未执行，未写入任何数据：{message}", "Nothing was imported or written: {message}"),
    "upload_done": (
        "导入完成，用时 {seconds} 秒；数据版本 {version}。",
        "Import committed in {seconds} s; data version {version}.",
    ),
    "upload_nothing_valid": (
        "没有合格的记录，未写入任何数据；原因见下表和隔离文件。",
        "No valid record: nothing was written; see the reasons below and the quarantine file.",
    ),
    "upload_read": ("读取", "Read"),
    "upload_new": ("新增", "Loaded (new)"),
    "upload_updated": ("更新", "Updated"),
    "upload_unchanged": ("未变", "Unchanged"),
    "upload_rejected": ("拒收", "Rejected"),
    "upload_quarantine": ("下载隔离文件（拒收记录）", "Download the quarantine file (rejected rows)"),
}


def t(key: str, lang: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The UI text for ``key`` in ``lang`` (zh when unknown), with ``{placeholders}`` filled in."""
    zh, en = TEXTS[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


def metric_label(name: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """A metric's display name from the registry."""
    metric = METRICS[name]
    return metric.label_en if lang == "en" else metric.label_zh


def normalise_language(value: object) -> str:
    """A supported language code for any input (query parameter, session value); zh otherwise."""
    return value if isinstance(value, str) and value in LANGUAGES else DEFAULT_LANGUAGE
