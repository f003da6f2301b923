"""`pia-policy changes`: the 別添3-style 変更箇所 table, generated from the policy.

``metadata.toml`` maps each policy element to the 評価書 item it belongs to (``[items.<name>]``)
and records, per version, how the change into it was filed (``[changes."<version>"]``):

``[items.<name>]``
    ``item`` (the 評価書 item, as the 別添3 names it), ``important`` (a change of this item is a
    重要な変更), and one of the element kinds:
    ``kind = "affairs"`` — the members of a ``g4`` group in the version (``group``), worded by
    ``wording`` with ``{numbers}`` (the affair numbers joined with 「、」);
    ``kind = "lines"`` — whether the version has any of the policy lines ``lines`` (ids or glob
    patterns such as ``bessi1-*-transfer``), worded ``absent`` / ``present``; when both versions
    have such lines but they differ, each side also lists its lines.
``[changes."<version>"]``
    ``timing`` (事前 | 事後, as filed) or ``submitted`` (a date), and ``reason`` (why a 重要な変更
    was filed 事後; `pia-policy lint` reports it missing).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import html
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from ._source import PolicyLine, PolicyVersion

__all__ = ["ChangeRow", "CHANGE_COLUMNS", "RECORD_CODES", "change_rows", "change_summary", "changes_problems", "version_changes",
           "render_changes", "render_csv", "render_markdown", "render_html"]

#: The columns of the 別添3 変更箇所 table.
CHANGE_COLUMNS: tuple[str, ...] = ("変更日", "項目", "変更前の記載", "変更後の記載", "提出時期", "提出時期に係る説明")

PRIOR, AFTER = "事前", "事後"


@dataclass(frozen=True)
class ChangeRow:
    """One row of the 変更箇所 table (one element that changed into one version)."""

    version: str
    changed_on: dt.date
    element: str
    item: str
    before: str
    after: str
    timing: str  # 事前 | 事後 | "" (not recorded)
    explanation: str
    important: bool

    def cells(self) -> tuple[str, ...]:
        from ..report._wareki import to_wareki

        return (to_wareki(self.changed_on) or self.changed_on.isoformat(), self.item, self.before, self.after,
                self.timing, self.explanation)


# ---- elements (one small wording unit per kind: (spec, lines, old, new) -> (before, after)) ----------

def _affair_numbers(spec: Mapping[str, Any], lines: Sequence[PolicyLine], version: str) -> str:
    group = str(spec.get("group", ""))
    members = {pl.values[0] for pl in lines if pl.ptype == "g4" and pl.values[1] == group and pl.values[2] == version}

    def number(code: str) -> tuple[int, str]:
        tail = code.rsplit("-", 1)[-1]
        return (int(tail), str(int(tail))) if tail.isdigit() else (10**6, code)

    numbers = "、".join(n for _k, n in sorted(number(m) for m in members))
    return str(spec.get("wording", "{numbers}")).format(numbers=numbers)


def _affairs(spec: Mapping[str, Any], lines: Sequence[PolicyLine], old: str, new: str) -> tuple[str, str]:
    return _affair_numbers(spec, lines, old), _affair_numbers(spec, lines, new)


def _matching(spec: Mapping[str, Any], lines: Sequence[PolicyLine], version: str) -> list[str]:
    """The version's policy lines whose id matches one of ``lines`` (ids or glob patterns), version left out."""
    patterns = [str(p) for p in spec.get("lines", ())]
    return sorted(f"{pl.values[-1]}: " + ", ".join(pl.values[:5] + pl.values[6:-1])
                  for pl in lines if pl.ptype == "p" and pl.values[5] == version
                  and any(fnmatch.fnmatchcase(pl.values[-1], p) for p in patterns))


def _lines(spec: Mapping[str, Any], lines: Sequence[PolicyLine], old: str, new: str) -> tuple[str, str]:
    """``absent`` / ``present``; when both versions have such lines but they differ, each side's lines too."""
    a, b = _matching(spec, lines, old), _matching(spec, lines, new)
    absent, present = str(spec.get("absent", "")), str(spec.get("present", ""))
    if a and b and a != b:
        return "\n".join([present, *a]), "\n".join([present, *b])
    return (present if a else absent), (present if b else absent)


_KINDS: dict[str, Callable[[Mapping[str, Any], Sequence[PolicyLine], str, str], tuple[str, str]]] = {
    "affairs": _affairs,
    "lines": _lines,
}


def _timing(record: Mapping[str, Any], in_force: dt.date, submitted: dt.date | None) -> str:
    if submitted is None and record.get("submitted"):
        submitted = dt.date.fromisoformat(str(record["submitted"]))
    if submitted is not None:
        return PRIOR if submitted < in_force else AFTER
    timing = str(record.get("timing", ""))
    return timing if timing in (PRIOR, AFTER) else ""


def _explanation(important: bool, timing: str, reason: str) -> str:
    if important:
        if timing == AFTER:
            return f"重要な変更該当（{reason}）" if reason else "重要な変更該当（事後の理由の記録なし）"
        return "重要な変更"
    if timing == PRIOR:
        return "事後で足りるものの任意に事前に提出"
    return "重要な変更にあたる項目に含まれない"


def change_rows(lines: Sequence[PolicyLine], versions: Sequence[PolicyVersion], metadata: Mapping[str, Any],
                from_version: str, to_version: str, *, submitted: dt.date | None = None) -> list[ChangeRow]:
    """Rows for every element that changed between consecutive versions from ``from_version`` to ``to_version``."""
    ids = [v.id for v in versions]
    for v in (from_version, to_version):
        if v not in ids:
            raise ValueError(f"unknown version {v!r} (valid: {', '.join(ids)})")
    i, j = ids.index(from_version), ids.index(to_version)
    if j < i:
        raise ValueError(f"--to {to_version} is older than --from {from_version}")
    items: Mapping[str, Any] = metadata.get("items", {})
    records: Mapping[str, Any] = metadata.get("changes", {})
    rows: list[ChangeRow] = []
    for old, new in zip(versions[i:j], versions[i + 1:j + 1]):
        record = records.get(new.id, {})
        timing = _timing(record, new.in_force_from, submitted)
        for name, spec in items.items():
            before, after = _KINDS[str(spec.get("kind"))](spec, lines, old.id, new.id)
            if before == after:
                continue
            important = bool(spec.get("important", False))
            rows.append(ChangeRow(new.id, new.in_force_from, name, str(spec.get("item", name)), before, after,
                                  timing, _explanation(important, timing, str(record.get("reason", ""))), important))
    return rows


def change_summary(rows: Iterable[ChangeRow]) -> str:
    """One line for a report: the 評価書 items whose wording changed, with the filing explanation."""
    return "／".join(f"「{r.item}」の記載を変更（{r.explanation}）" for r in rows)


def version_changes(policy: Any, used: Iterable[str]) -> list[dict[str, Any]]:
    """The version changes inside an audit window (between the first and the last version ``used``),
    for the summary and the report: version, date, one-line summary and the command for the table."""
    versions = list(policy.versions)
    ids = [v.id for v in versions]
    seen = [ids.index(v) for v in used if v in ids]
    if not seen or min(seen) == max(seen):
        return []
    first, last = min(seen), max(seen)
    where = f" --policy {policy.directory}" if getattr(policy, "directory", None) else ""
    out = []
    for old, new in zip(versions[first:last], versions[first + 1:last + 1]):
        rows = change_rows(policy.source_lines, versions, policy.metadata, old.id, new.id)
        out.append({
            "from_version": old.id, "version": new.id, "in_force_from": new.in_force_from.isoformat(),
            "summary": change_summary(rows) or "評価書の記載の変更なし（方針の行のみ）",
            "table": f"pia-policy changes --from {old.id} --to {new.id}{where} --format html",
        })
    return out


#: Codes of :func:`changes_problems`: they concern the filing record (評価書 items, 提出時期), not what the
#: policy decides, so `lint` reports them but loading a policy (files or database) does not fail on them.
RECORD_CODES: frozenset[str] = frozenset({"invalid_item", "important_change_without_reason"})


def changes_problems(lines: Sequence[PolicyLine], versions: Sequence[PolicyVersion],
                     metadata: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(version, code, message) for `lint`: unknown element kinds, and 重要な変更 filed 事後 without a reason."""
    out: list[tuple[str, str, str]] = []
    items: Mapping[str, Any] = metadata.get("items", {})
    for name, spec in items.items():
        if spec.get("kind") not in _KINDS:
            out.append(("", "invalid_item", f"[items.{name}] kind {spec.get('kind')!r} is not one of {', '.join(_KINDS)}"))
    if any(code == "invalid_item" for _v, code, _m in out) or len(versions) < 2:
        return out
    for row in change_rows(lines, versions, metadata, versions[0].id, versions[-1].id):
        reason = str(metadata.get("changes", {}).get(row.version, {}).get("reason", ""))
        if row.important and row.timing == AFTER and not reason:
            out.append((row.version, "important_change_without_reason",
                        f"{row.item} changed in version {row.version} is a 重要な変更 filed 事後, but "
                        f'[changes."{row.version}"] records no reason (add reason = "...")'))
    return out


# ---- renderers -----------------------------------------------------------------------------------

def render_csv(rows: Sequence[ChangeRow]) -> str:
    """UTF-8 CSV text with BOM and CRLF, formula-safe cells (``outputs.safe_cell``)."""
    import csv
    import io

    from ..outputs import safe_cell

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CHANGE_COLUMNS)
    for r in rows:
        writer.writerow([safe_cell(c) for c in r.cells()])
    return "\ufeff" + buf.getvalue()


def render_markdown(rows: Sequence[ChangeRow], title: str = "変更箇所") -> str:
    """A Markdown table (``|`` escaped, line breaks as ``<br>``)."""

    def cell(text: str) -> str:
        return html.escape(text, quote=False).replace("|", "\\|").replace("\n", "<br>")

    out = [f"# {title}", "", "| " + " | ".join(CHANGE_COLUMNS) + " |", "|" + "---|" * len(CHANGE_COLUMNS)]
    out += ["| " + " | ".join(cell(c) for c in r.cells()) + " |" for r in rows]
    if not rows:
        out.append("| " + " | ".join(["—"] + [""] * (len(CHANGE_COLUMNS) - 1)) + " |")
    return "\n".join(out) + "\n"


_HTML_CSS = """@page { size: A4 landscape; margin: 12mm; }
body { font-family: "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", sans-serif; font-size: 10pt; margin: 0; }
h1 { font-size: 13pt; margin: 0 0 6pt; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th, td { border: 1px solid #333; padding: 4pt; vertical-align: top; word-break: break-all; white-space: pre-wrap; }
th { background: #eee; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
col.date { width: 11%; } col.item { width: 19%; } col.text { width: 25%; } col.timing { width: 6%; } col.why { width: 14%; }
"""


def render_html(rows: Sequence[ChangeRow], title: str = "変更箇所") -> str:
    """A self-contained page, printable on A4 landscape."""
    e = html.escape
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r.cells()) + "</tr>" for r in rows)
    if not rows:
        body = f'<tr><td colspan="{len(CHANGE_COLUMNS)}">変更なし</td></tr>'
    return (
        "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{e(title)}</title><style>{_HTML_CSS}</style></head><body>"
        f"<h1>（別添3）{e(title)}</h1><table>"
        '<colgroup><col class="date"><col class="item"><col class="text"><col class="text">'
        '<col class="timing"><col class="why"></colgroup>'
        "<thead><tr>" + "".join(f"<th>{e(c)}</th>" for c in CHANGE_COLUMNS) + "</tr></thead>"
        f"<tbody>{body}</tbody></table></body></html>\n"
    )


def render_changes(rows: Sequence[ChangeRow], fmt: str) -> str:
    """The table as ``csv``, ``html`` or ``md``."""
    renderers = {"csv": render_csv, "html": render_html, "md": render_markdown}
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r} (valid: {', '.join(renderers)})")
    return renderers[fmt](rows)
