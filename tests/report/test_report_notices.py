"""Notices to departments: who gets one, what it says, by when, and safe file names."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from _report_helpers import make_finding, make_summary, parse

from pia_policy import rules
from pia_policy.report import safe_filename, write_reports


def _notice(tmp_path: Path, findings, **kw):  # type: ignore[no-untyped-def]
    paths = write_reports(tmp_path, findings, make_summary(findings), **kw)
    return paths, {p: (tmp_path / p).read_text(encoding="utf-8") for p in paths if p.startswith("notices/")}


def test_one_notice_per_department_for_the_notice_rules_only(tmp_path: Path, sample_findings) -> None:  # type: ignore[no-untyped-def]
    _, notices = _notice(tmp_path, sample_findings)
    chuo = parse(notices["notices/中央区健康課.html"])
    assert [r.attrs["data-rule"] for r in chuo.having("data-account", "tr")] == ["LONG_SESSION", "ACCOUNT_NOT_REVOKED"]
    assert [r.attrs["data-account"] for r in chuo.having("data-account", "tr")] == ["a001", "a004"]
    hoken = parse(notices["notices/健康保険課.html"])
    # a002's MY_NUMBER_WITHOUT_PERMISSION is not a notice matter: only a003's LONG_SESSION
    assert [r.attrs["data-account"] for r in hoken.having("data-account", "tr")] == ["a003"]


def test_notice_is_addressed_cites_and_sets_the_deadline(tmp_path: Path, sample_findings) -> None:  # type: ignore[no-untyped-def]
    _, notices = _notice(tmp_path, sample_findings)
    html = notices["notices/中央区健康課.html"]
    assert "中央区健康課　所属長　様" in html
    assert '<p class="sender">システム責任者</p>' in html  # 発信者 (default): III-3 リスク2 gives them the notice
    assert rules.get("LONG_SESSION").basis in html and "III-3 リスク2" in html and "使用の記録" in html
    assert rules.get("ACCOUNT_NOT_REVOKED").basis in html
    assert "利用目的" in html  # what the department must report
    assert "失効" in html
    # audit date 2025-04-02 + 14 days
    assert "回答期限：令和7年4月16日 (2025-04-16)" in html
    assert 'data-reply-by="2025-04-16"' in html
    # sessions with dates in 和暦 and ISO (JST): 2025-03-31T23:30Z = 2025-04-01 08:30 JST
    assert "令和7年4月1日 (2025-04-01) 08:30" in html
    assert "@page{size:A4" in html


def test_reply_days_and_sender_are_configurable(tmp_path: Path, sample_findings) -> None:  # type: ignore[no-untyped-def]
    _, notices = _notice(tmp_path, sample_findings, reply_days=30, sender="保健福祉局 情報化推進担当課長")
    html = notices["notices/美浜区市民総合窓口課.html"]
    assert 'data-reply-by="2025-05-02"' in html and "令和7年5月2日 (2025-05-02)" in html
    assert '<p class="sender">保健福祉局 情報化推進担当課長</p>' in html and ">システム責任者<" not in html


def test_no_subject_or_person_ids_in_notices(tmp_path: Path) -> None:
    from pia_policy.models import Evidence

    f = make_finding("LONG_SESSION", person_id="P-SECRET-77").model_copy(
        update={"evidence": [Evidence(file="events/x.jsonl", line=7, event_id="EVT-SECRET")]})
    _, notices = _notice(tmp_path, [f])
    (html,) = notices.values()
    assert "a001" in html  # the account is named
    assert "P-SECRET-77" not in html and "EVT-SECRET" not in html  # person and evidence ids stay in the report


def test_findings_without_department_get_no_notice_but_are_listed(tmp_path: Path) -> None:
    f = make_finding("LONG_SESSION", account_id="ghost", department=None)
    paths, notices = _notice(tmp_path, [f])
    assert notices == {} and paths == ["report.html"]
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "所属が不明なため通知できない指摘" in report and "ghost" in report


def test_rules_outside_the_notice_set_write_no_notice(tmp_path: Path) -> None:
    near = [make_finding(r, account_id=f"x{i}") for i, r in enumerate(rules.RULE_IDS)
            if r not in ("LONG_SESSION", "ACCOUNT_NOT_REVOKED", "ACCOUNT_DORMANT")]
    paths, _ = _notice(tmp_path, near)
    assert paths == ["report.html"]


def test_department_file_names_are_safe_and_distinct(tmp_path: Path) -> None:
    findings = [
        make_finding("ACCOUNT_DORMANT", account_id="a", department="../健康*課:2?"),
        make_finding("ACCOUNT_DORMANT", account_id="b", department="..\\健康*課:2?"),
        make_finding("ACCOUNT_DORMANT", account_id="c", department="CON"),
    ]
    paths, notices = _notice(tmp_path, findings)
    names = [p.split("/", 1)[1] for p in paths[1:]]
    assert len(set(names)) == 3
    for p in paths[1:]:
        assert (tmp_path / p).parent == tmp_path / "notices"
    assert any(n.startswith("_CON-") for n in names)  # a device name is renamed, so it carries the hash
    assert all(not set(n) & set('<>:"/\\|?*') for n in names)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("中央区健康課", "中央区健康課"),  # Japanese kept
        ("健康/保険\\課", "健康_保険_課"),
        ('a<b>c:d"e|f?g*h', "a_b_c_d_e_f_g_h"),
        ("課名. ", "課名"),  # no trailing dot or space on Windows
        ("aux", "_aux"),
        ("LPT1.txt", "_LPT1.txt"),
        ("LPT10", "LPT10"),  # near miss: not a device name
        ("..", "_"),
        ("", "_"),
        ("タブ\t改行\n", "タブ_改行_"),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_safe_filename_length_is_bounded() -> None:
    assert safe_filename("a" * 300) == "a" * 80  # characters
    assert safe_filename("課" * 300) == "課" * 53  # UTF-8 bytes: 159 of at most 160


def test_date_columns_only_where_the_findings_have_times(tmp_path: Path) -> None:
    no_times = make_finding("ACCOUNT_NOT_REVOKED", account_id="r1", first_ts=None, last_ts=None, event_count=0)
    with_times = make_finding("ACCOUNT_DORMANT", account_id="r2", first_ts="2024-12-01T00:00:00+09:00",
                              last_ts=None, event_count=0)
    _, notices = _notice(tmp_path, [no_times, with_times])
    (html,) = notices.values()
    revoked = html.split('data-rule="ACCOUNT_NOT_REVOKED"', 1)[1].split("</section>", 1)[0]
    dormant = html.split('data-rule="ACCOUNT_DORMANT"', 1)[1].split("</section>", 1)[0]
    assert "日時（和暦・西暦）" not in revoked
    assert "日時（和暦・西暦）" in dormant and "令和6年12月1日 (2024-12-01) 00:00" in dormant


def test_audit_date_from_as_of_else_audit_time_in_jst() -> None:
    from pia_policy.report import audit_date

    assert audit_date({"as_of": "2025-04-02", "audit_time": "2030-01-01T00:00:00Z"}).isoformat() == "2025-04-02"
    # 15:00 UTC is 00:00 JST of the next day; one second earlier is still the same day
    assert audit_date({"audit_time": "2025-04-01T15:00:00Z"}).isoformat() == "2025-04-02"
    assert audit_date({"audit_time": "2025-04-01T14:59:59Z"}).isoformat() == "2025-04-01"


def test_notice_wording_follows_the_source(tmp_path: Path) -> None:
    import re

    findings = [make_finding("ACCOUNT_NOT_REVOKED", account_id="r1"), make_finding("ACCOUNT_DORMANT", account_id="d1"),
                make_finding("LONG_SESSION", account_id="l1")]
    _, notices = _notice(tmp_path, findings)
    (html,) = notices.values()
    sections = {m.group(1): m.group(2) for m in re.finditer(r'<section class="rule" data-rule="(\w+)">(.*?)</section>',
                                                             html, re.S)}
    # 失効管理 allows no exception: no invitation to keep the ID
    revoke = sections["ACCOUNT_NOT_REVOKED"]
    assert "失効させ" in revoke and "引き続き必要" not in revoke and "継続が必要" not in revoke
    assert "回答<br><small>（失効日）</small>" in revoke
    # ACCOUNT_DORMANT is city policy: it must not claim the assessment as its basis
    dormant = sections["ACCOUNT_DORMANT"].split('<p class="basis">')[0]
    assert "市の運用" in dormant and "評価書に基づき" not in dormant and "評価書のアクセス権限の管理に基づき" not in dormant
    assert "市の運用" in sections["LONG_SESSION"]
    # 別添3 is the change record, not a part of the 評価書 the notice relies on
    assert "評価書（別添3" not in html and "全項目評価書（III 特定個人情報ファイルの取扱いプロセス" in html


def test_issuer_remedy_says_issue_again() -> None:
    assert rules.get("ACCOUNT_ISSUER_INVALID").remedy_ja.endswith("IDを発行し直す")
    assert "再発効" not in rules.get("ACCOUNT_ISSUER_INVALID").remedy_ja


# --- issue 16 items 4 and 12: notice file names are a safe slug plus a hash when the name is not safe ------

def test_long_astral_department_name_fits_a_file_name(tmp_path: Path) -> None:
    dept = "𠮷" * 80  # 320 UTF-8 bytes: over NAME_MAX (255) as it was
    paths, notices = _notice(tmp_path, [make_finding("ACCOUNT_DORMANT", account_id="a", department=dept)])
    (name,) = [p.split("/", 1)[1] for p in paths[1:]]
    assert len(name.encode("utf-8")) <= 255 and name.startswith("𠮷" * 40 + "-") and name.endswith(".html")
    assert (tmp_path / "notices" / name).is_file()


@pytest.mark.parametrize("dept", ["健康\u202e課", "健康\u200b課", "健康\u2028課", "健康\u00a0課"])
def test_bidi_and_invisible_characters_never_reach_a_file_name(tmp_path: Path, dept: str) -> None:
    twin = dept.replace(dept[2], "_")  # the slug a naive replacement would give: must not collide
    findings = [make_finding("ACCOUNT_DORMANT", account_id="a", department=dept),
                make_finding("ACCOUNT_DORMANT", account_id="b", department=twin)]
    paths, _ = _notice(tmp_path, findings)
    names = {p.split("/", 1)[1] for p in paths[1:]}
    assert len(names) == 2 and f"{twin}.html" in names  # near miss: a safe name is kept as it is
    (hostile,) = names - {f"{twin}.html"}
    assert hostile.startswith("健康_課-") and len(hostile) == len("健康_課-") + 8 + len(".html")
    assert all(unicodedata.category(c)[0] not in "CZ" or c == " " for n in names for c in n)


def test_safe_filename_drops_format_characters_and_bounds_bytes() -> None:
    assert safe_filename("a\u202eb\u200dc") == "a_b_c"
    assert len(safe_filename("𠮷" * 80).encode("utf-8")) <= 160
