"""UI texts of sign-in, roles, scope and the audit trail.

Key -> (Chinese, English); ``dashboard.core.i18n`` merges the feature tables into ``TEXTS``.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    # access control and audit trail (issue 7)
    "page_login": ("登录", "Sign in"),
    "page_audit": ("审计日志", "Audit trail"),
    "auth_off": (
        "未启用登录：数据库中还没有任何账户，所有人都能看到全市数据。"
        "创建第一个账户（python -m data_access.security.users add …）后即须登录。",
        "Sign-in is off: the database holds no accounts, so everyone sees the whole city. "
        "Creating the first account (python -m data_access.security.users add …) turns sign-in on.",
    ),
    "auth_name": ("用户名", "User name"),
    "auth_password": ("密码", "Password"),
    "auth_submit": ("登录", "Sign in"),
    "auth_missing": ("请输入用户名和密码。", "Enter a user name and a password."),
    "auth_failed": ("用户名或密码错误。", "Wrong user name or password."),
    "auth_locked": (
        "登录失败次数过多，账户已锁定至 {time}，请稍后再试或联系管理员解锁。",
        "Too many failed attempts: the account is locked until {time}. Try again later or ask an admin to unlock it.",
    ),
    "auth_disabled": ("该账户已停用，请联系管理员。", "This account is disabled; ask an admin."),
    "auth_no_password": (
        "该账户不能用密码登录（大屏账户使用设备令牌，统一身份认证账户请点上方按钮）。",
        "This account has no password sign-in (wall screens use a device token; single sign-on uses the button above).",
    ),
    "auth_token_invalid": (
        "大屏设备令牌无效、已过期或已被吊销，请联系管理员重新签发。",
        "The wall screen's device token is unknown, expired or revoked; ask an admin for a new one.",
    ),
    "auth_expired": ("登录已过期，请重新登录。", "Your session has expired; please sign in again."),
    "auth_revoked": (
        "您的账户已停用或权限已变更，请重新登录。",
        "Your account was disabled or its access changed; please sign in again.",
    ),
    "auth_signed_out": ("已退出登录。", "You have signed out."),
    "auth_sso": ("使用统一身份认证登录", "Sign in with single sign-on"),
    "auth_sso_unmapped": (
        "统一身份认证已确认您的身份，但您所在的用户组未分配驾驶舱角色，请联系管理员。",
        "Single sign-on knows you, but none of your groups has a cockpit role; ask an admin.",
    ),
    "auth_sso_problem": ("统一身份认证不可用：{message}", "Single sign-on is unavailable: {message}"),
    "auth_signed_in_as": ("已登录：{name}（{role}）", "Signed in: {name} ({role})"),
    "auth_scope": ("数据范围：{scope}", "Data scope: {scope}"),
    "auth_sign_out": ("退出登录", "Sign out"),
    "auth_role": ("角色", "Role"),
    "auth_scope_column": ("数据范围", "Scope"),
    "auth_demo_title": ("演示账户", "Demo accounts"),
    "auth_demo_note": (
        "仅演示数据库显示这些账户（python -m data_access.demo --with-accounts 生成），真实数据库不会显示任何口令。",
        "Only a demo database lists these (made by python -m data_access.demo --with-accounts); "
        "no other database shows credentials.",
    ),
    "auth_demo_screen": ("大屏账户 {name} 的登录地址参数：", "URL parameters that sign in the wall screen {name}:"),
    "auth_forbidden": ("您的角色不能打开此页面。", "Your role may not open this page."),
    "role_leader": ("领导", "Leader"),
    "role_department_head": ("部门负责人", "Department head"),
    "role_analyst": ("分析员", "Analyst"),
    "role_admin": ("管理员", "Admin"),
    "role_screen": ("大屏", "Wall screen"),
    "audit_intro": (
        "所有查看、导出、登录和账户变更都记录在此，只能追加，不能修改或删除。",
        "Every view, export, sign-in and account change is recorded here; rows are only ever appended.",
    ),
    "audit_since": ("起始日期", "From"),
    "audit_until": ("截止日期（含）", "To (inclusive)"),
    "audit_user": ("用户", "User"),
    "audit_action": ("操作", "Action"),
    "audit_page": ("页面", "Page"),
    "audit_text": ("筛选条件或详情包含", "Filters or detail contain"),
    "audit_found": ("共 {n} 条记录", "{n} rows"),
    "audit_truncated": ("只显示最新的 {n} 条，请缩小范围。", "Showing the newest {n} rows only; narrow the search."),
    "audit_download": ("导出审计日志（CSV）", "Export the audit trail (CSV)"),
    "audit_bad_range": ("截止日期早于起始日期。", "The end date is before the start date."),
    "audit_col_occurred_at": ("时间", "Time"),
    "audit_col_user_name": ("用户", "User"),
    "audit_col_role": ("角色", "Role"),
    "audit_col_action": ("操作", "Action"),
    "audit_col_page": ("页面", "Page"),
    "audit_col_filters": ("筛选条件", "Filters"),
    "audit_col_row_count": ("返回行数", "Rows returned"),
    "audit_col_detail": ("详情", "Detail"),
    "audit_col_client": ("客户端", "Client"),
    "action_view": ("查看", "view"),
    "action_export": ("导出", "export"),
    "action_login": ("登录", "sign-in"),
    "action_login_failed": ("登录失败", "failed sign-in"),
    "action_logout": ("退出", "sign-out"),
    "action_user_change": ("账户变更", "account change"),
    "action_token_use": ("大屏令牌登录", "device token use"),
    "table_cockpit_users": ("驾驶舱账户", "cockpit accounts"),
    "table_cockpit_tokens": ("大屏设备令牌（仅存哈希）", "wall-screen device tokens (hashes only)"),
    "table_cockpit_audit": ("审计日志", "audit trail"),
}
