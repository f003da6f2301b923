"""Every quote (「…」) that metadata.toml gives as the source of a reading is in the source verbatim."""

from __future__ import annotations

import re
from pathlib import Path

from pia_policy.policy import Policy

SOURCE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "pia_assessment_changes.txt"


def _quotes(text: str) -> list[str]:
    return re.findall(r"「([^」]+)」", text)


def test_reading_quotes_are_verbatim(policy: Policy) -> None:
    source = SOURCE.read_text(encoding="utf-8")
    readings = policy.metadata["readings"]
    assert readings, "metadata.toml has no [readings]"
    n = 0
    for name, entry in readings.items():
        for ref in entry["source"]:
            quotes = _quotes(ref)
            assert quotes, f"[readings.{name}] source without a quote: {ref}"
            for q in quotes:
                assert q in source, f"[readings.{name}]: 「{q}」 is not in the source"
                n += 1
    assert n >= 8


def test_a_misquote_is_caught() -> None:
    source = SOURCE.read_text(encoding="utf-8")
    # the check above is not vacuous: a shortened 用途 is not a quote of 別紙1 ... it is a substring,
    # but a changed word is not
    assert "心身障害者の医療費の助成に関する条例による心身障害者の医療費の助成に関する事務であって規則で定めるもの" in source
    assert "心身障害者の医療費の助成に関する規則による心身障害者の医療費の助成に関する事務" not in source
