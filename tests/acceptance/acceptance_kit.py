"""Write real audit data directories (SPEC §3) in every accepted file form, and read the outputs back."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any, Iterable

__all__ = [
    "EVENT_COLUMNS",
    "ACCOUNT_COLUMNS",
    "HOLDER",
    "account",
    "ev",
    "write_events",
    "write_ledgers",
    "read_jsonl",
    "read_summary",
]

HOLDER = "健康保険課"
EVENT_COLUMNS = ("ts", "system", "seq", "event_id", "account_id", "session_id", "terminal_id", "action", "resource",
                 "affair", "subject_id", "recipient_department", "method", "record_ref", "note")
ACCOUNT_COLUMNS = ("account_id", "system", "person_id", "employment", "department", "roles", "permission",
                   "issued_at", "issued_by", "approved_by", "request_ref", "revoked_at", "expires_at",
                   "last_login_at")
_counter = iter(range(1, 10**9))


def account(account_id: str, **kw: Any) -> dict[str, Any]:
    """A ledger row: a holder-department kouki_staff ``read`` account issued by the fukushi owner."""
    row: dict[str, Any] = {"account_id": account_id, "system": "fukushi", "person_id": f"P-{account_id}",
                           "employment": "regular", "department": HOLDER, "roles": "kouki_staff",
                           "permission": "read", "issued_at": "2025-04-01", "issued_by": "P-OWNER",
                           "last_login_at": "2025-11-27T09:00:00+09:00"}
    row.update(kw)
    return row


def ev(ts: str, account_id: str, action: str = "view", **kw: Any) -> dict[str, Any]:
    """An access event with a fresh event_id; view/search/... default to kihon_joho in affair kouki-01."""
    row: dict[str, Any] = {"ts": ts, "system": "fukushi", "event_id": f"E{next(_counter):06d}",
                           "account_id": account_id, "action": action}
    if action not in ("login", "logout"):
        row.update(resource="kihon_joho", affair="kouki-01")
    row.update(kw)
    return {k: v for k, v in row.items() if v is not None}


def _csv_text(rows: Iterable[dict[str, Any]], columns: Iterable[str], newline: str = "\n") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=newline)
    cols = list(columns)
    w.writerow(cols)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in cols])
    return buf.getvalue()


def write_events(events_dir: Path, name: str, rows: list[dict[str, Any] | str]) -> Path:
    """One events file; the form follows the name: ``.jsonl``, ``.jsonl.gz``, ``.csv`` (UTF-8 + BOM, CRLF)
    or ``.cp932.csv`` (Shift_JIS). Strings are written as raw lines."""
    events_dir.mkdir(parents=True, exist_ok=True)
    path = events_dir / name
    if name.endswith(".csv"):
        lines = [r if isinstance(r, str) else None for r in rows]
        text = _csv_text([r for r in rows if isinstance(r, dict)], EVENT_COLUMNS, "\r\n")
        extra = "".join(line + "\r\n" for line in lines if line is not None)
        data = (text + extra)
        path.write_bytes(data.encode("cp932") if name.endswith(".cp932.csv") else b"\xef\xbb\xbf" + data.encode())
        return path
    body = "".join((json.dumps(r, ensure_ascii=False) if isinstance(r, dict) else r) + "\n" for r in rows).encode()
    path.write_bytes(gzip.compress(body) if name.endswith(".gz") else body)
    return path


def write_ledgers(
    root: Path,
    accounts: list[dict[str, Any]],
    personnel: list[dict[str, Any]] = (),  # type: ignore[assignment]
    officers: list[dict[str, Any]] | None = None,
    terminals: list[dict[str, Any]] | None = None,
    approvals: list[dict[str, Any]] | None = None,
) -> Path:
    """accounts.csv, personnel.csv and (when given) officers.csv, terminals.csv, approvals.csv (UTF-8)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "accounts.csv").write_text(_csv_text(accounts, ACCOUNT_COLUMNS), encoding="utf-8")
    (root / "personnel.csv").write_text(
        _csv_text(personnel, ("person_id", "event", "effective_date", "from_department", "to_department")),
        encoding="utf-8")
    if officers is not None:
        (root / "officers.csv").write_text(_csv_text(officers, ("system", "role", "person_id", "from", "to")),
                                           encoding="utf-8")
    if terminals is not None:
        (root / "terminals.csv").write_text(_csv_text(terminals, ("terminal_id", "department")), encoding="utf-8")
    if approvals is not None:
        (root / "approvals.csv").write_text(
            _csv_text(approvals, ("approval_id", "account_id", "from", "to", "approved_by", "witness")),
            encoding="utf-8")
    return root


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON Lines output file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def read_summary(out: Path) -> dict[str, Any]:
    """summary.json of an output directory."""
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))
