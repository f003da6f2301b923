"""Helpers shared by the report and the notices: masking, safe file names, summary access."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any, Callable

__all__ = ["mask", "safe_filename", "as_counter", "BAD_FILENAME_CHARS"]

_DIGIT = "[0-9０-９]"
_SEP = "[ \\-\u3000－‐−]?"
_MY_NUMBER = re.compile(
    f"(?<![0-9０-９])({_DIGIT}{{4}}){_SEP}({_DIGIT}{{4}}){_SEP}({_DIGIT}{{4}})(?![0-9０-９])"
)


def _check_digit_ok(digits: str) -> bool:
    body = [int(c) for c in digits[:11]]
    total = 0
    for n in range(1, 12):
        p = body[11 - n]
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    rem = total % 11
    check = 0 if rem <= 1 else 11 - rem
    return check == int(digits[11])


def _local_mask(text: str) -> str:
    """Mask 12-digit My Numbers with a valid check digit (fallback when outputs has none)."""

    def repl(m: re.Match[str]) -> str:
        digits = unicodedata.normalize("NFKC", "".join(m.groups()))
        if not _check_digit_ok(digits):
            return m.group(0)
        return re.sub("[0-9０-９]", "*", m.group(0))

    return _MY_NUMBER.sub(repl, text)


def _masker() -> Callable[[str], str]:
    try:  # the product's masking (helper H6), when present
        from pia_policy.outputs import mask_my_number  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - any import problem: use the local fallback
        return _local_mask

    def both(text: str) -> str:
        return _local_mask(mask_my_number(text))

    return both


_MASK: Callable[[str], str] | None = None
_FOUR_DIGITS = re.compile("[0-9０-９]{4}")


@lru_cache(maxsize=65536)
def _mask_text(text: str) -> str:
    global _MASK
    if _MASK is None:
        _MASK = _masker()
    return _MASK(text)


def mask(value: Any) -> str:
    """``str(value)`` with every My Number masked; "" for None."""
    if value is None:
        return ""
    text = str(value)
    if not _FOUR_DIGITS.search(text):  # no My Number without a run of 4 digits
        return text
    return _mask_text(text) if len(text) < 512 else (_MASK or _masker())(text)


#: Characters Windows (and SMB shares) do not accept in a file name, plus path separators.
BAD_FILENAME_CHARS = '<>:"/\\|?*'
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_filename(name: str, *, max_chars: int = 80) -> str:
    """A file-name stem safe on a Windows share: Japanese kept; separators, reserved and
    control characters replaced by ``_``; no trailing dot or space; no reserved device name."""
    text = unicodedata.normalize("NFC", name or "")
    out = "".join("_" if (c in BAD_FILENAME_CHARS or ord(c) < 32 or c == "\x7f") else c for c in text)
    out = out.strip().rstrip(". ").lstrip(" ")
    if len(out) > max_chars:
        out = out[:max_chars].rstrip(". ")
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
