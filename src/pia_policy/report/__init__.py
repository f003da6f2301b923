"""Reports for people: ``report.html`` (one self-contained page) and ``notices/<所属>.html``.

``write_reports`` is called by the outputs writer with the audit's staging directory. The page
needs no network: CSS, script and SVG charts are inline, and its numbers come from the same
``summary`` that ``summary.json`` holds (every chart bar and card carries them as
``data-value`` attributes). Timestamps without an offset are read as the engine's naive UTC
and shown in JST, dates as 和暦 with the ISO date beside.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from pia_policy._i18n import msg
from pia_policy.models import Finding

from ._common import mask, safe_filename
from ._html import NoticeLink, render_report, today_jst
from ._notices import DEFAULT_SENDER, NOTICE_RULES, build_notices
from ._wareki import format_date, format_datetime, to_wareki

__all__ = [
    "write_reports",
    "write_reports_from_dir",
    "RebuildError",
    "audit_date",
    "to_wareki",
    "format_date",
    "format_datetime",
    "safe_filename",
    "NOTICE_RULES",
    "DEFAULT_SENDER",
    "REPORT_FILE",
    "REPORT_ROWS",
    "NOTICES_DIR",
]

REPORT_FILE = "report.html"
NOTICES_DIR = "notices"
#: Findings shown in the report's table (the first ones, severity first); findings.csv has all.
REPORT_ROWS = 10_000


def audit_date(summary: Mapping[str, Any]) -> dt.date:
    """The audit date: ``summary["as_of"]``, else the JST date of ``audit_time``, else today (JST)."""
    value = summary.get("as_of")
    if value:
        try:
            return dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            pass
    from ._wareki import to_jst

    when = to_jst(summary.get("audit_time"))
    return when.date() if when else today_jst()


def _finding(row: Mapping[str, Any]) -> Finding:
    """A findings.jsonl row as a Finding (with its SPEC §8 lifecycle fields when it has them)."""
    if "lifecycle" in row:
        from pia_policy.state import TrackedFinding

        return TrackedFinding.model_validate(row)
    return Finding.model_validate(row)


def _stream(directory: Path, findings: Iterable[Finding | Mapping[str, Any]] | None) -> Iterator[Finding]:
    """``findings`` as models; None: ``directory/findings.jsonl`` read one line at a time."""
    if findings is None:
        with open(directory / "findings.jsonl", encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield _finding(json.loads(line))
        return
    for f in findings:
        yield f if isinstance(f, Finding) else _finding(f)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    # Every string was masked where it was placed; this last pass is the safety net.
    tmp.write_text(mask(text), encoding="utf-8", newline="\n")
    os.replace(tmp, path)


def write_reports(
    directory: Path,
    findings: Iterable[Finding | Mapping[str, Any]] | None,
    summary: dict[str, Any],
    *,
    reply_days: int = 14,
    lang: str = "ja",
    sender: str = DEFAULT_SENDER,
    notices: bool = True,
    max_rows: int = REPORT_ROWS,
    total: int | None = None,
) -> list[str]:
    """Write ``report.html`` and ``notices/<department>.html`` into ``directory``.

    ``findings`` (in output order, severity first) is read once as a stream; None reads
    ``directory/findings.jsonl``. Only the first ``max_rows`` (the findings table) and the
    findings of :data:`NOTICE_RULES` (the notices) are kept in memory; the cards and charts
    count every finding. With ``total`` (the number of findings of the run), ``findings`` may
    hold only those two parts. ``reply_days``: the notices' reply deadline, counted from the
    audit date; ``lang``: the page's first language (the page switches); ``sender``: 発信者 of
    the notices; ``notices=False`` writes the report only. Returns the relative paths written (POSIX).
    """
    directory = Path(directory)
    if isinstance(findings, list) and any(getattr(f, "lifecycle", None) for f in findings):
        # SPEC §8 (a run with a state hands over its whole list): new and reopened first
        findings = sorted(findings, key=lambda f: getattr(f, "lifecycle", None) not in ("new", "reopened"))
    items: list[Finding] = []
    to_notify: list[Finding] = []
    seen = 0
    for f in _stream(directory, findings):
        seen += 1
        if len(items) < max_rows:
            items.append(f)
        if notices and f.rule in NOTICE_RULES:
            to_notify.append(f)
    as_of = audit_date(summary)
    reply_by = as_of + dt.timedelta(days=reply_days)
    written: list[str] = []
    links: list[NoticeLink] = []
    unaddressed: list[Finding] = []
    if notices:
        built, unaddressed = build_notices(to_notify, summary, as_of=as_of, reply_days=reply_days, sender=sender)
        for n in built:
            rel = f"{NOTICES_DIR}/{n.filename}"
            _write(directory / NOTICES_DIR / n.filename, n.html)
            written.append(rel)
            links.append(NoticeLink(n.department, rel, len(n.findings)))
    html = render_report(items, summary, lang=lang, notices=links, unaddressed=unaddressed,
                         as_of=as_of, reply_by=reply_by if links else None, max_rows=max_rows,
                         total=seen if total is None else total)
    _write(directory / REPORT_FILE, html)
    return [REPORT_FILE, *written]


class RebuildError(ValueError):
    """The output directory cannot be rebuilt safely (it fails verification, or it is signed and no key was given)."""


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        return
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def write_reports_from_dir(out_dir: Path, *, key: bytes | None = None, **kwargs: Any) -> list[str]:
    """Rebuild the report and notices from an audit's ``findings.jsonl`` and ``summary.json``.

    An audit output set (its summary.json lists ``outputs``) is rewritten as a whole through
    :func:`pia_policy.outputs.write_outputs`, so that ``pia-policy verify`` still holds afterwards:
    the set must verify first (with ``key`` when given), a signed set needs ``key`` to be signed
    again, and the replacement is atomic like the audit's own. Other directories (a summary and
    findings only) get the report files written in place. Raises :class:`RebuildError`.
    """
    out_dir = Path(out_dir)
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    if not (out_dir / "findings.jsonl").is_file():
        raise FileNotFoundError(f"{out_dir / 'findings.jsonl'}: no such file")
    # a list, so that a state's findings (SPEC §8) are ordered new and reopened first
    findings = [_finding(row) for row in _read_jsonl(out_dir / "findings.jsonl")]
    if "outputs" not in summary:
        return write_reports(out_dir, findings, summary, **kwargs)
    from pia_policy.outputs import verify, write_outputs

    if summary.get("signature") is not None and key is None:
        raise RebuildError(msg(
            f"{out_dir}: summary.json は署名されています。署名し直すため鍵を指定してください"
            "（--key-file または PIA_POLICY_SIGNING_KEY）",
            f"{out_dir}: summary.json is signed; give the key to sign it again (--key-file or PIA_POLICY_SIGNING_KEY)"))
    problems = verify(out_dir, key)
    if problems:
        raise RebuildError(msg(f"{out_dir}: 検証に失敗した出力は作り直しません: " + "; ".join(problems),
                               f"{out_dir}: will not rebuild an output that fails verification: " + "; ".join(problems)))
    mode = os.stat(out_dir / "findings.jsonl").st_mode & 0o777
    written: list[str] = []

    def extras(staging: Path) -> list[str]:
        written.extend(write_reports(staging, findings, summary, **kwargs))
        return written

    write_outputs(out_dir, findings=_read_jsonl(out_dir / "findings.jsonl"), summary=summary,
                  rejected=_read_jsonl(out_dir / "rejected.jsonl"),
                  duplicates=_read_jsonl(out_dir / "duplicates.jsonl"), extras=extras, file_mode=mode, key=key)
    return written
