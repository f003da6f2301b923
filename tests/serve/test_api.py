"""The HTTP API over a real uvicorn: answers equal the library's, 400s name the valid values."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from urllib.parse import quote

import pytest

from pia_policy.models import ACTIONS, RESOURCES, Account, Decision, Officer
from pia_policy.policy import Policy
from pia_policy.serve._models import MAX_BATCH

from serve_kit import Server

CLERK = {"account_id": "k0001", "system": "hyojun", "person_id": "P001", "department": "健康保険課",
         "roles": ["kouki_staff", "my_number_user"], "permission": "read"}


def _access(**kw: object) -> dict[str, object]:
    body: dict[str, object] = {"account": CLERK, "action": "view", "resource": "kojin_bango", "affair": "kouki-15",
                               "at": "2025-11-25"}
    body.update(kw)
    return body


def test_check_access_answers_the_library_decision(server: Server, shipped: Policy) -> None:
    clerk = Account(**CLERK)
    for at, affair in (("2025-11-25", "kouki-15"), ("2025-11-26", "kouki-15"), ("2025-11-26", "kouki-16")):
        reply = server.post("/v1/check-access", _access(at=at, affair=affair))
        assert reply.status == 200, reply.text
        assert Decision(**reply.json) == shipped.check_access(clerk, "view", "kojin_bango", affair, at=at)
    # the boundary of the 2025-11-26 version: kouki-15 allowed the day before, MY_NUMBER_OUTSIDE_AFFAIR from that day
    assert server.post("/v1/check-access", _access(at="2025-11-25T23:59:59")).json["allowed"] is True
    assert server.post("/v1/check-access", _access(at="2025-11-26T00:00:00")).json["rule"] == "MY_NUMBER_OUTSIDE_AFFAIR"


def test_check_access_grid_equals_library(server: Server, shipped: Policy) -> None:
    clerk = Account(**CLERK)
    for action, resource in itertools.product(ACTIONS, RESOURCES[:4]):
        reply = server.post("/v1/check-access", _access(action=action, resource=resource, affair="kouki-01",
                                                        at="2025-06-01T10:00:00+09:00"))
        want = shipped.check_access(clerk, action, resource, "kouki-01", at="2025-06-01T10:00:00+09:00")
        assert Decision(**reply.json) == want, (action, resource)


def test_officers_hold_roles_only_in_their_term(server: Server, shipped: Policy) -> None:
    officers = [{"system": "hyojun", "role": "system_owner", "person_id": "P001", "from": "2025-04-01T00:00:00+09:00",
                 "to": "2025-07-01T00:00:00+09:00"}]
    inside = server.post("/v1/check-access", _access(action="export", resource="kihon_joho", affair="kouki-01",
                                                     at="2025-06-30T23:00:00", officers=officers))
    after = server.post("/v1/check-access", _access(action="export", resource="kihon_joho", affair="kouki-01",
                                                    at="2025-07-01T00:00:00", officers=officers))
    assert inside.json["allowed"] is True
    assert after.json["rule"] == "MEDIA_EXPORT_UNAUTHORIZED"
    want = shipped.check_access(Account(**CLERK), "export", "kihon_joho", "kouki-01", at="2025-07-01T00:00:00",
                                officers=[Officer(**officers[0])])
    assert Decision(**after.json) == want


def test_check_transfer_pairs_and_method(server: Server, shipped: Policy) -> None:
    cases = [("中央区健康課", "shoni_shitei_iryohi", "fukushi_system", "2025-04-01"),   # 別紙1 No.5
             ("中央区健康課", "gaikokujin_hogo", "fukushi_system", "2025-04-01"),       # pair not listed
             ("中央区健康課", "shoni_shitei_iryohi", "usb", "2025-04-01"),              # listed pair, wrong method
             ("中央区健康課", "shoni_shitei_iryohi", "fukushi_system", "2025-03-23")]   # 2020: no transfers
    rules = []
    for dept, purpose, method, at in cases:
        reply = server.post("/v1/check-transfer", {"department": dept, "purpose": purpose, "method": method, "at": at})
        assert Decision(**reply.json) == shipped.check_transfer(dept, purpose, method=method, at=at)
        rules.append(reply.json["rule"])
    assert rules == [None, "TRANSFER_NOT_PERMITTED", "TRANSFER_METHOD_NOT_PERMITTED", "TRANSFER_NOT_PERMITTED"]


def test_batch_answers_in_order_and_equals_single_calls(server: Server) -> None:
    items = [{"check": "transfer", "department": d, "purpose": "shoni_shitei_iryohi", "at": "2025-04-01"}
             for d in ("健康支援課", "保護課")] + [{"check": "access", **_access(at=at)} for at in ("2025-11-25", "2025-11-26")]
    reply = server.post("/v1/batch", {"requests": items})
    assert reply.status == 200, reply.text
    got = reply.json["decisions"]
    assert [d["allowed"] for d in got] == [True, False, True, False]
    singles = [server.post("/v1/check-" + i["check"], {k: v for k, v in i.items() if k != "check"}).json for i in items]
    assert got == singles


def test_batch_is_bounded(server: Server) -> None:
    item = {"check": "transfer", "department": "健康支援課", "purpose": "shoni_shitei_iryohi", "at": "2025-04-01"}
    assert server.post("/v1/batch", {"requests": [item] * MAX_BATCH}).status == 200
    over = server.post("/v1/batch", {"requests": [item] * (MAX_BATCH + 1)})
    assert over.status == 400 and str(MAX_BATCH) in over.json["message"]


@pytest.mark.parametrize(("path", "body", "names"), [
    ("/v1/check-access", _access(action="vew"), ["'view'", "'transfer'"]),
    ("/v1/check-access", _access(resource="my_number"), ["'kojin_bango'", "'iryo_hoken'"]),
    ("/v1/check-access", _access(account={**CLERK, "system": "kikan"}), ["'fukushi'", "'hyojun'"]),
    ("/v1/check-access", _access(account={**CLERK, "permission": "write"}), ["'read'", "'update'"]),
    ("/v1/check-access", _access(account={**CLERK, "department": "税務課"}), ["健康保険課", "中央区健康課"]),
    ("/v1/check-access", _access(account={**CLERK, "department": "各区健康課"}), ["中央区健康課"]),  # a group is no department
    ("/v1/check-access", _access(affair="kouki-99"), ["kouki-01", "shoni_shitei_iryohi"]),
    ("/v1/check-access", _access(at="2019-12-31"), ["no policy version in force"]),
    ("/v1/check-access", _access(at="yesterday"), ["ISO 8601"]),
    ("/v1/check-transfer", {"department": "中央区健康課", "purpose": "iryohi"}, ["shoni_shitei_iryohi"]),
    ("/v1/check-transfer", {"department": "grp:bessi1-5", "purpose": "shoni_shitei_iryohi"}, ["健康支援課"]),
    ("/v1/check-transfer", {"purpose": "shoni_shitei_iryohi"}, ["department", "Field required"]),
    ("/v1/check-transfer", {"department": "健康支援課", "purpose": "shoni_shitei_iryohi", "deparment": "x"},
     ["deparment", "Extra inputs"]),
    ("/v1/batch", {"requests": [{"check": "transfer", "department": "健康支援課", "purpose": "shoni_shitei_iryohi"},
                                {"check": "transfer", "department": "健康支援課", "purpose": "x"}]},
     ["requests[1]", "gaikokujin_hogo"]),
    ("/v1/batch", {"requests": [{"check": "lookup"}]}, ["'access'", "'transfer'"]),
])
def test_invalid_requests_are_400_naming_the_valid_values(server: Server, path: str, body: object,
                                                          names: list[str]) -> None:
    reply = server.post(path, body, headers={"Accept-Language": "en"})
    assert reply.status == 400, reply.text
    for name in names:
        assert name in reply.json["message"], (name, reply.json)


def test_malformed_json_and_wrong_content_type_are_400(server: Server) -> None:
    broken = server.post("/v1/check-transfer", '{"department": ')
    assert broken.status == 400 and broken.json["error"] == "invalid_request"
    form = server.post("/v1/check-transfer", json.dumps({"department": "健康支援課", "purpose": "shoni_shitei_iryohi"}),
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status == 400 and "application/json" in form.json["message"]


def test_valid_json_near_miss_is_not_400(server: Server) -> None:
    # the same department and purpose as the 400 cases above, spelled right: an answer, denied or not
    assert server.post("/v1/check-transfer", {"department": "中央区健康課", "purpose": "gaikokujin_hogo"}).status == 200
    assert server.post("/v1/check-access", _access(account={**CLERK, "department": "中央区健康課"})).status == 200


def test_versions(server: Server, shipped: Policy) -> None:
    body = server.get("/v1/versions").json
    assert [v["id"] for v in body["versions"]] == [v.id for v in shipped.versions]
    assert body["versions"][1] == {"id": "2025-03-24", "in_force_from": "2025-03-24", "in_force_to": "2025-11-26",
                                   "note": shipped.versions[1].note}
    assert body["in_force_now"] == shipped.version_at(dt.datetime.now(dt.timezone.utc)).id


def test_recipients_and_purposes_equal_the_library(server: Server, shipped: Policy) -> None:
    for purpose, at in itertools.product(sorted(shipped.purposes), ("2025-03-23", "2025-03-24", "2025-12-01")):
        body = server.get(f"/v1/recipients?purpose={purpose}&at={at}").json
        assert body["recipients"] == shipped.recipients(purpose, at)
        assert body["version"] == shipped.version_at(at).id and body["at"] == f"{at}T00:00:00+09:00"
    body = server.get(f"/v1/purposes?department={quote('緑区健康課')}&at=2025-12-01").json
    assert body["purposes"] == ["seishin_nyuin_iryohi", "shoni_shitei_iryohi"]
    bad = server.get("/v1/recipients?purpose=kouki-01")
    assert bad.status == 400 and "shoni_shitei_iryohi" in bad.json["message"]
    assert server.get("/v1/recipients").status == 400  # purpose is required


def test_healthz_reports_the_version_set_and_age(server: Server, shipped: Policy) -> None:
    body = server.get("/healthz").json
    assert body["status"] == "ok" and body["versions"] == [v.id for v in shipped.versions]
    assert body["version_in_force"] == shipped.version_at(dt.datetime.now(dt.timezone.utc)).id
    assert len(body["digest"]) == 64 and body["age_seconds"] >= 0 and body["last_reload_error"] is None


def test_metrics_count_decisions_and_requests(server: Server) -> None:
    def value(text: str, series: str) -> float:
        lines = [ln for ln in text.splitlines() if ln.startswith(series + " ")]
        return float(lines[0].split()[-1]) if lines else 0.0

    denied = 'pia_policy_decisions_total{check="transfer",allowed="false"}'
    before = server.get("/metrics").text
    server.post("/v1/batch", {"requests": [{"check": "transfer", "department": "保護課",
                                            "purpose": "shoni_shitei_iryohi", "at": "2025-04-01"}] * 3})
    reply = server.get("/metrics")
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert value(reply.text, denied) - value(before, denied) == 3
    assert value(reply.text, 'pia_policy_http_requests_total{path="/v1/batch",status="200"}') >= 1
    assert "# TYPE pia_policy_http_request_duration_seconds histogram" in reply.text
    assert 'pia_policy_http_request_duration_seconds_bucket{path="/v1/batch",le="+Inf"}' in reply.text
    server.get("/no/such/path")
    assert 'path="other",status="404"' in server.get("/metrics").text  # unknown paths share one label


def test_bodies_are_bounded(server: Server) -> None:
    from pia_policy.serve._app import MAX_BODY_BYTES

    padding = " " * (MAX_BODY_BYTES + 1 - len('{"department":"健康支援課","purpose":"shoni_shitei_iryohi"}'.encode()))
    too_big = '{"department":"健康支援課","purpose":"shoni_shitei_iryohi"}' + padding
    reply = server.post("/v1/check-transfer", too_big)
    assert reply.status == 413 and str(MAX_BODY_BYTES) in reply.json["message"]
    at_limit = too_big[:-1]  # the boundary: exactly MAX_BODY_BYTES bytes is read and answered
    assert len(at_limit.encode()) == MAX_BODY_BYTES
    assert server.post("/v1/check-transfer", at_limit).status == 200
