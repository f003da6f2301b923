"""findings.csv: UTF-8 with BOM, CRLF, every Finding column, formula-injection safe."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from outputs_helpers import make_finding

from pia_policy.outputs import FINDING_COLUMNS, safe_cell, write_outputs


@pytest.mark.parametrize(
    "value",
    ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", " =1", "\u3000＝1", "＝1", "＋1", "－1", "＠x",
     "  \t@x", "=HYPERLINK(\"http://x\")"],
)
def test_formula_starts_get_a_quote(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["a=b", "1-2", "x@y", "", "介護保険課", "'=already", "a\n=b"])
def test_near_misses_unchanged(value: str) -> None:
    assert safe_cell(value) == value


def test_numbers_and_none() -> None:
    assert safe_cell(-3) == "-3"  # a number, not a formula
    assert safe_cell(None) == ""
    assert safe_cell("-3") == "'-3"  # text starting with '-' would be evaluated


def test_finding_columns_are_the_documented_order() -> None:
    # FINDING_COLUMNS is derived from the model; the order is the one README "Outputs" promises.
    assert FINDING_COLUMNS == (
        "schema_version", "finding_id", "rule", "severity", "account_id", "person_id", "department", "system",
        "first_ts", "last_ts", "event_count", "evidence", "basis", "action",
    )


def read_csv(path: Path) -> tuple[bytes, list[list[str]]]:
    raw = path.read_bytes()
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_csv_file_format(tmp_path: Path) -> None:
    hostile = make_finding(1, account_id="=cmd|' /C calc'!A0", department="＝部署", basis="line1\nline2",
                           action="@SUM(1)")
    plain = make_finding(2)
    write_outputs(tmp_path / "out", findings=[hostile, plain], summary={}, rejected=[])
    raw, rows = read_csv(tmp_path / "out" / "findings.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.endswith(b"\r\n")
    assert raw.count(b"\r\n") == 3  # header and two rows; the newline inside a quoted cell stays LF
    assert b"\n" not in raw.replace(b"\r\n", b"").replace(b"line1\nline2", b"")
    assert rows[0] == list(FINDING_COLUMNS)
    first = dict(zip(rows[0], rows[1]))
    assert first["account_id"] == "'=cmd|' /C calc'!A0"
    assert first["department"] == "'＝部署"
    assert first["action"] == "'@SUM(1)"
    assert first["basis"] == "line1\nline2"
    assert first["evidence"] == "events/a.jsonl:2; events/b.jsonl:9"
    assert first["event_count"] == "2"
    second = dict(zip(rows[0], rows[2]))
    assert second["account_id"] == "acc0002" and second["first_ts"] == "2026-04-01T00:00:00"
    assert second["person_id"] == "p0002"


def test_csv_empty_has_header(tmp_path: Path) -> None:
    write_outputs(tmp_path / "out", findings=[], summary={}, rejected=[])
    raw, rows = read_csv(tmp_path / "out" / "findings.csv")
    assert rows == [list(FINDING_COLUMNS)]
    assert raw == b"\xef\xbb\xbf" + ",".join(FINDING_COLUMNS).encode() + b"\r\n"

TRIGGERS = set("=+-@＝＋－＠")


@given(st.text(alphabet=st.sampled_from(list("=+-@＝＋－＠ \u3000\t\rab1'\n\"")), max_size=12))
def test_no_cell_starts_a_formula(value: str) -> None:
    cell = safe_cell(value)
    if cell.startswith("'") and not value.startswith("'"):
        assert cell[1:] == value  # only ever one quote added, nothing else changed
        assert value[:1] in ("\t", "\r") or value.lstrip()[:1] in TRIGGERS
    else:
        assert cell == value
        assert value[:1] not in ("\t", "\r") and value.lstrip()[:1] not in TRIGGERS
