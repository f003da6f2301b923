"""The SVG charts: scales, empty data, escaping, bar geometry proportional to values."""

from __future__ import annotations

import pytest
from _report_helpers import parse

from pia_policy.report._svg import Bar, column_chart, hbar_chart, nice_ticks, text_width


@pytest.mark.parametrize(
    ("maximum", "top"),
    [(0, 1), (1, 1), (4, 4), (5, 6), (10, 10), (11, 15), (99, 100), (1234, 1500), (1_000_000, 1_000_000)],
)
def test_nice_ticks_cover_the_maximum(maximum: int, top: int) -> None:
    ticks = nice_ticks(maximum)
    assert ticks[0] == 0 and ticks[-1] >= maximum and ticks[-1] == top
    steps = {b - a for a, b in zip(ticks, ticks[1:])}
    assert len(steps) == 1 and len(ticks) <= 6


def test_bar_heights_are_proportional() -> None:
    svg = column_chart("c", [Bar("a", 10, "a", "a"), Bar("b", 5, "b", "b"), Bar("z", 0, "z", "z")])
    doc = parse(svg)
    rects = {e.attrs["data-key"]: float(str(e.attrs["height"])) for e in doc.find("rect")}
    assert rects["a"] == pytest.approx(2 * rects["b"], rel=1e-2)
    assert rects["z"] == 0
    (root,) = doc.find("svg")
    assert root.attrs["data-total"] == "15" and root.attrs["data-bars"] == "3"


def test_hbar_widths_are_proportional_and_labels_clipped() -> None:
    long = "とても長い所属名" * 10
    svg = hbar_chart("h", [Bar("x", 8, long, "long"), Bar("y", 2, "短", "short")])
    doc = parse(svg)
    widths = {e.attrs["data-key"]: float(str(e.attrs["width"])) for e in doc.find("rect")}
    assert widths["x"] == pytest.approx(4 * widths["y"], rel=1e-2)
    ja_labels = [e.text for e in doc.find("text") if "ja" in str(e.attrs.get("class", "")).split()]
    assert any(t.endswith("…") for t in ja_labels) and long in svg  # full text kept in the tooltip


def test_empty_charts_say_so() -> None:
    assert 'data-bars="0"' in column_chart("c", []) and "データなし" in column_chart("c", [])
    assert 'data-bars="0"' in hbar_chart("h", []) and "No findings" in hbar_chart("h", [])


def test_keys_and_labels_are_escaped() -> None:
    svg = hbar_chart("h", [Bar('"><script>x</script>', 1, "<b>課</b>", "<i>d</i>")])
    assert "<script>" not in svg and "<b>" not in svg and "<i>" not in svg
    (rect,) = parse(svg).find("rect")
    assert rect.attrs["data-key"] == '"><script>x</script>'


def test_text_width_counts_wide_characters_double() -> None:
    assert text_width("課") == pytest.approx(2 * text_width("a") / 1.2)
    assert text_width("ab") < text_width("課課")
