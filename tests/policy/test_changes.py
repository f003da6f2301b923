"""`pia-policy changes`: the 別添3 変更箇所 table generated from the policy, against the source's own rows."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path

import pytest

from pia_policy.cli import main
from pia_policy.policy import Policy, change_rows, lint, render_changes

# The source's 別添3 rows (reference/pia_assessment_changes.txt), copied verbatim (tab-separated
# cells: 変更日, 項目, 変更前の記載, 変更後の記載, 提出時期, 提出時期に係る説明). The 2025-11-26 row's
# 項目 is 「前項継続」 in the source: it continues the row whose 項目 is quoted in _ITEM_I_1_2.
_SOURCE_2025_03_24_III_5 = (
    "令和7年3月24日\t<p>Ⅲ リスク対策 (プロセス)</p> <p>5. 特定個人情報の提供・移転 (委託や情報提供ネットワークシステムを通じた提供を除く。)</p>\t"
    "<p>[○] 提供・移転しない</p>\t<p>(移転を行っているものとして記載)</p>\t事後\t"
    "<p>重要な変更該当 (法令の改正に伴う変更であり、施行日までに第三者点検を受ける期間を確保することができないため)</p>"
)
_SOURCE_2025_11_26_I_1_2 = (
    "令和7年11月26日\t前項継続\t"
    "<p>以上の事務のうち、行政手続における特定の個人を識別するための番号の利用等に関する法律（以下「番号法」という。）の規定に従い、"
    "特定個人情報（1、4、5、6、8、9、11、13、14、15）の事務で取り扱う。</p> <p>凡例：「※」重要事項</p>\t"
    "<p>以上の事務のうち、行政手続における特定の個人を識別するための番号の利用等に関する法律（以下「番号法」という。）の規定に従い、"
    "特定個人情報（1、4、5、6、8、9、11、13、14、16）の事務で取り扱う。</p> <p>凡例：「※」重要事項</p>\t"
    "事後\t重要な変更にあたる項目に含まれない"
)
_ITEM_I_1_2 = "<p>Ⅰ 基本情報</p> <p>1.特定個人情報ファイルを取り扱う事務</p> <p>②事務の内容</p>"
_LEGEND = "凡例：「※」重要事項"  # a legend printed under the item in the 評価書, not part of the policy's wording


def _norm(text: str) -> str:
    """Compare as printed: tags dropped, NFKC (（ = (), whitespace ignored."""
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _source(row: str) -> list[str]:
    return [_norm(c) for c in row.split("\t")]


def test_shipped_rows_say_what_the_source_says(policy: Policy) -> None:
    rows = change_rows(policy.source_lines, policy.versions, policy.metadata, "2020", "2025-11-26")
    assert [(r.version, r.element) for r in rows] == [("2025-03-24", "transfers"), ("2025-11-26", "my_number_affairs")]
    assert [_norm(c) for c in rows[0].cells()] == _source(_SOURCE_2025_03_24_III_5)
    date, item, before, after, timing, why = _source(_SOURCE_2025_11_26_I_1_2)
    got = [_norm(c) for c in rows[1].cells()]
    assert got[0] == date and got[1] == _norm(_ITEM_I_1_2)
    assert got[2] == before.replace(_norm(_LEGEND), "") and got[3] == after.replace(_norm(_LEGEND), "")
    assert got[4:] == [timing, why]
    assert rows[0].important and not rows[1].important


def test_one_step_and_no_change(policy: Policy) -> None:
    rows = change_rows(policy.source_lines, policy.versions, policy.metadata, "2025-03-24", "2025-11-26")
    assert [r.element for r in rows] == ["my_number_affairs"]
    assert change_rows(policy.source_lines, policy.versions, policy.metadata, "2025-11-26", "2025-11-26") == []
    with pytest.raises(ValueError, match="older"):
        change_rows(policy.source_lines, policy.versions, policy.metadata, "2025-11-26", "2020")
    with pytest.raises(ValueError, match="2025-03-24"):
        change_rows(policy.source_lines, policy.versions, policy.metadata, "2019", "2020")


def test_submitted_decides_prior_or_after(policy: Policy) -> None:
    def timing(day: str) -> tuple[str, str]:
        import datetime as dt

        r = change_rows(policy.source_lines, policy.versions, policy.metadata, "2020", "2025-03-24",
                        submitted=dt.date.fromisoformat(day))[0]
        return r.timing, r.explanation

    assert timing("2025-03-23") == ("事前", "重要な変更")          # the day before the in-force date
    assert timing("2025-03-24")[0] == "事後"                       # on the day: after the fact
    assert timing("2025-04-01")[1].startswith("重要な変更該当（法令の改正")
    import datetime as dt

    r = change_rows(policy.source_lines, policy.versions, policy.metadata, "2025-03-24", "2025-11-26",
                    submitted=dt.date(2025, 10, 1))[0]
    assert (r.timing, r.explanation) == ("事前", "事後で足りるものの任意に事前に提出")


def test_formats(policy: Policy) -> None:
    rows = change_rows(policy.source_lines, policy.versions, policy.metadata, "2020", "2025-11-26")
    text = render_changes(rows, "csv")
    assert text.startswith("\ufeff変更日,項目,変更前の記載,変更後の記載,提出時期,提出時期に係る説明\r\n")
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(parsed) == 3 and parsed[1][0] == "令和7年3月24日" and parsed[2][4] == "事後"
    page = render_changes(rows, "html")
    assert "size: A4 landscape" in page and "<th>変更前の記載</th>" in page and page.count("<tr>") == 3
    md = render_changes(rows, "md")
    assert md.count("\n| 令和7年") == 2 and "|---|" in md
    with pytest.raises(ValueError, match="csv, html, md"):
        render_changes(rows, "xlsx")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_cells_are_escaped_and_formula_safe(policy_copy: Path) -> None:
    meta = policy_copy / "metadata.toml"
    _edit(meta, 'absent = "[○] 提供・移転しない"', 'absent = "=HYPERLINK(\\"http://x\\") | <b>"')
    p = Policy.load(policy_copy)
    rows = change_rows(p.source_lines, p.versions, p.metadata, "2020", "2025-03-24")
    assert "'=HYPERLINK" in render_changes(rows, "csv")
    assert "&lt;b&gt;" in render_changes(rows, "html") and "<b>" not in render_changes(rows, "html")
    assert "\\| &lt;b&gt;" in render_changes(rows, "md")


def test_lint_reports_important_change_after_the_fact_without_reason(policy_copy: Path) -> None:
    meta = policy_copy / "metadata.toml"
    assert lint(policy_copy) == []
    _edit(meta, 'reason = "法令の改正に伴う変更であり、施行日までに第三者点検を受ける期間を確保することができないため"\n', "")
    problems = lint(policy_copy)
    assert [p.code for p in problems] == ["important_change_without_reason"]
    line = meta.read_text(encoding="utf-8").splitlines()[problems[0].line - 1]
    assert line == '[changes."2025-03-24"]' and "2025-03-24" in problems[0].message
    # near miss: filed 事前 needs no reason
    _edit(meta, '[changes."2025-03-24"]\ntiming = "事後"', '[changes."2025-03-24"]\ntiming = "事前"')
    assert lint(policy_copy) == []
    # a change that is not 重要な変更 (2025-11-26) filed 事後 needs none either
    assert 'timing = "事後"' in meta.read_text(encoding="utf-8").split('[changes."2025-11-26"]')[1]


def test_lint_reports_unknown_item_kind(policy_copy: Path) -> None:
    _edit(policy_copy / "metadata.toml", 'kind = "lines"', 'kind = "paragraph"')
    assert [p.code for p in lint(policy_copy)] == ["invalid_item"]


def test_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["changes", "--from", "2020", "--to", "latest", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("\ufeff変更日,")
    assert main(["changes", "--from", "2020", "--to", "2025-03-24", "--submitted", "2025-03-01"]) == 0
    assert "| 事前 | 重要な変更 |" in capsys.readouterr().out
    assert main(["changes", "--from", "2020", "--to", "2025-03-24", "--submitted", "3/1"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
    assert main(["changes", "--from", "2025-11-26", "--to", "2020"]) == 2
    assert main(["changes", "--from", "2020", "--to", "2030"]) == 2
    assert "2025-11-26" in capsys.readouterr().err


def test_a_new_bessi1_row_is_a_change_of_the_transfers_item(policy_copy: Path) -> None:
    # a city adds a sixth 別紙1 row in the 2025-11-26 version: the III-5 item changes, and lists the lines
    with open(policy_copy / "policy.csv", "a", encoding="utf-8") as fh:
        fh.write("p,kouki_staff,grp:holder,grp:transfer_info,transfer,gaikokujin_hogo,2025-11-26,*,健康支援課,"
                 "fukushi_system,bessi1-6-transfer\n")
    with open(policy_copy / "metadata.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[lines.bessi1-6-transfer]\ncitation = "別紙1 No.6 (番号法第9条第2項, 条例)"\n')
    p = Policy.load(policy_copy)
    rows = change_rows(p.source_lines, p.versions, p.metadata, "2025-03-24", "2025-11-26")
    assert [r.element for r in rows] == ["my_number_affairs", "transfers"]
    transfers = rows[1]
    assert transfers.important and "bessi1-6-transfer" in transfers.after and "bessi1-6-transfer" not in transfers.before
    assert transfers.before.startswith("(移転を行っているものとして記載)\n")
    assert transfers.explanation == "重要な変更該当（事後の理由の記録なし）"
    # and lint asks for the reason of this 重要な変更 filed 事後
    # (the pair 健康支援課 / gaikokujin_hogo is not in 別紙1: lint's invariants say so too)
    codes = [(x.code, x.line) for x in lint(policy_copy) if x.code == "important_change_without_reason"]
    text = (policy_copy / "metadata.toml").read_text(encoding="utf-8").splitlines()
    assert len(codes) == 1
    assert text[codes[0][1] - 1] == '[changes."2025-11-26"]'
