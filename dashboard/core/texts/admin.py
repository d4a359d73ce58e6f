"""UI texts of the data-source admin page and the import of uploaded files.

Key -> (Chinese, English); ``dashboard.core.i18n`` merges the feature tables into ``TEXTS``.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
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
