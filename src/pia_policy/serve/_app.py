"""The HTTP JSON API (SPEC §9 ``serve``): FastAPI routes over one ``Policy``, a bearer gate, metrics, decision log."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hmac
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Iterable

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from .._i18n import msg
from ..models import JST, Decision
from ..policy import Policy, to_utc_naive
from ._decision_log import DecisionLog, DecisionLogError
from ._metrics import Metrics
from ._models import (
    MAX_BATCH,
    BatchRequest,
    BatchResponse,
    CheckAccess,
    CheckTransfer,
    ErrorBody,
    Health,
    PurposesResponse,
    RecipientsResponse,
    VersionsResponse,
)
from ._watch import PolicyWatcher

__all__ = ["Service", "create_app", "API_VERSION", "MAX_BODY_BYTES"]

API_VERSION = "1.0"
#: Largest request body accepted (a full /v1/batch is well under it).
MAX_BODY_BYTES = 4 * 1024 * 1024
_PATHS = frozenset({"/v1/check-access", "/v1/check-transfer", "/v1/batch", "/v1/versions", "/v1/recipients",
                    "/v1/purposes", "/healthz", "/metrics", "/openapi.json"})
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "invalid request: the message names the valid values"},
    401: {"model": ErrorBody, "description": "missing or wrong bearer token (with --token-file)"},
    413: {"model": ErrorBody, "description": "body larger than 4 MiB"},
}


@dataclass
class Service:
    """What the app serves: the policy (and its watcher), the decision log, the tokens, the metrics."""

    policy: Policy
    watcher: PolicyWatcher | None = None
    decision_log: DecisionLog | None = None
    tokens: tuple[bytes, ...] = ()
    metrics: Metrics = field(default_factory=Metrics)

    def __post_init__(self) -> None:
        if self.watcher is None:
            self.watcher = PolicyWatcher(self.policy, 0)

    def authorized(self, header: bytes | None) -> bool:
        """Constant-time comparison against every token (no early exit on the first match)."""
        if not self.tokens:
            return True
        if header is None or not header.startswith(b"Bearer "):
            return False
        given = header[7:].strip()
        ok = False
        for token in self.tokens:
            ok |= hmac.compare_digest(given, token)
        return ok


# ---- deciding and logging ----------------------------------------------------------------------

def _ts(at: Any) -> str:
    """The time judged, as ISO 8601 JST with its offset (the log's ``ts``)."""
    return to_utc_naive(at).replace(tzinfo=dt.timezone.utc).astimezone(JST).isoformat()


_ts_of_text = functools.lru_cache(maxsize=4096)(_ts)  # back ends repeat the same `at` across a batch


def _decide(service: Service, body: CheckAccess | CheckTransfer, now: dt.datetime,
            now_ts: str) -> tuple[Decision, dict[str, Any]]:
    policy = service.policy
    at: Any = body.at if body.at is not None else now
    ts = _ts_of_text(body.at) if body.at is not None else now_ts
    if isinstance(body, CheckAccess):
        decision = policy.check_access(body.account, body.action, body.resource, body.affair, at=at,
                                       recipient_department=body.recipient_department, method=body.method,
                                       officer_roles=body.officer_roles, officers=body.officers)
        event: dict[str, Any] = {
            "ts": ts, "system": body.account.system, "event_id": body.event_id or uuid.uuid4().hex,
            "account_id": body.account.account_id, "session_id": body.session_id, "terminal_id": body.terminal_id,
            "action": body.action, "resource": body.resource, "affair": body.affair, "subject_id": body.subject_id,
            "recipient_department": body.recipient_department, "method": body.method, "record_ref": body.record_ref,
        }
    else:
        decision = policy.check_transfer(body.department, body.purpose, method=body.method, at=at)
        event = {
            "ts": ts, "system": "fukushi", "event_id": body.event_id or uuid.uuid4().hex,
            "account_id": body.account_id, "session_id": body.session_id, "terminal_id": body.terminal_id,
            "action": "transfer", "resource": policy.vocabulary.transfer_resource, "affair": body.purpose,
            "subject_id": body.subject_id, "recipient_department": body.department, "method": body.method,
            "record_ref": body.record_ref,
        }
    record = {k: v for k, v in event.items() if v is not None}
    record["decision"] = {"allowed": decision.allowed, "rule": decision.rule, "version": decision.version,
                          "matched": decision.matched}
    return decision, record


async def _answer(service: Service, bodies: list[CheckAccess | CheckTransfer]) -> list[Decision]:
    now = dt.datetime.now(JST)
    now_ts = now.isoformat()
    decisions: list[Decision] = []
    records: list[dict[str, Any]] = []
    for i, body in enumerate(bodies):
        try:
            decision, record = _decide(service, body, now, now_ts)
        except ValueError as exc:
            raise ValueError(f"requests[{i}]: {exc}" if len(bodies) > 1 else str(exc)) from None
        decisions.append(decision)
        records.append(record)
    if service.decision_log is not None:
        await service.decision_log.append(records)
    for check in ("access", "transfer"):
        allowed = sum(1 for b, d in zip(bodies, decisions) if b.check == check and d.allowed)
        total = sum(1 for b in bodies if b.check == check)
        service.metrics.count_decisions(check, allowed, total - allowed)
    return decisions


def _json(body: str) -> Response:
    return Response(body, media_type="application/json")


def _error(status: int, error: str, message: str, details: Iterable[dict[str, Any]] = ()) -> JSONResponse:
    return JSONResponse({"error": error, "message": message, "details": list(details)}, status_code=status)


# ---- the gate: bearer tokens and request metrics (pure ASGI, before routing) -------------------

def _bounded(receive: Any) -> Any:
    """``receive`` that ends a chunked body running past MAX_BODY_BYTES as a disconnect."""
    seen = 0

    async def bounded() -> dict[str, Any]:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY_BYTES:
                return {"type": "http.disconnect"}
        return message

    return bounded


class _Gate:
    def __init__(self, app: Any, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def send_status(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"0")
        if not self.service.authorized(headers.get(b"authorization")):
            response = _error(401, "unauthorized", msg("Authorization: Bearer <token> が必要です",
                                                       "Authorization: Bearer <token> is required"))
            response.headers["WWW-Authenticate"] = "Bearer"
            await response(scope, receive, send_status)
        elif not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
            await _error(413, "body_too_large", msg(
                f"本文は {MAX_BODY_BYTES} バイトまで（/v1/batch は {MAX_BATCH} 件まで）",
                f"a body may have at most {MAX_BODY_BYTES} bytes (/v1/batch: {MAX_BATCH} checks)"))(
                scope, receive, send_status)
        else:
            await self.app(scope, _bounded(receive), send_status)
        path = scope["path"] if scope["path"] in _PATHS else "other"
        self.service.metrics.observe_request(path, status[0], time.perf_counter() - start)


# ---- the app -----------------------------------------------------------------------------------

def create_app(service: Service) -> FastAPI:
    """The ASGI app (FastAPI behind the bearer/metrics gate); its lifespan runs the watcher and the log."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        assert service.watcher is not None
        service.watcher.start()
        try:
            yield
        finally:
            service.watcher.stop()
            if service.decision_log is not None:
                service.decision_log.close()

    app = FastAPI(
        title="pia-policy decision service", version=API_VERSION, lifespan=lifespan, docs_url=None, redoc_url=None,
        description="My Number (特定個人情報) access and transfer decisions from effective-dated Casbin policies "
                    "(SPEC §9 serve). Every decision names the rule, the legal basis and the policy version.",
    )

    @app.exception_handler(RequestValidationError)
    async def invalid_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        # the input values are not echoed: they may hold personal data
        details = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")} for e in exc.errors()]
        text = "; ".join(f"{'.'.join(d['loc'])}: {d['msg']}" for d in details)
        if request.method == "POST" and "json" not in request.headers.get("content-type", "json"):
            text += msg("（Content-Type: application/json で送ること）", " (send Content-Type: application/json)")
        return _error(400, "invalid_request", text, details)

    @app.exception_handler(ValueError)
    async def invalid_value(_request: Request, exc: ValueError) -> JSONResponse:
        return _error(400, "invalid_value", str(exc))

    @app.exception_handler(DecisionLogError)
    async def log_unavailable(_request: Request, exc: DecisionLogError) -> JSONResponse:
        return _error(503, "decision_log_unavailable", msg(
            f"判定ログに書き込めないため判定を返しません: {exc}",
            f"the decision log cannot be written, so no decision is returned: {exc}"))

    @app.post("/v1/check-access", response_model=Decision, responses=_ERRORS, tags=["decisions"])
    async def check_access(body: CheckAccess) -> Response:
        """``Policy.check_access``: may this account do ``action`` on ``resource`` in ``affair`` at ``at``?"""
        (decision,) = await _answer(service, [body])
        return _json(decision.model_dump_json())

    @app.post("/v1/check-transfer", response_model=Decision, responses=_ERRORS, tags=["decisions"])
    async def check_transfer(body: CheckTransfer) -> Response:
        """``Policy.check_transfer``: may the holder transfer to ``department`` for ``purpose``?"""
        (decision,) = await _answer(service, [body])
        return _json(decision.model_dump_json())

    @app.post("/v1/batch", response_model=BatchResponse, responses=_ERRORS, tags=["decisions"])
    async def batch(body: BatchRequest) -> Response:
        """Many checks in one call; the decisions come back in request order (one fsync for the batch)."""
        decisions = await _answer(service, list(body.requests))
        return _json('{"decisions":[' + ",".join(d.model_dump_json() for d in decisions) + "]}")

    @app.get("/v1/versions", response_model=VersionsResponse, responses=_ERRORS, tags=["policy"])
    async def versions() -> dict[str, Any]:
        """The policy versions loaded and the one in force now."""
        policy = service.policy
        try:
            now: str | None = policy.version_at(dt.datetime.now(JST)).id
        except ValueError:
            now = None
        return {"versions": [{"id": v.id, "in_force_from": v.in_force_from.isoformat(),
                              "in_force_to": v.in_force_to.isoformat() if v.in_force_to else None, "note": v.note}
                             for v in policy.versions], "in_force_now": now}

    def ask(key: str, value: str, at: str | None, found_key: str, found: Any) -> dict[str, Any]:
        when: Any = at if at is not None else dt.datetime.now(JST)
        answer = found(value, when)
        return {key: value, "at": _ts(when), "version": service.policy.version_at(when).id, found_key: answer}

    @app.get("/v1/recipients", response_model=RecipientsResponse, responses=_ERRORS, tags=["policy"])
    async def recipients(purpose: str = Query(description="purpose code (別紙1)"),
                         at: str | None = Query(None, description="ISO 8601; naive = JST; default now")) -> dict[str, Any]:
        """Who may receive: every department a transfer for ``purpose`` may go to at ``at``."""
        return ask("purpose", purpose, at, "recipients", service.policy.recipients)

    @app.get("/v1/purposes", response_model=PurposesResponse, responses=_ERRORS, tags=["policy"])
    async def purposes(department: str = Query(description="recipient department, e.g. 中央区健康課"),
                       at: str | None = Query(None, description="ISO 8601; naive = JST; default now")) -> dict[str, Any]:
        """For what: every purpose a transfer to ``department`` may have at ``at``."""
        return ask("department", department, at, "purposes", service.policy.allowed_purposes)

    @app.get("/healthz", response_model=Health, responses=_ERRORS, tags=["operations"])
    async def healthz() -> dict[str, Any]:
        """The policy version set loaded, its digest and age, and the last reload error."""
        watcher, policy = service.watcher, service.policy
        assert watcher is not None
        try:
            in_force: str | None = policy.version_at(dt.datetime.now(JST)).id
        except ValueError:
            in_force = None
        return {"status": "stale" if watcher.last_error else "ok", "origin": policy.origin,
                "versions": [v.id for v in policy.versions], "version_in_force": in_force, "digest": watcher.digest,
                "loaded_at": watcher.loaded_at.isoformat(timespec="seconds"),
                "age_seconds": round(watcher.age_seconds, 3), "reloads": watcher.reloads,
                "last_reload_error": watcher.last_error}

    @app.get("/metrics", response_class=PlainTextResponse, responses=_ERRORS, tags=["operations"])
    async def metrics() -> PlainTextResponse:
        """Prometheus text format: requests, decisions, latency, reloads, decision log."""
        watcher, log = service.watcher, service.decision_log
        assert watcher is not None
        gauges = {
            "pia_policy_policy_reloads_total": ("Policy reloads that succeeded.", watcher.reloads),
            "pia_policy_policy_reload_errors_total": ("Policy reloads that failed (the previous policy is served).",
                                                      watcher.reload_errors),
            "pia_policy_policy_loaded_timestamp_seconds": ("When the policy served was loaded (Unix time).",
                                                           watcher.loaded_at.timestamp()),
            "pia_policy_policy_age_seconds": ("Seconds since the policy served was loaded.", watcher.age_seconds),
        }
        if log is not None:
            gauges["pia_policy_decision_log_lines_total"] = ("Decision log lines written and fsynced.",
                                                             log.lines_written)
            gauges["pia_policy_decision_log_fsyncs_total"] = ("Decision log fsync calls (one per group).", log.syncs)
            gauges["pia_policy_decision_log_fsync_seconds_total"] = ("Time spent in fsync of the decision log.",
                                                                     log.sync_seconds)
            gauges["pia_policy_decision_log_errors_total"] = ("Decision log writes that failed.", log.errors)
        return PlainTextResponse(service.metrics.render(gauges), media_type="text/plain; version=0.0.4")

    app.add_middleware(_Gate, service=service)
    return app
