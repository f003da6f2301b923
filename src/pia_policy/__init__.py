"""pia_policy: My Number (特定個人情報) transfers and access, as effective-dated Casbin policies.

Back ends: ``Policy.load()`` once, then ``check_transfer`` / ``check_access`` per request.
Nightly audits: ``audit(data_dir, as_of=..., out=...)`` or ``pia-policy audit``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import AccessRequest, Account, Decision, Evidence, Finding, Officer

__all__ = [
    "AccessRequest",
    "Account",
    "Decision",
    "Evidence",
    "Finding",
    "Officer",
    "Policy",
    "audit",
    "__version__",
]

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from .audit import audit
    from .policy import Policy


def __getattr__(name: str) -> Any:
    # Lazy: back ends that only decide do not import the audit engine (DuckDB) and vice versa.
    if name == "Policy":
        from .policy import Policy

        return Policy
    if name == "audit":
        from .audit import audit

        return audit
    raise AttributeError(f"module 'pia_policy' has no attribute {name!r}")
