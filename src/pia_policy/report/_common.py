"""Helpers shared by the report and the notices: masking, safe file names, summary access."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from .. import rules
from ..outputs import mask_my_number
from ..rules import Rule

__all__ = ["mask", "safe_filename", "as_counter", "find_rule", "BAD_FILENAME_CHARS"]

_FOUR_DIGITS = re.compile("[0-9０-９]{4}")


@lru_cache(maxsize=65536)
def _mask_text(text: str) -> str:
    return mask_my_number(text)


def mask(value: Any) -> str:
    """``str(value)`` with every My Number masked; "" for None."""
    if value is None:
        return ""
    text = str(value)
    if not _FOUR_DIGITS.search(text):  # no My Number without a run of 4 digits
        return text
    return _mask_text(text) if len(text) < 512 else mask_my_number(text)


#: Characters Windows (and SMB shares) do not accept in a file name, plus path separators.
BAD_FILENAME_CHARS = '<>:"/\\|?*'
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def _unsafe(c: str) -> bool:
    """Separators, Windows-reserved characters, and every control, format (U+202E and the other
    bidirectional controls, zero-width characters), surrogate, private-use or unassigned code
    point, and every space but U+0020."""
    category = unicodedata.category(c)
    return c in BAD_FILENAME_CHARS or category[0] == "C" or (category[0] == "Z" and c != " ")


def safe_filename(name: str, *, max_chars: int = 80, max_bytes: int = 160) -> str:
    """A file-name stem safe on a Windows share: Japanese kept; separators, reserved, control,
    format and odd space characters replaced by ``_``; at most ``max_chars`` characters and
    ``max_bytes`` UTF-8 bytes (a file name holds 255 bytes); no trailing dot or space; no
    reserved device name."""
    text = unicodedata.normalize("NFC", name or "")
    out = "".join("_" if _unsafe(c) else c for c in text)
    out = out.strip().rstrip(". ").lstrip(" ")
    if len(out) > max_chars:
        out = out[:max_chars].rstrip(". ")
    while len(out.encode("utf-8")) > max_bytes:
        out = out[:-1].rstrip(". ")
    if not out or set(out) <= {".", "_", " "}:
        out = "_" + out.replace(".", "_") if out else "_"
    if out.split(".")[0].upper().rstrip(" ") in _RESERVED:
        out = "_" + out
    return out


def as_counter(value: Any) -> dict[str, int]:
    """A ``{key: count}`` from a dict, a list of pairs or a list of ``{key|name, count}`` objects."""
    if isinstance(value, dict):
        out: dict[str, int] = {}
        for k, v in value.items():
            try:
                out[str(k)] = int(v)
            except (TypeError, ValueError):
                continue
        return out
    if isinstance(value, list):
        out = {}
        for item in value:
            if isinstance(item, (list, tuple)) and len(item) == 2:
                out[str(item[0])] = int(item[1])
            elif isinstance(item, dict):
                key = next((item[k] for k in ("key", "name", "day", "hour", "department", "system") if k in item), None)
                cnt = next((item[k] for k in ("count", "value", "n") if k in item), None)
                if key is not None and cnt is not None:
                    out[str(key)] = int(cnt)
        return out
    return {}


def find_rule(rule_id: str) -> Rule | None:
    """The catalogue rule of ``rule_id``; None for an id the catalogue does not know (still shown)."""
    try:
        return rules.get(rule_id)
    except KeyError:
        return None
