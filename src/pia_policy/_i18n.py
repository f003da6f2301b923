"""Language of messages for officers: Japanese by default, English on request."""

from __future__ import annotations

import os

__all__ = ["lang", "set_lang", "msg"]

_lang: str | None = None


def set_lang(value: str | None) -> None:
    """Set the language for this process (``ja`` or ``en``); None: back to the environment."""
    global _lang
    _lang = value


def lang() -> str:
    """``ja`` or ``en``: set_lang(), else $PIA_POLICY_LANG, else ``ja``."""
    value = _lang or os.environ.get("PIA_POLICY_LANG", "ja")
    return "en" if value.lower().startswith("en") else "ja"


def msg(ja: str, en: str) -> str:
    """The message in the current language."""
    return en if lang() == "en" else ja
