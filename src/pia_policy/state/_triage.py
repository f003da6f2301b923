"""Triage actions and the findings list of a state (SPEC §8 ``triage`` / ``findings``)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Iterator

from .._i18n import msg
from ._night import effective_triage
from ._statuses import LIST_STATUSES, TRIAGE_STATUSES
from ._store import StateError, StateStore

__all__ = ["triage", "list_findings", "LIST_STATUSES", "LIST_COLUMNS"]

#: Columns of ``findings --format csv`` (jsonl: the same keys, evidence and history as lists).
LIST_COLUMNS: tuple[str, ...] = (
    "finding_id", "status", "lifecycle", "rule", "severity", "system", "account_id", "person_id", "department",
    "first_ts", "last_ts", "event_count", "first_seen", "last_seen", "triage_by", "triage_reason", "triage_until",
    "triage_at", "evidence", "basis", "action",
)


def _text(value: str | None, option: str) -> str:
    if value is None or not value.strip() or any(ord(c) < 32 for c in value):
        raise StateError(msg(f"{option}: 空でない1行の文字列が必要です", f"{option}: one line of non-empty text is required"))
    return value.strip()


def triage(state: str, finding_id: str, *, status: str, by: str, reason: str,
           until: str | None = None) -> dict[str, Any]:
    """Record one triage action (kept forever); :class:`StateError` naming the problem otherwise."""
    if status not in TRIAGE_STATUSES:
        raise StateError(msg(f"--status: {status!r} は無効です（有効: {', '.join(TRIAGE_STATUSES)}）",
                             f"--status: invalid value {status!r} (valid: {', '.join(TRIAGE_STATUSES)})"))
    by, reason = _text(by, "--by"), _text(reason, "--reason")
    if until is not None:
        if status != "acknowledged":
            raise StateError(msg("--until は --status acknowledged のときだけ指定できます",
                                 "--until goes with --status acknowledged only"))
        try:
            until = dt.date.fromisoformat(until.strip()).isoformat()
        except ValueError:
            raise StateError(msg(f"--until: 日付 YYYY-MM-DD ではありません（{until!r}）",
                                 f"--until: not a date YYYY-MM-DD ({until!r})")) from None
    store = StateStore(state)
    try:
        if not store.knows_finding(finding_id):
            raise StateError(msg(
                f"{finding_id}: この状態（{store.where}）に記録された指摘ではありません（pia-policy findings で確認）",
                f"{finding_id}: no such finding in the state {store.where} (list them with pia-policy findings)"))
        from ..outputs import mask_value

        return dict(store.add_triage(finding_id, status, mask_value(by), mask_value(reason), until))
    finally:
        store.close()


def list_findings(state: str, *, status: str | None = None, rule: str | None = None) -> Iterator[dict[str, Any]]:
    """The latest night's findings (also those closed or resolved) with lifecycle, triage and history."""
    if status is not None and status not in LIST_STATUSES:
        raise StateError(msg(f"--status: {status!r} は無効です（有効: {', '.join(LIST_STATUSES)}）",
                             f"--status: invalid value {status!r} (valid: {', '.join(LIST_STATUSES)})"))
    if rule is not None:
        from ..rules import RULE_IDS

        if rule not in RULE_IDS:
            raise StateError(msg(f"--rule: {rule!r} は無効です（有効: {', '.join(RULE_IDS)}）",
                                 f"--rule: invalid value {rule!r} (valid: {', '.join(RULE_IDS)})"))
    store = StateStore(state)
    try:
        night, rows = store.latest_findings()
        history = store.triage_history([r["finding_id"] for r in rows])
    finally:
        store.close()
    for r in rows:
        body = json.loads(r["body"])
        steps = history.get(r["finding_id"], [])
        latest = steps[-1] if steps else None
        if r["lifecycle"] == "resolved":
            st = "resolved"
        elif latest is None:
            st = "open"
        else:
            st = latest["status"] if effective_triage(latest, night or "") != "open" else "open"
        if (status is not None and st != status) or (rule is not None and r["rule"] != rule):
            continue
        yield {
            "finding_id": r["finding_id"], "status": st, "lifecycle": r["lifecycle"], "rule": r["rule"],
            "severity": r["severity"], "system": r["system"], "account_id": r["account_id"],
            "person_id": body.get("person_id"), "department": body.get("department"),
            "first_ts": r["first_ts"], "last_ts": r["last_ts"], "event_count": r["event_count"],
            "first_seen": r["first_seen"], "last_seen": r["last_seen"],
            "triage_by": latest and latest["by"], "triage_reason": latest and latest["reason"],
            "triage_until": latest and latest["until"], "triage_at": latest and latest["at"],
            "evidence": body.get("evidence", []), "basis": body.get("basis"), "action": body.get("action"),
            "night": night, "triage_history": steps,
        }
