"""Request and response bodies of the HTTP API (the ``check_*`` arguments, and the ``Decision``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..models import Account, Action, Decision, Officer, Resource

__all__ = [
    "EventContext",
    "CheckAccess",
    "CheckTransfer",
    "BatchRequest",
    "BatchResponse",
    "Decision",
    "VersionInfo",
    "VersionsResponse",
    "RecipientsResponse",
    "PurposesResponse",
    "Health",
    "ErrorBody",
    "MAX_BATCH",
]

#: Most decisions one ``/v1/batch`` call may ask for.
MAX_BATCH = 1000


class EventContext(BaseModel):
    """What the decision log records beside the decision (SPEC §3 event fields); all optional."""

    model_config = ConfigDict(extra="forbid")

    event_id: str | None = Field(None, description="unique id of the event; generated when absent")
    session_id: str | None = None
    terminal_id: str | None = None
    subject_id: str | None = Field(None, description="pseudonymous id of the person whose record is touched (宛名番号)")
    record_ref: str | None = Field(None, description="for export: the record of the copy (コピーした時の記録)")


class CheckAccess(EventContext):
    """``Policy.check_access(account, action, resource, affair, at, ...)``."""

    check: Literal["access"] = "access"
    account: Account
    action: Action
    resource: Resource | None = None
    affair: str | None = Field(None, description="affair (kouki-01 … kouki-16) or purpose code")
    at: str | None = Field(None, description="ISO 8601; naive = JST; default now")
    recipient_department: str | None = Field(None, description="for action transfer")
    method: str | None = Field(None, description="for action transfer")
    officer_roles: list[str] = Field(default_factory=list)
    officers: list[Officer] | None = Field(None, description="officers.csv rows; roles count during their term")


class CheckTransfer(EventContext):
    """``Policy.check_transfer(department, purpose, method, at)``; ``account_id`` names who transfers (for the log)."""

    check: Literal["transfer"] = "transfer"
    department: str = Field(description="recipient department (移転先), e.g. 中央区健康課")
    purpose: str = Field(description="purpose code (別紙1), e.g. shoni_shitei_iryohi")
    method: str | None = "fukushi_system"
    at: str | None = Field(None, description="ISO 8601; naive = JST; default now")
    account_id: str | None = Field(None, description="the holder account doing the transfer (logged)")


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requests: list[Annotated[CheckAccess | CheckTransfer, Field(discriminator="check")]] = Field(
        max_length=MAX_BATCH, description=f"at most {MAX_BATCH}; each has check = access | transfer")


class BatchResponse(BaseModel):
    decisions: list[Decision]


class VersionInfo(BaseModel):
    id: str
    in_force_from: str
    in_force_to: str | None
    note: str


class VersionsResponse(BaseModel):
    versions: list[VersionInfo]
    in_force_now: str | None


class RecipientsResponse(BaseModel):
    purpose: str
    at: str
    version: str
    recipients: list[str]


class PurposesResponse(BaseModel):
    department: str
    at: str
    version: str
    purposes: list[str]


class Health(BaseModel):
    status: Literal["ok", "stale"] = Field(description="stale: the last reload failed, the previous policy is served")
    origin: str
    versions: list[str]
    version_in_force: str | None
    digest: str = Field(description="SHA-256 of the policy loaded (lines, versions, metadata)")
    loaded_at: str
    age_seconds: float
    reloads: int
    last_reload_error: str | None


class ErrorBody(BaseModel):
    error: str
    message: str
    details: list[dict[str, object]] = Field(default_factory=list)
