from __future__ import annotations
__all__=["LintProblem","lint"]
class LintProblem: pass
def lint(path=None): return []
