"""Every quote (「…」) that a citation gives is in the source verbatim, and every extension says 市の運用.

The source (docs/reference/pia_assessment_changes.txt) is a copy of the assessment's change record; its
cells were wrapped in a PDF, so spaces and line breaks are ignored when comparing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pia_policy import rules
from pia_policy.policy import Policy

SOURCE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "pia_assessment_changes.txt"


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _quotes(text: str) -> list[str]:
    return re.findall(r"「([^」]+)」", text)


@pytest.fixture(scope="module")
def source() -> str:
    return _flat(SOURCE.read_text(encoding="utf-8"))


def _citations(policy: Policy) -> list[tuple[str, str]]:
    out = [(f"rule {r.id}", r.basis) for r in rules.all_rules()]
    out += [(f"[lines.{k}]", v.get("citation", "")) for k, v in policy.metadata.get("lines", {}).items()]
    out += [(f"[issuance_lines.{k}]", v.get("citation", ""))
            for k, v in policy.metadata.get("issuance_lines", {}).items()]
    for name, entry in policy.metadata.get("readings", {}).items():
        out += [(f"[readings.{name}]", ref) for ref in entry["source"]]
    return out


def test_every_quote_in_a_citation_is_verbatim(policy: Policy, source: str) -> None:
    n = 0
    for where, text in _citations(policy):
        for q in _quotes(text):
            assert _flat(q) in source, f"{where}: 「{q}」 is not in the source"
            n += 1
    assert n >= 15


def test_every_reading_gives_a_quote(policy: Policy) -> None:
    for name, entry in policy.metadata["readings"].items():
        assert entry["source"] and all(_quotes(ref) for ref in entry["source"]), name


def test_a_misquote_is_caught(source: str) -> None:
    assert _flat("心身障害者の医療費の助成に関する条例による心身障害者の医療費の助成に関する事務であって規則で定めるもの") in source
    assert _flat("心身障害者の医療費の助成に関する規則による心身障害者の医療費の助成に関する事務") not in source


def _bessi1_rows() -> dict[str, list[str]]:
    rows = {}
    for line in SOURCE.read_text(encoding="utf-8").splitlines():
        cells = line.split("\t")
        if len(cells) == 7 and cells[0] in {"1", "2", "3", "4", "5"}:
            rows[cells[0]] = cells
    return rows


def test_purposes_quote_bessi1_in_full(policy: Policy) -> None:
    # 別紙1 columns: No., 情報照会者, 番号法, 条例, 移転先における用途, 移転方法, 時期・頻度
    rows = _bessi1_rows()
    assert len(rows) == 5
    codes = ["gaikokujin_hogo", "shinshin_iryohi", "hitorioya_iryohi", "seishin_nyuin_iryohi", "shoni_shitei_iryohi"]
    for no, code in zip("12345", codes):
        assert policy.purposes[code] == rows[no][4], code
        assert policy.purposes[code].endswith("であって規則で定めるもの")
        assert rows[no][3] == "第3条第2項及び別表(第3条関係)"
        assert "条例第3条第2項及び別表(第3条関係)" in policy.citation(f"bessi1-{no}-transfer")
    assert "(第3条関係)" in rules.get("TRANSFER_NOT_PERMITTED").basis


@pytest.mark.parametrize("rule_id", [
    "LONG_SESSION", "TERMINAL_NOT_AUTHORIZED", "MEDIA_EXPORT_UNAUTHORIZED", "MEDIA_EXPORT_UNRECORDED",
    "MY_NUMBER_WITHOUT_PERMISSION", "ACCOUNT_DORMANT", "ACCOUNT_NOT_REVOKED", "BULK_ACCESS", "LOG_GAP",
    "LOG_SEQUENCE_GAP",
])
def test_extensions_are_marked_city_policy(rule_id: str) -> None:
    assert "市の運用" in rules.get(rule_id).basis


def test_extension_marks_name_what_they_extend() -> None:
    assert "10時間" in rules.get("LONG_SESSION").basis
    assert "7日" in rules.get("ACCOUNT_NOT_REVOKED").basis
    assert "印刷" in rules.get("MY_NUMBER_WITHOUT_PERMISSION").basis
    assert rules.get("ACCOUNT_DORMANT").basis.startswith("市の運用（評価書に定めなし")
    for rid in ("LONG_SESSION", "TERMINAL_NOT_AUTHORIZED", "MEDIA_EXPORT_UNAUTHORIZED", "MEDIA_EXPORT_UNRECORDED"):
        assert "福祉システム" in rules.get(rid).basis and "他システムへの適用は市の運用" in rules.get(rid).basis \
            or "他システムへの適用と" in rules.get(rid).basis, rid


def test_bulk_access_cites_the_former_dispatched_worker_row_of_bessi2(source: str) -> None:
    basis = rules.get("BULK_ACCESS").basis
    assert "別紙2 R5" in basis and "元派遣社員" in basis
    (quote,) = _quotes(basis)
    assert _flat(quote) in source and "約5万人" in quote
