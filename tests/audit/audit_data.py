"""A small audit data directory written as real files (SPEC §3) for the end-to-end tests."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

HOLDER = "健康保険課"

ACCOUNT_COLUMNS = ("account_id", "system", "person_id", "employment", "department", "roles", "permission",
                   "issued_at", "issued_by", "approved_by", "request_ref", "revoked_at", "expires_at",
                   "last_login_at")


def _csv(path: Path, header: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(["" if r.get(c) is None else r.get(c) for c in header])


def account(account_id: str, **kw: Any) -> dict[str, Any]:
    row = {"account_id": account_id, "system": "fukushi", "person_id": f"P-{account_id}", "employment": "regular",
           "department": HOLDER, "roles": "kouki_staff", "permission": "read", "issued_at": "2025-04-01",
           "issued_by": "P-OWNER", "last_login_at": "2025-05-30T09:00:00+09:00"}
    row.update(kw)
    return row


def event(n: int, ts: str, account_id: str, action: str = "view", **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"ts": ts, "system": "fukushi", "seq": n, "event_id": f"E{n:05d}",
                           "account_id": account_id, "action": action}
    if action not in ("login", "logout"):
        row.update(resource="kihon_joho", affair="kouki-01")
    row.update(kw)
    return {k: v for k, v in row.items() if v is not None}


def write_data(
    root: Path,
    events: dict[str, list[Any]],
    accounts: list[dict[str, Any]],
    personnel: list[dict[str, Any]] = (),  # type: ignore[assignment]
    officers: list[dict[str, Any]] | None = (),  # type: ignore[assignment]
    terminals: list[dict[str, Any]] | None = None,
    approvals: list[dict[str, Any]] | None = None,
) -> Path:
    """Write DATA_DIR; ``events`` maps a file name to its lines (dicts → JSON, str → raw line)."""
    (root / "events").mkdir(parents=True, exist_ok=True)
    for name, lines in events.items():
        with open(root / "events" / name, "w", encoding="utf-8", newline="") as fh:
            for line in lines:
                fh.write((json.dumps(line, ensure_ascii=False) if isinstance(line, dict) else line) + "\n")
    _csv(root / "accounts.csv", ACCOUNT_COLUMNS, accounts)
    _csv(root / "personnel.csv", ("person_id", "event", "effective_date", "from_department", "to_department"),
         list(personnel))
    if officers is not None:
        _csv(root / "officers.csv", ("system", "role", "person_id", "from", "to"),
             [{"system": "fukushi", "role": "system_owner", "person_id": "P-OWNER", "from": "2025-01-01"},
              *officers])
    if terminals is not None:
        _csv(root / "terminals.csv", ("terminal_id", "department"), terminals)
    if approvals is not None:
        _csv(root / "approvals.csv", ("approval_id", "account_id", "from", "to", "approved_by", "witness"),
             approvals)
    return root


def clean_day(root: Path) -> Path:
    """One quiet business day with nothing to report at ``high`` or above (as of 2025-06-02)."""
    evs = [event(1, "2025-05-30T08:40:00+09:00", "S1", "login", session_id="s1")]
    n = 1
    for minute in range(0, 9 * 60, 30):  # every 30 minutes: no LOG_GAP
        n += 1
        h, m = divmod(8 * 60 + 45 + minute, 60)
        evs.append(event(n, f"2025-05-30T{h:02d}:{m:02d}:00+09:00", "S1", subject_id=f"SUB{n}"))
    n += 1
    evs.append(event(n, "2025-05-30T17:50:00+09:00", "S1", "logout", session_id="s1"))
    return write_data(root, {"a.jsonl": evs}, [account("S1")])
