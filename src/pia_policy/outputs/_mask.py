"""My Number (個人番号) masking for every output string and for the tool's own logs (SPEC §5).

A My Number here is 12 digits, ASCII ``0-9`` or full-width ``０-９`` (mixed allowed), written
either contiguously or grouped 4-4-4 (a separator after the 4th and/or 8th digit: any Unicode
space separator or TAB, ASCII or full-width hyphen, or one of the usual hyphen look-alikes), not
directly touching another digit, whose 12th digit is the check digit of the first 11 per the
official algorithm (行政手続における特定の個人を識別するための番号の利用等に関する法律施行令
第8条 / 総務省令: 検査用数字). Such a number is masked by replacing its first 8 digits with ``*``
(separators kept), so no run of its 12 digits remains. Numbers whose check digit fails are
left alone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, MutableMapping
from typing import Any

__all__ = ["mask_my_number", "may_hold_my_number", "mask_value", "mask_processor", "is_valid_my_number", "check_digit"]

_ASCII_DIGITS = "0123456789"
_WIDE_DIGITS = "０１２３４５６７８９"
_DIGIT_VALUE = {c: i for i, c in enumerate(_ASCII_DIGITS)} | {c: i for i, c in enumerate(_WIDE_DIGITS)}
_D = "[0-9\uff10-\uff19]"
#: Every Unicode space separator (category Zs: space, no-break space, thin space, ideographic
#: space …) and TAB, hyphen-minus, full-width hyphen-minus and the look-alikes people type
#: between digit groups (‐ ‑ ‒ – — ― − ー ｰ).
#: (Zs is a subset of str.isspace, which filter() tests in C: 5× faster than asking every code point's category.)
_ZS = "".join(c for c in filter(str.isspace, map(chr, range(0x110000))) if unicodedata.category(c) == "Zs")
_SEPARATORS = "\t" + _ZS + "\\-\uff0d\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70"
_SEP = f"[{_SEPARATORS}]"
_CANDIDATE = re.compile(
    rf"(?<!{_D})(?=({_D}{{4}}{_SEP}?{_D}{{4}}{_SEP}?{_D}{{4}})(?!{_D}))"
)
#: Maximal runs of digits joined by single separators: every candidate lies inside one.
_CLUSTER = re.compile(f"{_D}(?:{_SEP}?{_D})*")
#: A cluster holding at least 12 digits: a text without one has no candidate (the common case,
#: found by one C-level scan instead of a Python step per digit run).
_TWELVE = re.compile(f"{_D}(?:{_SEP}?{_D}){{11}}")
#: Weights Q_n for P_n, n = 1..11 counted from the right of the first 11 digits.
_WEIGHTS = tuple(n + 1 if n <= 6 else n - 5 for n in range(1, 12))
_MASK_DIGITS = 8
#: ``may_hold_my_number(text)``: a match (truthy) when ``text`` holds 12 digits joined by single
#: separators, else None: masking leaves such a text as it is (a bound method: no Python frame).
may_hold_my_number = _TWELVE.search


def check_digit(first11: str) -> int:
    """The 検査用数字 of 11 digits (ASCII or full-width): 11 − (ΣPn×Qn mod 11), or 0 if the rest ≤ 1."""
    digits = [_DIGIT_VALUE[c] for c in first11]
    if len(digits) != 11:
        raise ValueError("check_digit needs exactly 11 digits")
    total = sum(digits[11 - n] * _WEIGHTS[n - 1] for n in range(1, 12))
    rest = total % 11
    return 0 if rest <= 1 else 11 - rest


def is_valid_my_number(text: str) -> bool:
    """True when ``text`` is exactly 12 digits (separators ignored) with a valid check digit."""
    digits = "".join(c for c in text if c in _DIGIT_VALUE)
    if len(digits) != 12 or len(text) - len(digits) > 2:
        return False
    return check_digit(digits[:11]) == _DIGIT_VALUE[digits[11]]


def _mask_candidate(candidate: str) -> str:
    out: list[str] = []
    seen = 0
    for char in candidate:
        if char in _DIGIT_VALUE:
            seen += 1
            out.append("*" if seen <= _MASK_DIGITS else char)
        else:
            out.append(char)
    return "".join(out)


def mask_my_number(text: str) -> str:
    """``text`` with every valid My Number masked (first 8 digits → ``*``); anything else unchanged.

    Repeated until nothing changes: masking can cut a longer digit run so that a remaining
    12-digit group no longer touches other digits (``123456789018 5678 9012``).
    """
    if not isinstance(text, str):
        return text
    while True:
        masked = _mask_pass(text)
        if masked is text:
            return text
        text = masked


def _mask_pass(text: str) -> str:
    if _TWELVE.search(text) is None:
        return text
    # Only clusters of digits joined by single separators can hold a candidate; most strings
    # have none with 12 digits, so the candidate search runs on very little text.
    parts: list[str] = []
    pos = 0
    for cluster_match in _CLUSTER.finditer(text):
        start, end = cluster_match.span()
        if end - start < 12:
            continue
        cluster = cluster_match.group()
        masked = _mask_cluster(cluster)
        if masked is cluster:
            continue
        parts.append(text[pos:start])
        parts.append(masked)
        pos = end
    if not parts:
        return text
    parts.append(text[pos:])
    return "".join(parts)


def _mask_cluster(cluster: str) -> str:
    parts: list[str] = []
    pos = 0
    for match in _CANDIDATE.finditer(cluster):
        start, end = match.span(1)
        if start < pos:  # overlaps a number already masked: that one breaks this run too
            continue
        candidate = match.group(1)
        if not is_valid_my_number(candidate):
            continue
        parts.append(cluster[pos:start])
        parts.append(_mask_candidate(candidate))
        pos = end
    if not parts:
        return cluster
    parts.append(cluster[pos:])
    return "".join(parts)


def mask_value(value: Any) -> Any:
    """Mask every string inside ``value`` (dict keys and values, lists, tuples) and 12-digit ints."""
    if isinstance(value, str):
        return mask_my_number(value)
    if isinstance(value, Mapping):
        return {mask_value(k): mask_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_value(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and 10**11 <= abs(value) < 10**12:
        text = str(value)
        masked = mask_my_number(text)
        return value if masked is text else masked  # a My Number held as a number becomes masked text
    return value


def _mask_log_value(value: Any) -> Any:
    if isinstance(value, (str, Mapping, list, tuple, int)):
        return mask_value(value)  # a 12-digit int that is a My Number becomes masked text, as in the files
    if value is None or isinstance(value, float):
        return value
    # Any other object is rendered with str()/repr() by the renderer: mask that text if needed.
    text = str(value)
    masked = mask_my_number(text)
    return value if masked == text else masked


def mask_processor(logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask My Numbers in every field of the event.

    Put it after ``format_exc_info`` / ``StackInfoRenderer`` and just before the renderer, so
    tracebacks rendered to text are masked too.
    """
    for key in list(event_dict):
        event_dict[key] = _mask_log_value(event_dict[key])
    return event_dict
