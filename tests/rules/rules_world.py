"""Rule-test world: build the ingested tables (DESIGN.md) straight from Python rows, then run the
real engine (DuckDB) with the real shipped policy. No file parsing is involved here."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from pia_policy.audit import Thresholds, read_findings, run_engine
from pia_policy.models import Finding

_JST = dt.timedelta(hours=9)

HOLDER = "健康保険課"
AS_OF = "2025-06-02"

_SCHEMA = {
    "events": "file VARCHAR, file_idx INTEGER, line BIGINT, event_id VARCHAR, ts TIMESTAMP, system VARCHAR, "
    "seq BIGINT, account_id VARCHAR, session_id VARCHAR, terminal_id VARCHAR, action VARCHAR, resource VARCHAR, "
    "affair VARCHAR, subject_id VARCHAR, recipient_department VARCHAR, method VARCHAR, record_ref VARCHAR",
    "duplicates": "file VARCHAR, line BIGINT, event_id VARCHAR, first_file VARCHAR, first_line BIGINT",
    "rejected": "file VARCHAR, line BIGINT, reason VARCHAR, field VARCHAR, detail VARCHAR, excerpt VARCHAR",
    "accounts": "file VARCHAR, line BIGINT, account_id VARCHAR, system VARCHAR, person_id VARCHAR, "
    "employment VARCHAR, department VARCHAR, roles VARCHAR, permission VARCHAR, issued_at TIMESTAMP, "
    "issued_by VARCHAR, approved_by VARCHAR, request_ref VARCHAR, revoked_at TIMESTAMP, expires_at TIMESTAMP, "
    "last_login_at TIMESTAMP",
    "account_roles": "system VARCHAR, account_id VARCHAR, role VARCHAR",
    "personnel": "file VARCHAR, line BIGINT, person_id VARCHAR, event VARCHAR, effective_at TIMESTAMP, "
    "from_department VARCHAR, to_department VARCHAR",
    "officers": "system VARCHAR, role VARCHAR, person_id VARCHAR, from_at TIMESTAMP, to_at TIMESTAMP",
    "terminals": "terminal_id VARCHAR, department VARCHAR",
    "approvals": "approval_id VARCHAR, account_id VARCHAR, from_at TIMESTAMP, to_at TIMESTAMP, "
    "approved_by VARCHAR, witness VARCHAR",
    "pledges": "person_id VARCHAR, signed_at TIMESTAMP, submitted_to VARCHAR",
    "consultations": "recipient_department VARCHAR, purpose VARCHAR, agreed_at TIMESTAMP",
    "contractor_roster": "person_id VARCHAR, role VARCHAR, from_at TIMESTAMP, to_at TIMESTAMP",
    "log_archive": "system VARCHAR, from_at TIMESTAMP, to_at TIMESTAMP",
}
_COLUMNS = {t: [c.strip().split()[0] for c in s.split(",")] for t, s in _SCHEMA.items()}


def utc(value: str | None) -> dt.datetime | None:
    """JST text (date → 00:00 JST; datetime without offset → JST) as naive UTC."""
    if value is None:
        return None
    if len(value) == 10:
        return dt.datetime.fromisoformat(value) - _JST
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        return parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed - _JST


class World:
    """A tiny audit data set: add ledger rows and events, then ``run()`` the real engine."""

    def __init__(self, policy: Any, as_of: str = AS_OF) -> None:
        self.policy = policy
        self.as_of = as_of
        self.rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in _SCHEMA}
        self.present = {"accounts.csv", "personnel.csv", "officers.csv", "terminals.csv", "approvals.csv"}
        self._n = 0

    def account(
        self,
        account_id: str,
        *,
        system: str = "fukushi",
        person_id: str | None = None,
        employment: str = "regular",
        department: str = HOLDER,
        roles: tuple[str, ...] = ("kouki_staff",),
        permission: str = "read",
        issued_at: str | None = "2025-01-06",
        issued_by: str | None = "P-OWNER",
        approved_by: str | None = None,
        request_ref: str | None = None,
        revoked_at: str | None = None,
        expires_at: str | None = None,
        last_login_at: str | None = None,
    ) -> str:
        line = len(self.rows["accounts"]) + 2
        person = person_id or f"P-{account_id}"
        self.rows["accounts"].append((
            "accounts.csv", line, account_id, system, person, employment, department, ";".join(sorted(roles)),
            permission, utc(issued_at), issued_by, approved_by, request_ref, utc(revoked_at), utc(expires_at),
            utc(last_login_at),
        ))
        for r in roles:
            self.rows["account_roles"].append((system, account_id, r))
        return account_id

    def event(
        self,
        ts: str,
        account_id: str,
        action: str = "view",
        *,
        system: str = "fukushi",
        resource: str | None = "kihon_joho",
        affair: str | None = "kouki-01",
        seq: int | None = None,
        session_id: str | None = None,
        terminal_id: str | None = None,
        subject_id: str | None = None,
        recipient_department: str | None = None,
        method: str | None = None,
        record_ref: str | None = None,
        file: str = "events/a.jsonl",
        event_id: str | None = None,
    ) -> str:
        self._n += 1
        eid = event_id or f"E{self._n:07d}"
        if action in ("login", "logout"):
            resource = None if resource == "kihon_joho" else resource
            affair = None if affair == "kouki-01" else affair
        self.rows["events"].append((
            file, 0, self._n, eid, utc(ts), system, seq, account_id, session_id, terminal_id, action, resource,
            affair, subject_id, recipient_department, method, record_ref,
        ))
        return eid

    def personnel(self, person_id: str, event: str, effective: str,
                  from_department: str | None = None, to_department: str | None = None) -> None:
        line = len(self.rows["personnel"]) + 2
        self.rows["personnel"].append(
            ("personnel.csv", line, person_id, event, utc(effective), from_department, to_department))

    def officer(self, system: str, role: str, person_id: str, from_: str, to: str | None = None) -> None:
        self.rows["officers"].append((system, role, person_id, utc(from_), utc(to)))

    def terminal(self, terminal_id: str, department: str) -> None:
        self.rows["terminals"].append((terminal_id, department))

    def approval(self, account_id: str, from_: str, to: str | None, approved_by: str | None = "P-BOSS",
                 witness: str | None = "P-WITNESS") -> None:
        n = len(self.rows["approvals"]) + 1
        self.rows["approvals"].append((f"A{n}", account_id, utc(from_), utc(to), approved_by, witness))

    def pledge(self, person_id: str, signed_at: str, submitted_to: str | None = "所属長") -> None:
        self.present.add("pledges.csv")
        self.rows["pledges"].append((person_id, utc(signed_at), submitted_to))

    def consultation(self, recipient_department: str, purpose: str, agreed_on: str) -> None:
        self.present.add("consultations.csv")
        self.rows["consultations"].append((recipient_department, purpose, utc(agreed_on)))

    def roster(self, person_id: str, from_: str, to: str | None = None, role: str = "worker") -> None:
        self.present.add("contractor_roster.csv")
        self.rows["contractor_roster"].append((person_id, role, utc(from_), utc(to)))

    def archive(self, system: str, from_: str, to: str) -> None:
        self.present.add("log_archive.csv")
        self.rows["log_archive"].append((system, utc(from_), utc(to)))

    def run(self, **thresholds: Any) -> list[Finding]:
        con = duckdb.connect()
        try:
            for table, schema in _SCHEMA.items():
                con.execute(f"CREATE TABLE {table} ({schema})")
                rows = self.rows[table]
                if rows:
                    marks = ", ".join("?" for _ in _COLUMNS[table])
                    con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
            self.last = run_engine(
                con, self.policy, as_of_utc=utc(self.as_of),
                params=Thresholds.model_validate(thresholds or {}).params(), present=self.present,
            )
            return read_findings(con)
        finally:
            con.close()

    def rule(self, rule_id: str, **thresholds: Any) -> list[Finding]:
        """The findings of one rule."""
        return [f for f in self.run(**thresholds) if f.rule == rule_id]


def flagged(findings: list[Finding], rule_id: str) -> set[str]:
    """event_ids cited by the findings of ``rule_id``."""
    return {e.event_id for f in findings if f.rule == rule_id for e in f.evidence if e.event_id}


def accounts_of(findings: list[Finding], rule_id: str) -> set[str | None]:
    return {f.account_id for f in findings if f.rule == rule_id}
