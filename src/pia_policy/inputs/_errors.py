"""Errors of the inputs layer."""

from __future__ import annotations

__all__ = ["InputError"]


class InputError(Exception):
    """The audit cannot run on these inputs (exit code 2): the message names the file and the fix."""

    def __init__(self, message: str, *, file: str | None = None) -> None:
        super().__init__(message)
        self.file = file
