"""Small server-side SVG bar charts: no script, no external resource, every number as a data attribute."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from html import escape

__all__ = ["Bar", "column_chart", "hbar_chart", "nice_ticks", "text_width"]

_FONT = 12


@dataclass(frozen=True)
class Bar:
    """One bar: ``key`` (as in summary.json), value, bilingual axis label and tooltip."""

    key: str
    value: int
    label_ja: str
    label_en: str
    tip_ja: str = ""
    tip_en: str = ""
    color: str | None = None


def _a(value: object) -> str:
    return escape(str(value), quote=True)


def text_width(text: str, size: int = _FONT) -> float:
    """Estimated rendered width: wide (CJK) characters 1 em, others 0.6 em."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else size * 0.6 for c in text)


def _clip(text: str, width: float, size: int = _FONT) -> str:
    if text_width(text, size) <= width:
        return text
    out = ""
    for c in text:
        if text_width(out + c + "…", size) > width:
            break
        out += c
    return out + "…"


def nice_ticks(maximum: int, count: int = 4) -> list[int]:
    """Round tick values from 0 covering ``maximum`` (at most ``count`` + 1 ticks)."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    top = step * math.ceil(maximum / step)
    return list(range(0, top + 1, step))


def _bilingual_text(x: float, y: float, ja: str, en: str, anchor: str, cls: str = "") -> str:
    def one(lang_cls: str, text: str) -> str:
        classes = " ".join(c for c in (lang_cls, cls) if c)
        attr = f' class="{classes}"' if classes else ""
        return f'<text{attr} x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(text)}</text>'

    if ja == en:
        return one("", ja)
    return one("ja", ja) + one("en", en)


def _tooltip(bar: Bar) -> str:
    ja = bar.tip_ja or f"{bar.label_ja}: {bar.value:,}"
    en = bar.tip_en or f"{bar.label_en}: {bar.value:,}"
    return f"<title>{escape(ja if ja == en else ja + ' / ' + en)}</title>"


def _svg_open(chart_id: str, width: int, height: int, total: int, bars: int) -> str:
    return (
        f'<svg class="chart" role="img" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" data-chart="{_a(chart_id)}" data-total="{total}" '
        f'data-bars="{bars}">'
    )


def column_chart(
    chart_id: str,
    bars: list[Bar],
    *,
    color: str = "#3b6ea5",
    width: int = 720,
    height: int = 200,
    label_every: int | None = None,
) -> str:
    """Vertical bars over a category axis (days, hours), with a value axis and grid lines."""
    left, right, top, bottom = 48, 8, 10, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    total = sum(b.value for b in bars)
    parts = [_svg_open(chart_id, width, height, total, len(bars))]
    if not bars:
        parts.append(_bilingual_text(width / 2, height / 2, "データなし", "No data", "middle", "empty"))
        parts.append("</svg>")
        return "".join(parts)
    ticks = nice_ticks(max(b.value for b in bars))
    top_value = ticks[-1]
    for t in ticks:
        y = top + plot_h - plot_h * t / top_value
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="tick" x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{t:,}</text>')
    slot = plot_w / len(bars)
    bar_w = max(1.0, slot * 0.8)
    every = label_every or max(1, math.ceil(len(bars) / max(1, plot_w // 44)))
    for i, bar in enumerate(bars):
        h = plot_h * bar.value / top_value
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h - h
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
            f'fill="{_a(bar.color or color)}" data-key="{_a(bar.key)}" data-value="{bar.value}">'
            f"{_tooltip(bar)}</rect>"
        )
        if i % every == 0:
            parts.append(
                _bilingual_text(left + i * slot + slot / 2, height - bottom + 16, bar.label_ja, bar.label_en,
                                "middle", "axis")
            )
    parts.append(f'<line class="axisline" x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}"/>')
    parts.append("</svg>")
    return "".join(parts)


def hbar_chart(
    chart_id: str,
    bars: list[Bar],
    *,
    color: str = "#3b6ea5",
    width: int = 520,
    row: int = 22,
    max_label: int = 260,
) -> str:
    """Horizontal bars with the category label on the left and the value at the bar's end."""
    total = sum(b.value for b in bars)
    if not bars:
        height = 60
        return (
            _svg_open(chart_id, width, height, 0, 0)
            + _bilingual_text(width / 2, height / 2, "指摘なし", "No findings", "middle", "empty")
            + "</svg>"
        )
    label_w = min(max_label, max(max(text_width(b.label_ja), text_width(b.label_en)) for b in bars) + 8)
    value_w = text_width(f"{max(b.value for b in bars):,}") + 10
    plot_w = max(40.0, width - label_w - value_w - 8)
    height = row * len(bars) + 8
    top_value = max(1, max(b.value for b in bars))
    parts = [_svg_open(chart_id, width, height, total, len(bars))]
    for i, bar in enumerate(bars):
        y = 4 + i * row
        w = plot_w * bar.value / top_value
        parts.append(
            _bilingual_text(label_w - 6, y + row * 0.68, _clip(bar.label_ja, label_w - 8),
                            _clip(bar.label_en, label_w - 8), "end", "axis")
        )
        parts.append(
            f'<rect class="bar" x="{label_w:.1f}" y="{y + 3:.1f}" width="{w:.1f}" height="{row - 6}" '
            f'fill="{_a(bar.color or color)}" data-key="{_a(bar.key)}" data-value="{bar.value}">'
            f"{_tooltip(bar)}</rect>"
        )
        parts.append(
            f'<text class="value" x="{label_w + w + 4:.1f}" y="{y + row * 0.68:.1f}">{bar.value:,}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
