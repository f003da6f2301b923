"""Bilingual labels of the report and the notices (Japanese first, English beside)."""

from __future__ import annotations

__all__ = ["SEVERITY", "SYSTEM", "COUNT", "UI", "REJECT_REASON", "severity_label", "system_label"]

#: Severity names, highest first in the report.
SEVERITY: dict[str, tuple[str, str]] = {
    "critical": ("重大", "Critical"),
    "high": ("高", "High"),
    "medium": ("中", "Medium"),
    "low": ("低", "Low"),
}

SYSTEM: dict[str, tuple[str, str]] = {
    "gyomu_kyotsu": ("業務共通システム", "Common business system"),
    "fukushi": ("福祉システム", "Welfare system"),
    "hyojun": ("標準システム", "Standard system"),
}

#: summary["counts"] keys shown as cards.
COUNT: dict[str, tuple[str, str]] = {
    "lines_read": ("読込行数", "Lines read"),
    "events_evaluated": ("評価したイベント", "Events evaluated"),
    "duplicates": ("重複", "Duplicates"),
    "lines_rejected": ("読込不可の行", "Lines rejected"),
    "ledger_rows_rejected": ("読込不可の台帳行", "Ledger rows rejected"),
}

REJECT_REASON: dict[str, tuple[str, str]] = {
    "encoding": ("文字コード不正", "Bad encoding"),
    "invalid_json": ("JSON不正", "Invalid JSON"),
    "not_object": ("オブジェクトでない", "Not an object"),
    "csv_width": ("CSVの列数不一致", "CSV width"),
    "missing_field": ("必須項目の欠落", "Missing field"),
    "wrong_type": ("型の誤り", "Wrong type"),
    "bad_timestamp": ("日時の誤り", "Bad timestamp"),
    "unknown_value": ("未知の値", "Unknown value"),
    "missing_session_id": ("セッションIDなし", "Missing session id"),
    "after_audit_time": ("監査時刻以後", "After audit time"),
    "io_error": ("読込エラー", "I/O error"),
    "line_too_long": ("長すぎる行", "Line too long"),
}

UI: dict[str, tuple[str, str]] = {
    "title": ("特定個人情報 アクセス記録 監査報告", "My Number data access audit report"),
    "as_of": ("監査基準日", "Audit date"),
    "audit_time": ("監査時刻", "Audit time"),
    "generated": ("作成", "Generated"),
    "policy_versions": ("適用した評価書の版", "Policy versions used"),
    "lang_switch": ("English", "日本語"),
    "print": ("印刷", "Print"),
    "overview": ("概要", "Overview"),
    "findings_total": ("指摘件数", "Findings"),
    "findings_by_severity": ("重大度別の指摘", "Findings by severity"),
    "breakdown": ("指摘の内訳", "Findings breakdown"),
    "findings_by_rule": ("規則別の指摘", "Findings by rule"),
    "findings_by_department": ("所属別の指摘", "Findings by department"),
    "findings_by_system": ("システム別の指摘", "Findings by system"),
    "events_by_day": ("日別のイベント数", "Events per day"),
    "flagged_events_by_day": ("日別の指摘対象イベント数", "Flagged events per day"),
    "events_by_hour": ("時間帯別のイベント数", "Events per hour of day"),
    "flagged_events_by_hour": ("時間帯別の指摘対象イベント数", "Flagged events per hour of day"),
    "timeline": ("時系列（日本時間）", "Timeline (JST)"),
    "today": ("本日の対応", "To do today"),
    "no_findings": ("指摘はありません。", "No findings."),
    "no_data": ("データなし", "No data"),
    "table": ("指摘一覧", "Findings"),
    "filter_all": ("すべて", "All"),
    "filter_rule": ("規則", "Rule"),
    "filter_severity": ("重大度", "Severity"),
    "filter_department": ("所属", "Department"),
    "filter_system": ("システム", "System"),
    "filter_text": ("ID・語句", "ID or text"),
    "filter_reset": ("解除", "Reset"),
    "shown": ("表示", "Shown"),
    "of": ("件中", "of"),
    "col_severity": ("重大度", "Severity"),
    "col_rule": ("規則", "Rule"),
    "col_department": ("所属", "Department"),
    "col_system": ("システム", "System"),
    "col_account": ("ID", "Account"),
    "col_person": ("職員番号", "Person"),
    "col_count": ("件数", "Events"),
    "col_first": ("最初", "First"),
    "col_last": ("最後", "Last"),
    "col_period": ("日時（最初～最後）", "First – last (JST)"),
    "col_basis": ("根拠（出典）", "Basis (citation)"),
    "col_action": ("対応", "Action"),
    "col_evidence": ("証跡", "Evidence"),
    "evidence_more": ("証跡（先頭20件まで）", "Evidence (first 20)"),
    "notices": ("所属あて通知", "Notices to departments"),
    "notices_none": ("通知の対象はありません。", "No notices."),
    "notices_unaddressed": ("所属が不明なため通知できない指摘", "Findings with no department to notify"),
    "reply_by": ("回答期限", "Reply by"),
    "inputs": ("入力と処理", "Inputs and run"),
    "version_changes": ("期間中の評価書の版の変更", "Policy version changes in this period"),
    "rejected_by_reason": ("読込不可の理由", "Rejects by reason"),
    "rules_skipped": ("実行しなかった規則（入力ファイルなし）", "Rules skipped (input file missing)"),
    "file_errors": ("読込エラーのファイル", "File errors"),
    "ignored_files": ("ログとして読まなかったファイル（events/ の *.jsonl, *.jsonl.gz, *.csv 以外）",
                      "Files not read as logs (not *.jsonl, *.jsonl.gz, *.csv in events/)"),
    "thresholds": ("しきい値", "Thresholds"),
    "none": ("なし", "None"),
    "unknown": ("（不明）", "(unknown)"),
    "footer": (
        "この報告書は外部への通信なしで閲覧できます。個人番号・宛名番号は記載していません。",
        "This report works offline. It contains no My Number and no subject ids.",
    ),
    "critical_open": ("重大な指摘があります", "There are critical findings"),
    "sort_hint": ("見出しをクリックすると並べ替えます", "Click a heading to sort"),
    "lifecycle": ("前夜からの変化", "Since the previous night"),
    "col_status": ("状況", "Status"),
    "open_per_night": ("夜ごとの未解決の指摘", "Open findings per night"),
    "systems_silent": ("今夜ログのないシステム", "Systems without a log tonight"),
}

#: Lifecycle (SPEC §8) and triage status names.
LIFECYCLE: dict[str, tuple[str, str]] = {
    "new": ("新規", "New"),
    "ongoing": ("継続", "Ongoing"),
    "reopened": ("再発", "Reopened"),
    "resolved": ("解消", "Resolved"),
    "suppressed": ("抑止（確認済・誤検知・完了）", "Suppressed (triaged)"),
}
TRIAGE: dict[str, tuple[str, str]] = {
    "acknowledged": ("確認済", "Acknowledged"),
    "closed": ("完了", "Closed"),
    "false_positive": ("誤検知", "False positive"),
    "open": ("未対応", "Open"),
}


def severity_label(severity: str, lang: str = "ja") -> str:
    """The name of a severity in ``lang``."""
    ja, en = SEVERITY.get(severity, (severity, severity))
    return en if lang == "en" else ja


def system_label(system: str | None, lang: str = "ja") -> str:
    """The name of a system in ``lang`` (the code itself when unknown)."""
    if not system:
        return ""
    ja, en = SYSTEM.get(system, (system, system))
    return en if lang == "en" else ja
