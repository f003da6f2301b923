"""One night with a state (SPEC §8): order check, lock, carry in, lifecycle and triage, commit."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Literal

import duckdb
import pyarrow as pa

from ..models import Finding
from ..rules import get as get_rule
from . import _carry
from ._store import Base, StateStore

__all__ = ["Night", "TrackedFinding", "Triage", "RETENTION_DAYS", "LIFECYCLES", "effective_triage"]

#: Days an ``event_id`` is remembered for cross-night duplicates (SPEC §8 default).
RETENTION_DAYS = 35
#: Lifecycle values of a finding in findings.jsonl (``resolved``/``closed`` are in the state only).
LIFECYCLES: tuple[str, ...] = ("new", "ongoing", "reopened")


class Triage(dict[str, Any]):
    """The latest triage action of a finding: ``status, by, reason, until, at``."""


class TrackedFinding(Finding):
    """A finding of a night run with a state: SPEC §5 fields plus the lifecycle fields of SPEC §8."""

    lifecycle: Literal["new", "ongoing", "reopened"]
    first_seen: str
    last_seen: str
    triage: dict[str, Any] | None = None


def effective_triage(latest: dict[str, Any] | None, as_of: str) -> str:
    """How the latest triage action weighs on night ``as_of``: ``open``, ``quiet`` (does not count
    toward --fail-on: acknowledged in force or false_positive) or ``closed``."""
    if latest is None:
        return "open"
    status = latest["status"]
    if status == "false_positive":
        return "quiet"
    if status == "acknowledged":
        return "quiet" if not latest.get("until") or as_of <= latest["until"] else "open"
    return "closed" if status == "closed" else "open"


@dataclass
class Night:
    """A run of ``audit --state``: created before ingest, committed after the outputs are written."""

    store: StateStore
    as_of: dt.date
    audit_utc: dt.datetime
    retention_days: int = RETENTION_DAYS
    base: Base = field(init=False)
    count_changes: dict[str, int] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    blobs: dict[str, pa.Table] = field(default_factory=dict)
    seen: pa.Table | None = None
    systems: list[str] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.store.lock()
        try:
            self.base = self.store.base_for(self.as_of, self.retention_days)
        except BaseException:
            self.store.close()
            raise

    # -- DuckDB hooks ------------------------------------------------------------------------
    def prepare(self, con: duckdb.DuckDBPyConnection, counts: dict[str, Any]) -> None:
        """After ingest: duplicates across nights, resumed deferred events, context events."""
        ch = _carry.prepare(con, self.base, self.audit_utc)
        counts["duplicates"] = int(counts.get("duplicates", 0)) + ch["duplicates"]
        counts["events_evaluated"] = int(counts["events_evaluated"]) + ch["events"]
        counts["deferred"] = int(counts.get("deferred", 0)) + ch["deferred"]
        counts["resumed"] = ch["resumed"]

    def after_rules(self, con: duckdb.DuckDBPyConnection) -> None:
        """Between the engine's rules and its aggregation."""
        from ..audit import finding_id

        _carry.after_rules(con, self.base, self.audit_utc)
        self.touched = {finding_id(r, s, a) for r, s, a in con.execute(
            "SELECT rule, system, account_id FROM st_touched").fetchall()}
        self.blobs, self.seen = _carry.collect(con)
        self.systems = _carry.systems_with_events(con)

    # -- lifecycle ---------------------------------------------------------------------------
    def judge(self, findings: list[Finding]) -> tuple[list[TrackedFinding], list[TrackedFinding]]:
        """Lifecycle and triage of tonight's findings: (shown in findings.jsonl, counted toward --fail-on)."""
        night = self.as_of.isoformat()
        prev = {f["finding_id"]: f for f in self.base.findings}
        prev_run = self._base_run_at()
        ids = [f.finding_id for f in findings] + list(prev)
        history = self.store.triage_history(ids)
        shown: list[TrackedFinding] = []
        counted: list[TrackedFinding] = []
        tally = {"new": 0, "ongoing": 0, "reopened": 0, "resolved": 0, "suppressed": 0}
        tonight = set()
        for f in findings:
            tonight.add(f.finding_id)
            p = prev.get(f.finding_id)
            latest = history.get(f.finding_id, [None])[-1]
            weight = effective_triage(latest, night)
            account = get_rule(f.rule).scope == "account"
            was_hidden = p is not None and p["lifecycle"] in ("closed", "resolved")
            if weight == "closed":
                newly = p is None or p["lifecycle"] == "closed" or (prev_run is not None and latest["at"] >= prev_run)
                back = (p is None or p["lifecycle"] == "resolved") if account else f.finding_id in self.touched
                if newly and not back:
                    tally["suppressed"] += 1
                    self.rows.append(self._row(f, p, "closed", None))
                    continue
                if newly:
                    weight = "open"
            if p is None:
                life = "new"
            elif was_hidden:
                life = "reopened"
            else:
                life = "ongoing"
            tally[life] += 1
            tracked = TrackedFinding(**f.model_dump(), lifecycle=life,  # type: ignore[arg-type]
                                     first_seen=p["first_seen"] if p else night, last_seen=night,
                                     triage=dict(latest) if latest else None)
            shown.append(tracked)
            if weight == "quiet":
                tally["suppressed"] += 1
            else:
                counted.append(tracked)
            self.rows.append(self._row(f, p, life, tracked))
        for fid, p in prev.items():
            if fid in tonight:
                continue
            if p["lifecycle"] != "resolved":
                tally["resolved"] += 1
            self.rows.append({**{k: p[k] for k in p if k != "as_of"}, "holds": False, "lifecycle": "resolved"})
        seen_before = set(self.base.systems)
        self.summary = {
            "lifecycle": tally,
            "systems_silent": sorted(seen_before - set(self.systems)),
            "systems_seen": sorted(seen_before | set(self.systems)),
            "open_findings": len(shown),
            "base": self.base.as_of,
            "rerun": self.base.rerun,
        }
        return shown, counted

    def open_per_night(self, limit: int = 60) -> list[dict[str, Any]]:
        """Findings shown per night, the earlier nights from the state and tonight (the report's chart)."""
        night = self.as_of.isoformat()
        rows = [{"as_of": n["as_of"], "open": int(n.get("open_findings", 0))}
                for n in self.store.nights() if n["as_of"] < night]
        rows.append({"as_of": night, "open": int(self.summary.get("open_findings", 0))})
        return rows[-limit:]

    def _base_run_at(self) -> str | None:
        if self.base.as_of is None:
            return None
        for n in self.store.nights():
            if n["as_of"] == self.base.as_of:
                return str(n["run_at"])
        return None

    def _row(self, f: Finding, p: dict[str, Any] | None, life: str, shown: TrackedFinding | None) -> dict[str, Any]:
        from ..outputs import mask_value

        night = self.as_of.isoformat()
        body = mask_value(f.model_dump(mode="json"))
        return {
            "finding_id": f.finding_id, "rule": f.rule, "severity": f.severity, "system": f.system,
            "account_id": f.account_id, "event_count": f.event_count, "first_ts": f.first_ts, "last_ts": f.last_ts,
            "holds": True, "lifecycle": life, "first_seen": p["first_seen"] if p else night,
            "last_seen": night if shown is not None else (p["last_seen"] if p else None),
            "body": json.dumps(body, ensure_ascii=False),
        }

    # -- commit ------------------------------------------------------------------------------
    def commit(self, counts: dict[str, Any]) -> None:
        """Write the night (one transaction): after the outputs are written."""
        assert self.seen is not None
        self.store.commit_night(self.as_of, self.base, blobs=self.blobs, seen=self.seen, findings=self.rows,
                                summary={**self.summary, "counts": counts}, retention_days=self.retention_days)

    def close(self) -> None:
        """Release the state."""
        self.store.close()
