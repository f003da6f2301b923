"""Lazy package attributes (PEP 562): a package names what it exports, a submodule is imported on first use.

So ``pia-policy --help`` or a back end that only decides does not import DuckDB, Arrow or SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Mapping

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, where: Mapping[str, tuple[str, ...]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``where`` maps a submodule (``"._api"``) to the names it exports."""
    home = {name: module for module, names in where.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        globals_ = importlib.import_module(package).__dict__
        globals_[name] = value  # later lookups are plain attribute reads
        return value

    return __getattr__
