"""``PolicyError``: a policy that cannot be loaded, naming the file and the line."""

from __future__ import annotations

__all__ = ["PolicyError"]


class PolicyError(ValueError):
    """A policy directory that cannot be loaded; the message names the file and line."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
        super().__init__(where + message)
        self.file = file
        self.line = line
        self.detail = message
