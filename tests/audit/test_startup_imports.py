"""Start-up: commands import only what they use (DuckDB, Arrow, SQLAlchemy, structlog are the audit's)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

_HEAVY = ("duckdb", "pyarrow", "sqlalchemy", "structlog", "fastapi", "polars")


def _imported_after(code: str) -> list[str]:
    probe = code + f"\nimport sys, json\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({_HEAVY!r}))))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def _cli(*args: str) -> str:
    return ("from pia_policy.cli import main\ntry:\n    main(%r)\nexcept SystemExit:\n    pass\n" % (list(args),))


@pytest.mark.parametrize("args", [
    ("--help",),
    ("lint",),
    ("check-access", "--department", "健康保険課", "--action", "view", "--resource", "kihon_joho",
     "--affair", "kouki-01", "--roles", "kouki_staff", "--at", "2025-04-01"),
    ("triage", "--help"),
])
def test_commands_that_do_not_audit_import_no_engine(args: tuple[str, ...]) -> None:
    assert _imported_after(_cli(*args)) == []


def test_audit_settings_and_state_statuses_without_the_engine() -> None:
    # the CLI builds its flags from these; the packages resolve the rest on first use
    assert _imported_after("import pia_policy.audit._settings, pia_policy.state._statuses") == []
    assert "duckdb" in _imported_after("from pia_policy.audit import audit")  # near miss: the engine itself
    assert "sqlalchemy" in _imported_after("from pia_policy.state import StateStore")


def test_lazy_package_attributes_resolve_and_unknown_names_fail() -> None:
    import pia_policy.audit as audit_pkg
    import pia_policy.state as state_pkg

    assert audit_pkg.SCHEMA_VERSION and callable(audit_pkg.audit) and state_pkg.TRIAGE_STATUSES
    assert set(audit_pkg.__all__) <= set(dir(audit_pkg)) | {n for n in audit_pkg.__all__ if hasattr(audit_pkg, n)}
    with pytest.raises(AttributeError, match="no_such_name"):
        audit_pkg.no_such_name  # noqa: B018
    with pytest.raises(AttributeError, match="no_such_name"):
        state_pkg.no_such_name  # noqa: B018
