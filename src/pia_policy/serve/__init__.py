"""`pia-policy serve` (SPEC §9): decisions over HTTP for back ends in any language.

Needs the optional extra: ``pip install 'pia-policy[serve]'`` (FastAPI, uvicorn).

>>> from pia_policy.policy import Policy
>>> from pia_policy.serve import Service, create_app
>>> app = create_app(Service(Policy.load()))   # any ASGI server; `pia-policy serve` runs uvicorn
"""

from __future__ import annotations

from ._app import API_VERSION, Service, create_app
from ._decision_log import DecisionLog, DecisionLogError, file_name_for
from ._metrics import Metrics
from ._watch import PolicyWatcher, policy_digest

__all__ = [
    "API_VERSION",
    "Service",
    "create_app",
    "DecisionLog",
    "DecisionLogError",
    "file_name_for",
    "Metrics",
    "PolicyWatcher",
    "policy_digest",
]
