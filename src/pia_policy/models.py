"""Shared data models: ledger rows, decision requests, decisions and findings."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "System",
    "Action",
    "Resource",
    "Severity",
    "SYSTEMS",
    "ACTIONS",
    "RESOURCES",
    "MY_NUMBER_USE_ACTIONS",
    "SEVERITIES",
    "Account",
    "Officer",
    "AccessRequest",
    "Decision",
    "Evidence",
    "Finding",
    "JST",
    "JST_OFFSET",
    "SCHEMA_VERSION",
]

#: Version of the output record schema (``schema_version`` of findings, summary and the JSONL files).
SCHEMA_VERSION = "1.0"

#: Japan Standard Time (UTC+9, no daylight saving). The engine keeps naive UTC; JST is
#: how times are read (naive input) and shown.
JST_OFFSET = dt.timedelta(hours=9)
JST = dt.timezone(JST_OFFSET, "JST")

System = Literal["gyomu_kyotsu", "fukushi", "hyojun"]
Action = Literal["login", "logout", "view", "search", "update", "print", "export", "transfer"]
Resource = Literal[
    "kojin_bango", "kihon_joho", "chihouzei", "kaigo", "seikatsu_hogo", "nenkin", "kenko_iryo", "iryo_hoken"
]
Severity = Literal["low", "medium", "high", "critical"]

SYSTEMS: tuple[str, ...] = ("gyomu_kyotsu", "fukushi", "hyojun")
ACTIONS: tuple[str, ...] = ("login", "logout", "view", "search", "update", "print", "export", "transfer")
RESOURCES: tuple[str, ...] = (
    "kojin_bango", "kihon_joho", "chihouzei", "kaigo", "seikatsu_hogo", "nenkin", "kenko_iryo", "iryo_hoken",
)
#: My Number *use* (SPEC §4 readings): export of kojin_bango is judged by MEDIA_EXPORT_* only.
MY_NUMBER_USE_ACTIONS: frozenset[str] = frozenset({"view", "search", "update", "print"})
#: Severities from lowest to highest.
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")


class Account(BaseModel):
    """One row of ``accounts.csv`` (SPEC §3)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    account_id: str
    system: System
    person_id: str | None = None
    employment: Literal["regular", "non_regular", "contractor"] = "regular"
    department: str
    roles: frozenset[str] = frozenset()
    permission: Literal["read", "update"] = "read"
    issued_at: dt.datetime | None = None
    issued_by: str | None = None
    approved_by: str | None = None
    request_ref: str | None = None
    revoked_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    last_login_at: dt.datetime | None = None


class Officer(BaseModel):
    """One row of ``officers.csv``: ``to`` is the first day out of office (None: still in office)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, defer_build=True)

    system: System
    role: Literal["system_owner", "export_delegate", "info_system_manager"]
    person_id: str
    from_: dt.datetime = Field(alias="from")
    to: dt.datetime | None = None


class AccessRequest(BaseModel):
    """A request as the compiled policy sees it: everything a decision depends on, nothing else.

    The audit computes one per distinct combination (not per event) and joins the answers back.
    ``roles`` holds the account's ledger roles plus the officer roles its holder has in office
    for ``system`` at the event time.
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    version: str
    system: str
    department: str
    employment: str = "regular"
    roles: frozenset[str] = frozenset()
    permission: str = "read"
    action: str
    resource: str | None = None
    affair: str | None = None
    recipient_department: str | None = None
    method: str | None = None


class Decision(BaseModel):
    """An explained decision: allowed or not, which SPEC §4 rule denies, and on what basis."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    allowed: bool
    rule: str | None = None
    version: str
    basis: str
    remedy: str | None = None
    matched: str | None = None
    explanation: str = ""


class Evidence(BaseModel):
    """A reference to one input line that supports a finding."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    file: str
    line: int
    event_id: str | None = None


class Finding(BaseModel):
    """One aggregated finding (SPEC §5): one per (rule, system, account_id)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    schema_version: str
    finding_id: str
    rule: str
    severity: Severity
    account_id: str | None
    person_id: str | None
    department: str | None
    system: str | None
    first_ts: str | None
    last_ts: str | None
    event_count: int
    evidence: list[Evidence]
    basis: str
    action: str
