"""Decision logs: masked SPEC §3 lines plus `decision`, daily files, group fsync; the nightly audit reads them."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import json
import shutil
from pathlib import Path

from serve_kit import running

from pia_policy.audit import audit
from pia_policy.models import JST
from pia_policy.policy import Policy
from pia_policy.serve import DecisionLog, Service, file_name_for

MY_NUMBER = "123456789018"  # a valid check digit (the masking tests' fixture)


def _lines(directory: Path) -> list[dict[str, object]]:
    return [json.loads(ln) for p in sorted(directory.glob("*.jsonl")) for ln in p.read_text("utf-8").splitlines()]


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, header, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def _account(account_id: str, system: str, department: str, roles: str) -> dict[str, str]:
    return {"account_id": account_id, "system": system, "person_id": f"P-{account_id}", "employment": "regular",
            "department": department, "roles": roles, "permission": "read", "issued_at": "2025-04-01",
            "last_login_at": "2025-06-01T09:00:00+09:00"}


def test_decisions_through_the_service_are_audited_the_next_night(tmp_path: Path) -> None:
    data = tmp_path / "data"
    log = DecisionLog(data / "events")  # the decision log directory is the audit's events/ directory
    staff = {"account_id": "k-staff", "system": "fukushi", "person_id": "P-k-staff", "department": "健康保険課",
             "roles": ["kouki_staff"]}
    mn_user = {**staff, "account_id": "k-mn", "system": "hyojun", "person_id": "P-k-mn",
               "roles": ["kouki_staff", "my_number_user"]}
    recipient = {"account_id": "k-recv", "system": "fukushi", "department": "中央区健康課"}
    ghost = {**staff, "account_id": "k-ghost"}

    def access(account: dict[str, object], minute: int, **kw: object) -> dict[str, object]:
        body = {"check": "access", "account": account, "action": "view", "resource": "kihon_joho",
                "affair": "kouki-01", "at": f"2025-06-02T09:{minute:02d}:00", "subject_id": f"SUB{minute}"}
        body.update(kw)
        return body

    def transfer(minute: int, **kw: object) -> dict[str, object]:
        body = {"check": "transfer", "account_id": "k-staff", "department": "中央区健康課",
                "purpose": "shoni_shitei_iryohi", "at": f"2025-06-02T09:{minute:02d}:00"}
        body.update(kw)
        return body

    with running(Service(Policy.load(), decision_log=log)) as srv:
        answers = [
            # violations
            srv.post("/v1/check-access", access(staff, 1, resource="kojin_bango", subject_id=MY_NUMBER)),
            srv.post("/v1/check-transfer", {k: v for k, v in transfer(2, purpose="gaikokujin_hogo").items()
                                            if k != "check"}),
            srv.post("/v1/check-access", access(ghost, 3)),
            # near misses: a My Number user in a My Number affair, the permitted pair and its recipient
            srv.post("/v1/check-access", access(mn_user, 4, resource="kojin_bango")),
            srv.post("/v1/check-access", access(recipient, 5, resource="iryo_hoken", affair="shoni_shitei_iryohi")),
            srv.post("/v1/batch", {"requests": [transfer(6), transfer(7, method="usb"),
                                                transfer(8, account_id=None)]}),  # no account: a rejected line
        ]
    assert all(a.status == 200 for a in answers), [a.text for a in answers]
    assert [a.json["allowed"] for a in answers[:5]] == [False, False, True, True, True]

    lines = _lines(data / "events")
    assert len(lines) == 8
    assert {ln["decision"]["rule"] for ln in lines} == {
        "MY_NUMBER_WITHOUT_PERMISSION", "TRANSFER_NOT_PERMITTED", "TRANSFER_METHOD_NOT_PERMITTED", None}
    first = lines[0]
    assert first["subject_id"] == "********9018" and MY_NUMBER not in (data / "events").joinpath(
        file_name_for(dt.datetime.now(JST).date())).read_text("utf-8")
    assert first["decision"] == {"allowed": False, "rule": "MY_NUMBER_WITHOUT_PERMISSION", "version": "2025-03-24",
                                 "matched": None}
    assert first["ts"] == "2025-06-02T09:01:00+09:00" and first["system"] == "fukushi"

    _write_csv(data / "accounts.csv", list(_account("x", "x", "x", "x")),
               [_account("k-staff", "fukushi", "健康保険課", "kouki_staff"),
                _account("k-mn", "hyojun", "健康保険課", "kouki_staff;my_number_user"),
                _account("k-recv", "fukushi", "中央区健康課", "")])
    _write_csv(data / "personnel.csv", ["person_id", "event", "effective_date", "from_department", "to_department"], [])
    result = audit(data, as_of="2025-06-03", out=tmp_path / "out", reports=False)

    found = sorted((f.rule, f.account_id, f.event_count) for f in result.findings)
    assert found == sorted([
        ("MY_NUMBER_WITHOUT_PERMISSION", "k-staff", 1),
        ("TRANSFER_NOT_PERMITTED", "k-staff", 1),
        ("TRANSFER_METHOD_NOT_PERMITTED", "k-staff", 1),
        ("UNKNOWN_ACCOUNT", "k-ghost", 1),
    ])
    counts = result.summary["counts"]
    assert (counts["lines_read"], counts["events_evaluated"], counts["lines_rejected"]) == (8, 7, 1)
    rejected = [json.loads(ln) for ln in (tmp_path / "out" / "rejected.jsonl").read_text("utf-8").splitlines()]
    assert len(rejected) == 1 and "account_id" in json.dumps(rejected[0], ensure_ascii=False)
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert MY_NUMBER not in path.read_text("utf-8", errors="replace"), path


def test_daily_files_are_appended_never_truncated(tmp_path: Path) -> None:
    now = [dt.datetime(2025, 6, 2, 23, 59, 59, tzinfo=JST)]
    log = DecisionLog(tmp_path, clock=lambda: now[0])

    async def run() -> None:
        await log.append([{"event_id": "a"}])
        await log.append([{"event_id": "b"}, {"event_id": "c"}])
        now[0] = dt.datetime(2025, 6, 2, 15, 0, 0, tzinfo=dt.timezone.utc)  # 00:00 JST on 06-03
        await log.append([{"event_id": "d"}])

    asyncio.run(run())
    log.close()
    day1, day2 = tmp_path / "decisions-2025-06-02.jsonl", tmp_path / "decisions-2025-06-03.jsonl"
    assert [json.loads(x)["event_id"] for x in day1.read_text().splitlines()] == ["a", "b", "c"]
    assert [json.loads(x)["event_id"] for x in day2.read_text().splitlines()] == ["d"]
    assert day1.stat().st_mode & 0o077 == 0  # personal data: owner only
    # a restart appends to today's file
    log2 = DecisionLog(tmp_path, clock=lambda: now[0])
    asyncio.run(log2.append([{"event_id": "e"}]))
    log2.close()
    assert [json.loads(x)["event_id"] for x in day2.read_text().splitlines()] == ["d", "e"]


def test_concurrent_requests_share_one_fsync(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path)

    async def run() -> None:
        await asyncio.gather(*(log.append([{"event_id": f"{i}-{j}"} for j in range(3)]) for i in range(50)))

    asyncio.run(run())
    log.close()
    assert log.lines_written == 150 and len(_lines(tmp_path)) == 150
    assert 1 <= log.syncs < 50  # group commit: far fewer fsyncs than requests


def test_an_unwritable_log_refuses_the_decision(tmp_path: Path) -> None:
    directory = tmp_path / "log"
    now = [dt.datetime(2025, 6, 2, 12, 0, tzinfo=JST)]
    log = DecisionLog(directory, clock=lambda: now[0])
    with running(Service(Policy.load(), decision_log=log)) as srv:
        body = {"department": "健康支援課", "purpose": "shoni_shitei_iryohi", "at": "2025-04-01"}
        assert srv.post("/v1/check-transfer", body).status == 200
        shutil.rmtree(directory)  # the disk goes away: the next day's file cannot be created
        directory.write_text("not a directory")
        now[0] += dt.timedelta(days=1)
        reply = srv.post("/v1/check-transfer", body)
        assert reply.status == 503 and reply.json["error"] == "decision_log_unavailable"
        assert "allowed" not in reply.json
        assert "pia_policy_decision_log_errors_total 1.0" in srv.get("/metrics").text
