"""The nightly audit (SPEC §3–§6): access logs, ledger and personnel events judged by every rule.

``audit(data_dir, as_of=..., out=..., settings=AuditSettings(...))`` returns an :class:`AuditResult`
(findings, summary, exit code) and, with ``out``, writes the SPEC §5 files. The engine is DuckDB, in-process:
decisions are computed once per distinct request and joined to the events; every rule is one
portable SQL query (see ``pia_policy.rules``).
"""

from __future__ import annotations

import sys as _sys
import types as _types
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from .._lazy import lazy_attributes as _lazy_attributes

if _TYPE_CHECKING:  # pragma: no cover
    from ._api import AuditResult, as_of_utc, audit, exit_code_for
    from ._calendar import calendar_rows, is_business_day
    from ._engine import SCHEMA_VERSION, EngineResult, finding_id, finding_rows, iso_jst, read_findings, run_engine
    from ._settings import DEFAULT_THRESHOLDS, AuditSettings, ConfigError, Thresholds, read_config, resolve_settings

# Lazy (the CLI reads the settings to build its flags without importing the engine, DuckDB, Arrow):
__getattr__ = _lazy_attributes(__name__, {
    "._api": ("AuditResult", "as_of_utc", "audit", "exit_code_for"),
    "._calendar": ("calendar_rows", "is_business_day"),
    "._engine": ("SCHEMA_VERSION", "EngineResult", "finding_id", "finding_rows", "iso_jst", "read_findings",
                 "run_engine"),
    "._settings": ("DEFAULT_THRESHOLDS", "AuditSettings", "ConfigError", "Thresholds", "read_config",
                   "resolve_settings"),
})

__all__ = [
    "audit",
    "AuditResult",
    "ConfigError",
    "AuditSettings",
    "Thresholds",
    "DEFAULT_THRESHOLDS",
    "SCHEMA_VERSION",
    "EngineResult",
    "as_of_utc",
    "calendar_rows",
    "exit_code_for",
    "finding_id",
    "finding_rows",
    "read_findings",
    "is_business_day",
    "iso_jst",
    "read_config",
    "resolve_settings",
    "run_engine",
]


class _CallableModule(_types.ModuleType):
    """``pia_policy.audit`` is both this package and the ``audit()`` function.

    Importing the subpackage binds ``pia_policy.audit`` to the module, so
    ``from pia_policy import audit`` yields the module; calling it runs :func:`audit`.
    """

    def __call__(self, *args: _Any, **kwargs: _Any) -> AuditResult:
        from ._api import audit

        return audit(*args, **kwargs)


_sys.modules[__name__].__class__ = _CallableModule
