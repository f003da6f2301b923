"""notices/<department>.html: printable A4 notices (所属長あて通知) in Japanese."""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from html import escape
from typing import Any

from pia_policy.models import Finding

from ._common import find_rule, mask, safe_filename
from ._labels import SYSTEM
from ._wareki import format_date, format_datetime

__all__ = ["NOTICE_RULES", "DEFAULT_SENDER", "Notice", "build_notices", "notice_stem"]

#: The rules that ask a department for a reply, in the order they appear in a notice.
NOTICE_RULES: tuple[str, ...] = ("LONG_SESSION", "ACCOUNT_NOT_REVOKED", "ACCOUNT_DORMANT")
#: The システム責任者 checks the logs and notifies the 所属課 (別添3 III-3 リスク2 特定個人情報の使用の記録).
DEFAULT_SENDER = "システム責任者"


@dataclass(frozen=True)
class Notice:
    """One department's notice: where it goes and what it holds."""

    department: str
    filename: str
    html: str
    findings: tuple[Finding, ...]


def _e(value: Any) -> str:
    return escape(mask(value), quote=True)


def _threshold(summary: dict[str, Any], key: str, default: int) -> int:
    thresholds = summary.get("thresholds") or {}
    try:
        return int(thresholds.get(key, default)) if isinstance(thresholds, dict) else default
    except (TypeError, ValueError):
        return default


def _rule_meta(rule_id: str) -> tuple[str, str]:
    r = find_rule(rule_id)
    return (r.title_ja, r.basis) if r is not None else (rule_id, "")


_INTRO = {
    "LONG_SESSION": (
        "長時間のログオン継続について（利用目的等の報告）",
        "特定個人情報保護評価書に基づき、アクセス記録を確認したところ、貴所属の下記IDについて、"
        "{hours}時間を超えてログオンを継続した記録（又は監査時刻まで継続中の記録）がありました。"
        "評価書では、福祉システムについて、一定時間ログオンを継続した者について所属課あてに通知し、利用目的等を"
        "報告させることとしています（他のシステムへの適用及び{hours}時間の基準は市の運用）。"
        "各IDについて、当該時間帯の利用目的・業務内容及び長時間のログオンとなった理由を報告してください。",
        "利用目的・業務内容、長時間となった理由",
    ),
    "ACCOUNT_NOT_REVOKED": (
        "異動・退職後に失効していないIDについて（失効の依頼）",
        "人事情報によれば、下記IDの利用者は貴所属から異動・退職等をしていますが、監査基準日時点で"
        "当該IDが失効していません（異動・退職等の日から{grace}日を超過。{grace}日の猶予は市の運用）。"
        "評価書の失効管理では、異動／退職が生じた際には当該ユーザIDを失効させることとしています。"
        "当該IDを直ちに失効させ、失効日を報告してください。",
        "失効日",
    ),
    "ACCOUNT_DORMANT": (
        "長期間ログインのないIDについて（要否の確認）",
        "下記IDは、監査基準日までの{dormant}日を超える期間、ログインの記録がありません。"
        "評価書にこの確認の定めはありませんが、市の運用として、不要なアクセス権限を残さないため、"
        "当該IDが業務上引き続き必要か確認し、不要な場合は失効の手続きを行い、その結果を報告してください。",
        "要否（不要の場合は失効日）",
    ),
}

_CSS = """
@page{size:A4;margin:18mm 16mm}
*{box-sizing:border-box}
html{font-family:"Yu Mincho","YuMincho","MS Mincho","Hiragino Mincho ProN","Noto Serif CJK JP","IPAexMincho",
"IPAMincho","Yu Gothic","Meiryo","IPAGothic",serif;color:#000;background:#fff;font-size:10.5pt;line-height:1.6}
body{margin:0 auto;max-width:180mm;padding:8mm 0}
.right{text-align:right}.addr{font-size:12pt;margin:6mm 0 2mm}.sender{text-align:right;margin-bottom:6mm}
h1{font-size:14pt;text-align:center;margin:6mm 0}
h2{font-size:11.5pt;margin:6mm 0 2mm;border-bottom:1px solid #000}
table{border-collapse:collapse;width:100%;margin:2mm 0 3mm;page-break-inside:auto}
tr{page-break-inside:avoid;break-inside:avoid}
th,td{border:1px solid #000;padding:1.2mm 1.6mm;font-size:9.5pt;vertical-align:top;text-align:left}
th{background:#eee}
td.reply{min-width:45mm;height:12mm}
td.nowrap,.nw{white-space:nowrap}
th small{font-weight:normal}
.basis{font-size:9pt;margin:1mm 0}
.deadline{border:2px solid #000;padding:2mm 4mm;margin:5mm 0;font-weight:bold}
.mono{font-family:ui-monospace,Consolas,"DejaVu Sans Mono",monospace}
.signature td{height:12mm}
.note{font-size:9pt}
@media screen{body{padding:10mm;box-shadow:0 0 4px #999;margin:8mm auto;background:#fff}html{background:#f0f0f0}}
@media print{h2{break-after:avoid}}
"""


def _section(rule_id: str, items: list[Finding], summary: dict[str, Any], number: int) -> str:
    title, intro, reply_label = _INTRO[rule_id]
    intro = intro.format(
        hours=_threshold(summary, "session_hours", 10),
        grace=_threshold(summary, "revocation_grace_days", 7),
        dormant=_threshold(summary, "dormant_days", 90),
    )
    rule_title, rule_basis = _rule_meta(rule_id)
    bases = sorted({f.basis for f in items if f.basis}) or ([rule_basis] if rule_basis else [])
    # account-level findings carry no times (SPEC §4): then the date columns are left out
    with_dates = any(f.first_ts or f.last_ts or f.event_count for f in items)
    rows = []
    for i, f in enumerate(items, 1):
        system = SYSTEM.get(f.system or "", (f.system or "", ""))[0]
        period = f'<span class="nw">{_e(format_datetime(f.first_ts))}</span>' if f.first_ts else ""
        if f.last_ts and f.last_ts != f.first_ts:
            period += f'<br>～ <span class="nw">{_e(format_datetime(f.last_ts))}</span>'
        if not period:
            period = "―"
        count = f"{f.event_count:,}" if f.event_count else "―"
        rows.append(
            f"<tr data-rule=\"{_e(f.rule)}\" data-account=\"{_e(f.account_id or '')}\">"
            f"<td>{i}</td><td class=\"nowrap\">{_e(system)}</td><td class=\"mono\">{_e(f.account_id or '')}</td>"
            + (f"<td>{period}</td><td class=\"nowrap\">{count}</td>" if with_dates else "")
            + "<td class=\"reply\"></td></tr>"
        )
    if rule_id == "LONG_SESSION":
        date_head, count_head = "ログオン日時（和暦・西暦）", "回数"
    else:
        date_head, count_head = "日時（和暦・西暦）", "関連記録"
    return (
        f'<section class="rule" data-rule="{rule_id}"><h2>{number}　{escape(title)}</h2>'
        f"<p>{escape(intro)}</p>"
        f'<p class="basis">規則：{_e(rule_title)}（{rule_id}）<br>根拠：'
        + "／".join(_e(b) for b in bases)
        + "</p>"
        "<table><thead><tr><th class=\"nw\">No.</th><th class=\"nw\">システム</th><th>ID</th>"
        + (f"<th>{date_head}</th><th class=\"nw\">{count_head}</th>" if with_dates else "")
        + f"<th>回答<br><small>（{escape(reply_label)}）</small></th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></section>"
    )


def _render(department: str, items: list[Finding], summary: dict[str, Any], *, as_of: dt.date,
            reply_by: dt.date, sender: str) -> str:
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for f in items:
        by_rule[f.rule].append(f)
    sections = []
    n = 0
    for rid in NOTICE_RULES:
        if by_rule.get(rid):
            n += 1
            rows = sorted(by_rule[rid], key=lambda f: (f.system or "", f.account_id or ""))
            sections.append(_section(rid, rows, summary, n))
    title = "特定個人情報の取扱いに係るアクセス記録の確認について（通知）"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="ja"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{escape(title)}　{_e(department)}</title><style>{_CSS}</style></head>"
        f'<body data-department="{_e(department)}" data-as-of="{as_of.isoformat()}" '
        f'data-reply-by="{reply_by.isoformat()}">'
        f'<p class="right">{escape(format_date(as_of))}</p>'
        f'<p class="addr">{_e(department)}　所属長　様</p>'
        f'<p class="sender">{_e(sender)}</p>'
        f"<h1>{escape(title)}</h1>"
        "<p>後期高齢者医療に関する事務 全項目評価書（III 特定個人情報ファイルの取扱いプロセスにおける"
        "リスク対策 3. 特定個人情報ファイルの使用 リスク2 特定個人情報の使用の記録）及び市の運用に基づき、"
        f"{escape(format_date(as_of))}を基準日としてアクセス記録及びID台帳を確認した結果、"
        "貴所属について下記の事項がありましたので通知します。"
        "各事項について確認のうえ、回答欄に記入し、期限までに発信者あて回答してください。</p>"
        f'<div class="deadline" id="reply-by">回答期限：{escape(format_date(reply_by))}</div>'
        '<p class="right">記</p>'
        + "".join(sections)
        + "<h2>回答</h2>"
        '<table class="signature"><tbody>'
        "<tr><th style=\"width:30mm\">回答日</th><td>令和　　年　　月　　日</td></tr>"
        "<tr><th>所属・職・氏名</th><td></td></tr>"
        "<tr><th>所属長確認</th><td></td></tr>"
        "</tbody></table>"
        '<p class="note">※ 本通知には個人番号及び宛名番号を記載していません。'
        "IDの利用者の確認は、貴所属のID管理簿により行ってください。</p>"
        '<p class="right">以上</p>'
        "</body></html>\n"
    )


def _first_noticed(f: Finding) -> dt.date | None:
    """The night a finding of a state was first seen (and noticed), else None."""
    first = getattr(f, "first_seen", None)
    try:
        return dt.date.fromisoformat(first) if first else None
    except ValueError:
        return None


def notice_stem(department: str) -> str:
    """The notice's file-name stem: the department name when it is a safe file name as it is
    (``健康保険課``), else a safe slug of it plus 8 hex of its SHA-256 (``課_名-1a2b3c4d``), so
    that a renamed or shortened name can neither collide nor pass a control character
    (U+202E, a line break) into a file name. The hash is over the masked name."""
    shown = mask(department)
    slug = safe_filename(shown)
    if slug == unicodedata.normalize("NFC", shown):
        return slug
    return f"{slug}-{hashlib.sha256(shown.encode('utf-8')).hexdigest()[:8]}"


def build_notices(
    findings: list[Finding],
    summary: dict[str, Any],
    *,
    as_of: dt.date,
    reply_days: int = 14,
    sender: str = DEFAULT_SENDER,
) -> tuple[list[Notice], list[Finding]]:
    """One notice per department with findings of NOTICE_RULES; and the findings with no department.

    With a state (SPEC §8) only new and reopened findings are noticed, and a finding's reply
    deadline is fixed on the night it was first noticed (its ``first_seen``): a department's
    notice asks by the earliest deadline of its findings."""
    reply_by = as_of + dt.timedelta(days=reply_days)
    grouped: dict[str, list[Finding]] = defaultdict(list)
    unaddressed: list[Finding] = []
    for f in findings:
        if f.rule not in NOTICE_RULES:
            continue
        if getattr(f, "lifecycle", None) == "ongoing":  # SPEC §8: noticed once, when new or reopened
            continue
        dept = (f.department or "").strip()
        if not dept:
            unaddressed.append(f)
        else:
            grouped[dept].append(f)
    notices: list[Notice] = []
    used: set[str] = set()
    for dept in sorted(grouped):
        stem = notice_stem(dept)
        name, k = stem, 2
        while name.casefold() in used:
            name, k = f"{stem}-{k}", k + 1
        used.add(name.casefold())
        due = min((_first_noticed(f) or as_of for f in grouped[dept]), default=as_of)
        html = _render(dept, grouped[dept], summary, as_of=as_of,
                       reply_by=min(reply_by, due + dt.timedelta(days=reply_days)), sender=sender)
        notices.append(Notice(dept, f"{name}.html", html, tuple(grouped[dept])))
    return notices, unaddressed
