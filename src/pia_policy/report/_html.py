"""report.html: one self-contained page for the security officer's morning."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from html import escape
from typing import Any, Iterable

from pia_policy.models import SEVERITIES, Finding
from pia_policy.rules import RULE_IDS

from ._assets import CSS, JS
from ._common import as_counter, find_rule, mask
from ._labels import COUNT, LIFECYCLE, REJECT_REASON, SEVERITY, SYSTEM, TRIAGE, UI
from ._svg import Bar, column_chart, hbar_chart
from ._wareki import JST, format_date, format_datetime, to_jst, to_wareki

__all__ = ["NoticeLink", "render_report", "rule_titles", "SEVERITY_ORDER", "SIBLING_FILES"]

#: Highest severity first.
SEVERITY_ORDER: tuple[str, ...] = tuple(reversed(SEVERITIES))
_SEV_COLOR = {"critical": "#b00020", "high": "#d9480f", "medium": "#b7791f", "low": "#4a7bb7"}
#: Keys the breakdowns use for "no department / no system".
_NO_DEPT = frozenset({"", "-", "null", "None"})
#: The SPEC §5 files written beside the report (linked from it).
SIBLING_FILES: tuple[str, ...] = ("findings.csv", "findings.jsonl", "summary.json", "rejected.jsonl")
#: Evidence references shown per row (findings.jsonl has the first 20).
_EVIDENCE_SHOWN = 5
_HOURS = tuple(f"{h:02d}" for h in range(24))


@dataclass(frozen=True)
class NoticeLink:
    """A notice written beside the report."""

    department: str
    path: str
    findings: int


def _e(value: Any) -> str:
    """Mask, then escape for text and attribute positions."""
    return escape(mask(value), quote=True)


def _bi(ja: str, en: str) -> str:
    if ja == en:
        return escape(ja)
    return f'<span class="ja">{escape(ja)}</span><span class="en">{escape(en)}</span>'


def _ui(key: str) -> str:
    return _bi(*UI[key])


def rule_titles(rule_id: str) -> tuple[str, str, str, str]:
    """(title_ja, title_en, remedy_ja, remedy_en) of a rule; the id itself when unknown."""
    r = find_rule(rule_id)
    if r is None:
        return rule_id, rule_id, "", ""
    return r.title_ja, r.title_en, r.remedy_ja, r.remedy_en


def _rule_order() -> list[str]:
    return list(RULE_IDS)


def _sev_rank(sev: str) -> int:
    return SEVERITIES.index(sev) if sev in SEVERITIES else -1


def _date_cell(value: str | None) -> tuple[str, str]:
    """(html, sort key) of a timestamp cell: 和暦 (ISO) HH:MM in Japanese, ISO in English."""
    if not value:
        return "", ""
    when = to_jst(value)
    if when is None:
        return _e(value), _e(value)
    ja = format_datetime(when)
    en = when.strftime("%Y-%m-%d %H:%M JST")
    return _bi(ja, en), when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _day_label(key: str) -> tuple[str, str, str, str]:
    try:
        day = dt.date.fromisoformat(key)
    except ValueError:
        return key, key, key, key
    short = f"{day.month}/{day.day}"
    return short, short, format_date(day), day.isoformat()


def _days(*counters: dict[str, int]) -> list[str]:
    """Every JST day from the first to the last present in any counter (gaps filled)."""
    keys = sorted({k for c in counters for k in c})
    dates: list[dt.date] = []
    for k in keys:
        try:
            dates.append(dt.date.fromisoformat(k))
        except ValueError:
            return keys
    if not dates:
        return []
    first, last = min(dates), max(dates)
    if (last - first).days > 400:
        return keys
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def _timeline(chart_id: str, keys: list[str], counts: dict[str, int], color: str, hours: bool) -> str:
    bars = []
    for k in keys:
        v = counts.get(k, 0)
        if hours:
            bars.append(Bar(k, v, k, k, f"{int(k)}時台: {v:,}", f"{k}:00-{k}:59: {v:,}"))
        else:
            sj, se, fj, fe = _day_label(k)
            bars.append(Bar(k, v, sj, se, f"{fj}: {v:,}", f"{fe}: {v:,}"))
    return column_chart(chart_id, bars, color=color, label_every=3 if hours else None)


def _section(sid: str, title_key: str, inner: str) -> str:
    """A titled section; ``title_key`` is a key of UI."""
    return f'<section id="{sid}"><h2>{_ui(title_key)}</h2>{inner}</section>'


def _card(attr: str, key: str, value: int, ja: str, en: str, cls: str = "") -> str:
    return (
        f'<div class="card {cls}" {attr}="{escape(key, quote=True)}" data-value="{value}">'
        f'<div class="num">{value:,}</div><div class="label">{_bi(ja, en)}</div></div>'
    )


def _options(values: Iterable[tuple[str, str, str]]) -> str:
    out = [f'<option value="" data-ja="{UI["filter_all"][0]}" data-en="{UI["filter_all"][1]}">'
           f'{UI["filter_all"][0]}</option>']
    for value, ja, en in values:
        out.append(f'<option value="{_e(value)}" data-ja="{_e(ja)}" data-en="{_e(en)}">{_e(ja)}</option>')
    return "".join(out)


def _findings_table(all_findings: list[Finding], max_rows: int, total: int) -> str:
    findings = all_findings[:max_rows]
    rules_present = sorted({f.rule for f in findings}, key=lambda r: (_rule_order() + [r]).index(r))
    sev_present = [s for s in SEVERITY_ORDER if any(f.severity == s for f in findings)]
    depts = sorted({f.department or "" for f in findings})
    systems = sorted({f.system or "" for f in findings})
    filters = [
        ("rule", "filter_rule", _options((r, f"{rule_titles(r)[0]} ({r})", f"{rule_titles(r)[1]} ({r})")
                                         for r in rules_present)),
        ("severity", "filter_severity", _options((s, *SEVERITY.get(s, (s, s))) for s in sev_present)),
        ("department", "filter_department",
         _options((d, d or UI["unknown"][0], d or UI["unknown"][1]) for d in depts)),
        ("system", "filter_system", _options((s, *SYSTEM.get(s, (s or UI["unknown"][0], s or UI["unknown"][1])))
                                             for s in systems)),
    ]
    parts = ['<div class="filters noprint">']
    for field, label, opts in filters:
        parts.append(f'<label>{_ui(label)}<select id="filter-{field}">{opts}</select></label>')
    parts.append(
        f'<label>{_ui("filter_text")}<input id="filter-text" type="search" '
        f'data-ja="{escape(UI["filter_text"][0])}" data-en="{escape(UI["filter_text"][1])}" '
        f'placeholder="{escape(UI["filter_text"][0])}"></label>'
        f'<button id="filter-reset" type="button">{_ui("filter_reset")}</button>'
        f'<span class="count-shown">{_ui("shown")}: <b id="shown-count" data-value="{len(findings)}">'
        f'{len(findings)}</b> / <b id="total-count" data-value="{len(findings)}">{len(findings)}</b></span>'
        "</div>"
    )
    heads = [
        ("col_severity", "sev", "num"), ("col_rule", "rule", ""), ("col_department", "dept", ""),
        ("col_system", "system", ""), ("col_account", "account", ""), ("col_person", "person", ""),
        ("col_count", "count", "num"), ("col_period", "first", ""),
        ("col_basis", "", ""), ("col_action", "", ""), ("col_evidence", "", ""),
    ]
    tracked = any(getattr(f, "lifecycle", None) for f in findings)
    if tracked:  # SPEC §8: lifecycle and triage status
        heads.insert(0, ("col_status", "status", ""))
    parts.append('<div class="tablewrap"><table class="findings" id="findings-table"><thead><tr>')
    for label, key, typ in heads:
        attrs = f' data-sort-key="{key}"' if key else ""
        attrs += ' data-type="num" class="num"' if typ == "num" else ""
        parts.append(f"<th{attrs}>{_ui(label)}</th>")
    parts.append("</tr></thead><tbody>")
    for f in findings:
        tj, te, _rj, remedy_en = rule_titles(f.rule)
        sj, se = SEVERITY.get(f.severity, (f.severity, f.severity))
        sysj, syse = SYSTEM.get(f.system or "", (f.system or "", f.system or ""))
        first_html, first_key = _date_cell(f.first_ts)
        last_html, last_key = _date_cell(f.last_ts)
        period = first_html
        if last_key and last_key != first_key:
            period += f"<br>～ {last_html}"
        dept = f.department or ""
        ev_items = "".join(
            f"<li><code>{_e(ev.file)}:{ev.line}</code>{(' ' + _e(ev.event_id)) if ev.event_id else ''}</li>"
            for ev in f.evidence[:_EVIDENCE_SHOWN]
        )
        if len(f.evidence) > _EVIDENCE_SHOWN:
            ev_items += f"<li>… findings.jsonl ({len(f.evidence)})</li>"
        evidence = (
            f"<details><summary>{len(f.evidence)}</summary><ul>{ev_items}</ul></details>" if f.evidence else ""
        )
        action_en = remedy_en or f.action
        status = ""
        if tracked:
            life = getattr(f, "lifecycle", None) or ""
            tri = getattr(f, "triage", None) or {}
            lj, le = LIFECYCLE.get(life, (life, life))
            cell = f'<span class="life life-{_e(life)}">{_bi(lj, le)}</span>'
            if tri:
                tj2, te2 = TRIAGE.get(tri.get("status", ""), (tri.get("status", ""), tri.get("status", "")))
                cell += f'<br><span class="triage">{_bi(tj2, te2)}</span> <small>{_e(mask(str(tri.get("by", ""))))}</small>'
            status = f'<td data-sort="{_e(life)}" data-lifecycle="{_e(life)}">{cell}</td>'
        parts.append(
            f'<tr id="f-{_e(f.finding_id)}" data-finding-id="{_e(f.finding_id)}" data-rule="{_e(f.rule)}" '
            f'data-severity="{_e(f.severity)}" data-department="{_e(dept)}" data-system="{_e(f.system or "")}" '
            f'data-event-count="{f.event_count}">'
            + status
            + f'<td data-sort="{_sev_rank(f.severity)}"><span class="sev sev-{_e(f.severity)}">{_bi(sj, se)}</span></td>'
            f'<td data-sort="{_e(f.rule)}">{_bi(tj, te)}<span class="rule-id">{_e(f.rule)}</span></td>'
            f"<td class=\"nowrap\">{_e(dept) if dept else _ui('unknown')}</td>"
            f'<td class="nowrap" data-sort="{_e(f.system or "")}">{_bi(sysj, syse)}</td>'
            f'<td class="mono">{_e(f.account_id or "")}</td>'
            f'<td class="mono">{_e(f.person_id or "")}</td>'
            f'<td class="num" data-sort="{f.event_count}">{f.event_count:,}</td>'
            f'<td class="date" data-sort="{first_key}">{period}</td>'
            f'<td class="basis">{_e(f.basis)}</td>'
            f'<td class="action">{_bi(mask(f.action), mask(action_en))}</td>'
            f"<td>{evidence}</td></tr>"
        )
    parts.append("</tbody></table></div>")
    if total > len(findings):
        rest = total - len(findings)
        parts.append(
            f'<p class="alert" id="rows-truncated" data-value="{rest}">'
            + _bi(f"表示は重大度の高い順に先頭 {len(findings):,} 件までです。残り {rest:,} 件は findings.csv を参照してください。",
                  f"Showing the first {len(findings):,} findings (highest severity first); "
                  f"{rest:,} more are in findings.csv.")
            + "</p>"
        )
    if not total:
        parts.append(f'<p class="ok">{_ui("no_findings")}</p>')
    return "".join(parts)


def _todo(findings: list[Finding], by_rule: dict[str, int], summary: dict[str, Any], counts: dict[str, int],
          by_sev: dict[str, int], notices: list[NoticeLink], reply_by: dt.date | None) -> str:
    items: list[str] = []
    crit = by_sev.get("critical", 0)
    head = ""
    if crit:
        head = f'<div class="alert">{_ui("critical_open")}: {crit:,}</div>'
    elif not sum(by_sev.values()):
        head = f'<div class="ok">{_ui("no_findings")}</div>'
    for sev in ("critical", "high"):
        n = by_sev.get(sev, 0)
        if n:
            rules_here = Counter({r: c for r, c in sorted(by_rule.items())
                                  if c and _rule_severity(r, findings) == sev})
            listing = "、".join(f"{rule_titles(r)[0]} {c}" for r, c in rules_here.most_common())
            listing_en = ", ".join(f"{rule_titles(r)[1]} {c}" for r, c in rules_here.most_common())
            sj, se = SEVERITY[sev]
            items.append(
                f'<li><a href="#findings" data-filter-severity="{sev}">'
                f'{_bi(f"重大度「{sj}」の指摘 {n:,} 件を確認する", f"Review {n:,} {se.lower()} findings")}</a>'
                f' — {_bi(listing, listing_en)}</li>'
            )
    if notices:
        rj = format_date(reply_by) if reply_by else ""
        re_ = reply_by.isoformat() if reply_by else ""
        items.append("<li>" + _bi(
            f"{len(notices)} 所属あての通知を印刷・送付する（回答期限 {rj}）",
            f"Print and send the notices to {len(notices)} department(s) (reply by {re_})",
        ) + ' <a href="#notices">→</a></li>')
    rejected = counts.get("lines_rejected", 0) + counts.get("ledger_rows_rejected", 0)
    if rejected:
        items.append("<li>" + _bi(f"読込不可の行 {rejected:,} 件を rejected.jsonl で確認する",
                                  f"Check {rejected:,} rejected lines in rejected.jsonl") + "</li>")
    skipped = summary.get("rules_skipped") or []
    if skipped:
        items.append("<li>" + _bi(f"入力ファイルがなく実行しなかった規則 {len(skipped)} 件",
                                  f"{len(skipped)} rules skipped for a missing input file")
                     + ' <a href="#inputs">→</a></li>')
    errors = summary.get("file_errors") or []
    if errors:
        items.append("<li>" + _bi(f"読込エラーのファイル {len(errors)} 件", f"{len(errors)} file errors")
                     + ' <a href="#inputs">→</a></li>')
    ignored = summary.get("ignored_files") or []
    if ignored:
        items.append("<li>" + _bi(f"ログとして読まなかった events/ のファイル {len(ignored)} 件を確認する",
                                  f"Check {len(ignored)} file(s) in events/ not read as logs")
                     + ' <a href="#inputs">→</a></li>')
    body = f'<ul class="todo">{"".join(items)}</ul>' if items else ""
    return _section("today", "today", head + body)


def _overview(counts: dict[str, int], by_sev: dict[str, int], n_findings: int) -> str:
    cards = []
    for key in ("events_evaluated", "lines_rejected", "duplicates", "lines_read", "ledger_rows_rejected"):
        if key in counts:
            cards.append(_card("data-count", key, counts[key], *COUNT[key]))
    cards.append(_card("data-count", "findings", n_findings, *UI["findings_total"]))
    sev_cards = [
        _card("data-severity", s, by_sev.get(s, 0), *SEVERITY[s], cls=f"sev-{s}") for s in SEVERITY_ORDER
    ]
    return _section(
        "overview", "overview",
        f'<div class="cards">{"".join(cards)}</div><h3>{_ui("findings_by_severity")}</h3>'
        f'<div class="cards">{"".join(sev_cards)}</div>',
    )


def _lifecycle(summary: dict[str, Any]) -> str:
    """SPEC §8 cards (new, ongoing, reopened, resolved, suppressed; systems silent tonight) and
    the open findings per night, from the state (``summary.state.open_per_night``)."""
    tally = summary.get("lifecycle")
    if not isinstance(tally, dict):
        return ""
    cards = [_card("data-lifecycle", k, int(tally.get(k, 0)), *LIFECYCLE[k]) for k in LIFECYCLE]
    silent = list(summary.get("systems_silent") or [])
    cards.append(_card("data-count", "systems_silent", len(silent), *UI["systems_silent"],
                       cls="sev-high" if silent else ""))
    names = ", ".join(f"{SYSTEM.get(s, (s, s))[0]}" for s in silent)
    names_en = ", ".join(f"{SYSTEM.get(s, (s, s))[1]}" for s in silent)
    note = f'<p class="alert" id="systems-silent">{_bi(names, names_en)}</p>' if silent else ""
    nights = (summary.get("state") or {}).get("open_per_night") or []
    bars = []
    for n in nights:
        sj, se, fj, fe = _day_label(str(n["as_of"]))
        bars.append(Bar(str(n["as_of"]), int(n["open"]), sj, se, f"{fj}: {int(n['open']):,}",
                        f"{fe}: {int(n['open']):,}"))
    chart = f"<figure><h3>{_ui('open_per_night')}</h3>{column_chart('open_per_night', bars, color='#b00020')}</figure>"
    return _section("lifecycle", "lifecycle", f'<div class="cards">{"".join(cards)}</div>{note}{chart}')


def _charts(summary: dict[str, Any], findings: list[Finding], by_rule: dict[str, int]) -> str:
    breakdowns = summary.get("breakdowns") or {}
    order = _rule_order()
    rule_bars = []
    for rid, n in sorted(
        ((r, n) for r, n in by_rule.items() if n),
        key=lambda t: (-_sev_rank(_rule_severity(t[0], findings)), -t[1], order.index(t[0]) if t[0] in order else 99),
    ):
        tj, te, _, _ = rule_titles(rid)
        sev = _rule_severity(rid, findings)
        rule_bars.append(Bar(rid, n, tj, te, f"{tj} ({rid}): {n:,}", f"{te} ({rid}): {n:,}",
                             color=_SEV_COLOR.get(sev)))
    if "findings_by_department" in breakdowns:
        by_dept = as_counter(breakdowns["findings_by_department"])
    else:
        by_dept = dict(Counter(f.department or "" for f in findings))
    if "findings_by_system" in breakdowns:
        by_sys = as_counter(breakdowns["findings_by_system"])
    else:
        by_sys = dict(Counter(f.system or "" for f in findings))
    unknown_j, unknown_e = UI["unknown"]
    dept_bars = [
        Bar(k, v, mask(k) if k not in _NO_DEPT else unknown_j,
            mask(k) if k not in _NO_DEPT else unknown_e)
        for k, v in sorted(by_dept.items(), key=lambda kv: (-kv[1], kv[0])) if v
    ]
    sys_bars = [
        Bar(k, v, *SYSTEM.get(k, (unknown_j, unknown_e) if k in _NO_DEPT else (k, k)))
        for k, v in sorted(by_sys.items(), key=lambda kv: (-kv[1], kv[0])) if v
    ]
    ev_day = as_counter(breakdowns.get("events_by_day", {}))
    fl_day = as_counter(breakdowns.get("flagged_events_by_day", {}))
    ev_hour = as_counter(breakdowns.get("events_by_hour", {}))
    fl_hour = as_counter(breakdowns.get("flagged_events_by_hour", {}))
    days = _days(ev_day, fl_day)
    hours = list(_HOURS) if (ev_hour or fl_hour or "events_by_hour" in breakdowns) else []

    def fig(title: str, svg: str) -> str:
        return f"<figure><h3>{_ui(title)}</h3>{svg}</figure>"

    findings_html = (
        '<div class="grid2">'
        + fig("findings_by_rule", hbar_chart("findings_by_rule", rule_bars))
        + fig("findings_by_department", hbar_chart("findings_by_department", dept_bars, color="#5a7d9a"))
        + fig("findings_by_system", hbar_chart("findings_by_system", sys_bars, color="#6b8e5a"))
        + "</div>"
    )
    timeline_html = (
        '<div class="grid2">'
        + fig("events_by_day", _timeline("events_by_day", days, ev_day, "#3b6ea5", False))
        + fig("flagged_events_by_day", _timeline("flagged_events_by_day", days, fl_day, "#b00020", False))
        + fig("events_by_hour", _timeline("events_by_hour", hours, ev_hour, "#3b6ea5", True))
        + fig("flagged_events_by_hour", _timeline("flagged_events_by_hour", hours, fl_hour, "#b00020", True))
        + "</div>"
    )
    return (
        _section("charts", "breakdown", findings_html)
        + _section("timeline", "timeline", timeline_html)
    )


def _rule_severity(rule_id: str, findings: list[Finding]) -> str:
    for f in findings:
        if f.rule == rule_id:
            return f.severity
    r = find_rule(rule_id)
    return r.severity if r is not None else "low"


def _notices_section(notices: list[NoticeLink], unaddressed: list[Finding], reply_by: dt.date | None) -> str:
    if not notices and not unaddressed:
        return _section("notices", "notices", f"<p>{_ui('notices_none')}</p>")
    parts = []
    if notices:
        if reply_by:
            parts.append(f"<p>{_ui('reply_by')}: {_bi(format_date(reply_by), reply_by.isoformat())}</p>")
        parts.append("<ul>")
        for n in notices:
            href = escape("/".join(_url_quote(p) for p in n.path.split("/")), quote=True)
            parts.append(f'<li><a href="{href}" data-notice="{_e(n.department)}">{_e(n.department)}</a>'
                         f" — {_bi(f'{n.findings} 件', f'{n.findings} findings')}</li>")
        parts.append("</ul>")
    if unaddressed:
        parts.append(f"<h3>{_ui('notices_unaddressed')}</h3><ul>")
        for f in unaddressed:
            tj, te, _, _ = rule_titles(f.rule)
            parts.append(f'<li>{_bi(tj, te)} — <code>{_e(f.system or "")}</code> '
                         f'<code>{_e(f.account_id or "")}</code></li>')
        parts.append("</ul>")
    return _section("notices", "notices", "".join(parts))


def _url_quote(part: str) -> str:
    from urllib.parse import quote

    return quote(part, safe="")


def _inputs(summary: dict[str, Any], counts: dict[str, int]) -> str:
    rows = []
    for key, (ja, en) in COUNT.items():
        if key in counts:
            rows.append(f'<tr><td>{_bi(ja, en)}</td><td class="num" data-count-row="{key}">{counts[key]:,}</td></tr>')
    parts = [f'<table class="kv">{"".join(rows)}</table>']
    by_reason = as_counter((summary.get("counts") or {}).get("rejected_by_reason", {}))
    if by_reason:
        parts.append(f"<h3>{_ui('rejected_by_reason')}</h3><table class=\"kv\">")
        for reason, n in sorted(by_reason.items(), key=lambda kv: -kv[1]):
            ja, en = REJECT_REASON.get(reason, (reason, reason))
            parts.append(f'<tr><td>{_bi(ja, en)} <code>{_e(reason)}</code></td>'
                         f'<td class="num" data-reason="{_e(reason)}">{n:,}</td></tr>')
        parts.append("</table>")
    skipped = summary.get("rules_skipped") or []
    if skipped:
        parts.append(f"<h3>{_ui('rules_skipped')}</h3><ul>")
        for s in skipped:
            rid = s.get("rule", "") if isinstance(s, dict) else str(s)
            missing = s.get("missing", "") if isinstance(s, dict) else ""
            tj, te, _, _ = rule_titles(rid)
            parts.append(f"<li>{_bi(tj, te)} <code>{_e(rid)}</code> — <code>{_e(missing)}</code></li>")
        parts.append("</ul>")
    errors = summary.get("file_errors") or []
    if errors:
        parts.append(f"<h3>{_ui('file_errors')}</h3><ul>")
        for err in errors:
            if isinstance(err, dict):
                parts.append(f"<li><code>{_e(err.get('file', ''))}</code>: {_e(err.get('error', ''))}</li>")
            else:
                parts.append(f"<li>{_e(err)}</li>")
        parts.append("</ul>")
    ignored = summary.get("ignored_files") or []
    if ignored:
        parts.append(f"<h3>{_ui('ignored_files')}</h3><ul>")
        parts.extend(f'<li data-ignored-file="{_e(name)}"><code>{_e(name)}</code></li>' for name in ignored)
        parts.append("</ul>")
    thresholds = summary.get("thresholds") or {}
    if isinstance(thresholds, dict) and thresholds:
        parts.append(f"<h3>{_ui('thresholds')}</h3><table class=\"kv\">")
        for k, v in thresholds.items():
            parts.append(f"<tr><td><code>{_e(k)}</code></td><td>{_e(v)}</td></tr>")
        parts.append("</table>")
    inputs = summary.get("inputs") or []
    if inputs:
        parts.append(f"<h3>{_bi('入力ファイル', 'Input files')}</h3><table><thead><tr>"
                     f"<th>{_bi('ファイル', 'File')}</th><th>{_bi('種別', 'Role')}</th>"
                     f"<th class=\"num\">{_bi('サイズ', 'Size')}</th><th>SHA-256</th></tr></thead><tbody>")
        for item in inputs[:200]:
            if not isinstance(item, dict):
                continue
            size = item.get("size")
            parts.append(
                f"<tr><td class=\"mono\">{_e(item.get('path', ''))}</td><td>{_e(item.get('role', ''))}</td>"
                f"<td class=\"num\">{_e(f'{size:,}' if isinstance(size, int) else (size or ''))}</td>"
                f"<td class=\"mono\">{_e(str(item.get('sha256', ''))[:16])}</td></tr>"
            )
        parts.append("</tbody></table>")
    files = " ".join(f'<a href="{name}" data-sibling="{name}">{name}</a>' for name in SIBLING_FILES)
    parts.append(f"<h3>{_bi('同じフォルダのファイル', 'Files beside this report')}</h3><p>{files}</p>")
    return _section("inputs", "inputs", "".join(parts))


def _version_changes(summary: dict[str, Any]) -> str:
    """The policy versions that changed inside the audit window: date, one line, the table's command."""
    policy = summary.get("policy") or {}
    changes = policy.get("version_changes") if isinstance(policy, dict) else None
    if not changes:
        return ""
    items = []
    for c in changes:
        if not isinstance(c, dict):
            continue
        try:
            day = dt.date.fromisoformat(str(c.get("in_force_from")))
            when = _bi(format_date(day), day.isoformat())
        except ValueError:
            when = _e(c.get("in_force_from", ""))
        items.append(
            f'<li data-version="{_e(c.get("version", ""))}">{when}: {_e(c.get("from_version", ""))} → '
            f'{_e(c.get("version", ""))} — {_e(c.get("summary", ""))}<br>'
            f'{_bi("変更箇所の表", "Table of changes")}: <code>{_e(c.get("table", ""))}</code></li>'
        )
    return _section("version-changes", "version_changes", f"<ul>{''.join(items)}</ul>")


def _header(summary: dict[str, Any], as_of: dt.date | None) -> str:
    meta = []
    if as_of:
        meta.append(f'{_ui("as_of")}: <span id="as-of" data-iso="{as_of.isoformat()}">'
                    f'{_bi(format_date(as_of), as_of.isoformat())}</span>')
    audit_time = summary.get("audit_time")
    if audit_time:
        meta.append(f"{_ui('audit_time')}: {_date_cell(str(audit_time))[0]}")
    policy = summary.get("policy") or {}
    versions = policy.get("versions_used") if isinstance(policy, dict) else None
    if versions:
        meta.append(f"{_ui('policy_versions')}: " + ", ".join(_e(v) for v in versions))
    run = summary.get("run") or {}
    finished = run.get("finished_at") if isinstance(run, dict) else None
    if finished:
        meta.append(f"{_ui('generated')}: {_date_cell(str(finished))[0]}")
    return (
        f'<header><h1>{_ui("title")}</h1>'
        + "".join(f'<span class="meta">{m}</span>' for m in meta)
        + f'<button id="lang-toggle" type="button">{_ui("lang_switch")}</button>'
        f'<button id="print-button" type="button">{_ui("print")}</button></header>'
    )


def render_report(
    findings: list[Finding],
    summary: dict[str, Any],
    *,
    lang: str = "ja",
    notices: list[NoticeLink] | None = None,
    unaddressed: list[Finding] | None = None,
    as_of: dt.date | None = None,
    reply_by: dt.date | None = None,
    max_rows: int = 10_000,
    total: int | None = None,
) -> str:
    """The whole report page as one string (inline CSS, JS and SVG); the table holds at most
    ``max_rows`` findings (the first ones: findings come sorted by severity). ``total``: the
    number of findings of the run when ``findings`` holds only the first ones."""
    lang = "en" if lang == "en" else "ja"
    total = len(findings) if total is None else total
    counts = as_counter(summary.get("counts") or {})
    by_rule = as_counter(summary.get("findings_by_rule") or {}) or dict(Counter(f.rule for f in findings))
    by_sev = as_counter(summary.get("findings_by_severity") or {}) or dict(Counter(f.severity for f in findings))
    title_ja, title_en = UI["title"]
    date_suffix = f" {to_wareki(as_of) or ''} ({as_of.isoformat()})" if as_of else ""
    body = (
        _header(summary, as_of)
        + "<main>"
        + _version_changes(summary)
        + _todo(findings, by_rule, summary, counts, by_sev, notices or [], reply_by)
        + _overview(counts, by_sev, total)
        + _lifecycle(summary)
        + _charts(summary, findings, by_rule)
        + _section("findings", "table",
                   f'<p class="noprint" style="font-size:12px;color:#5b6775">{_ui("sort_hint")}</p>'
                   + _findings_table(findings, max_rows, total))
        + _notices_section(notices or [], unaddressed or [], reply_by)
        + _inputs(summary, counts)
        + "</main>"
        + f"<footer>{_ui('footer')} <span class=\"mono\">{_e(summary.get('tool', 'pia-policy'))}</span> "
        f"schema {_e(summary.get('schema_version', ''))}</footer>"
    )
    initial_title = (title_en if lang == "en" else title_ja) + date_suffix
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        f'<title data-ja="{escape(title_ja + date_suffix, quote=True)}" '
        f'data-en="{escape(title_en + date_suffix, quote=True)}">{escape(initial_title)}</title>'
        f"<style>{CSS}</style></head>"
        f'<body class="lang-{lang}" data-default-lang="{lang}" data-as-of="{as_of.isoformat() if as_of else ""}">'
        + body
        + f"<script>{JS}</script></body></html>\n"
    )


def today_jst() -> dt.date:
    """Today in JST (fallback audit date)."""
    return dt.datetime.now(JST).date()
