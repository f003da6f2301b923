"""Effective-dated Casbin policies: load, version, compile, decide, lint, database storage.

>>> from pia_policy.policy import Policy
>>> policy = Policy.load()
>>> policy.check_transfer("中央区健康課", "shoni_shitei_iryohi", at="2025-04-01").allowed
True
"""

from __future__ import annotations

from ._changes import ChangeRow, change_rows, render_changes
from ._diff import DiffGroup, PolicyDiff, diff_policies
from ._domain import OTHER_AFFAIR, OTHER_DEPARTMENT, OTHER_METHOD, RequestDomain, request_domain
from ._engine import CompiledPolicy, Vocabulary, request_tokens
from ._lint import LintProblem, lint
from ._policy import JST, Policy, jst_date, to_utc_naive
from ._export import export_casbin
from ._watch import PolicyChangeWatcher
from ._family import FAMILY, ModelFamily, check_model, model_problems, tokenize
from ._source import PolicyError, PolicyLine, PolicyVersion, default_policy_dir

__all__ = [
    "Policy",
    "RequestDomain",
    "request_domain",
    "OTHER_DEPARTMENT",
    "OTHER_AFFAIR",
    "OTHER_METHOD",
    "PolicyVersion",
    "PolicyLine",
    "PolicyError",
    "LintProblem",
    "lint",
    "CompiledPolicy",
    "Vocabulary",
    "request_tokens",
    "FAMILY",
    "export_casbin",
    "PolicyChangeWatcher",
    "ModelFamily",
    "check_model",
    "model_problems",
    "tokenize",
    "default_policy_dir",
    "ChangeRow",
    "change_rows",
    "render_changes",
    "diff_policies",
    "DiffGroup",
    "PolicyDiff",
    "JST",
    "jst_date",
    "to_utc_naive",
]
