"""Console streams of the command line with every My Number masked (SPEC §5: no output holds one).

The command line echoes what it was given — paths, dates, department names, argparse errors — and
the run log goes to stderr. Rather than masking each message, :func:`masked_console` puts a masking
layer over ``sys.stdout`` and ``sys.stderr`` for the duration of a command: text is held until the
end of the line (or a flush), so a number written in pieces is still seen whole.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, Iterator, TextIO

__all__ = ["MaskingStream", "masked_console"]


class MaskingStream:
    """A text stream that masks My Numbers line by line and passes everything else to ``inner``."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner
        self._pending = ""
        self._broken = False

    def _emit(self, text: str, *, flush: bool = False) -> None:
        """Write to the inner stream; a reader that went away (``| head``) is not an error of the run."""
        if self._broken:
            return
        try:
            if text:
                self._inner.write(text)
            if flush:
                self._inner.flush()
        except BrokenPipeError:
            self._broken = True
            try:  # later writes, and the interpreter's last flush, go nowhere instead of failing
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self._inner.fileno())
                os.close(devnull)
            except (OSError, ValueError, AttributeError):
                pass

    def write(self, text: str) -> int:
        """Hold ``text`` up to its last line end; write the complete lines masked."""
        from .outputs import mask_my_number

        data = self._pending + text
        cut = data.rfind("\n") + 1
        self._pending = data[cut:]
        if cut:
            self._emit(mask_my_number(data[:cut]))
        return len(text)

    def writelines(self, lines: Any) -> None:
        """Write each of ``lines``."""
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Write what is held (masked) and flush the inner stream."""
        from .outputs import mask_my_number

        pending, self._pending = self._pending, ""
        self._emit(mask_my_number(pending), flush=True)

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, buffer, ...
        return getattr(self._inner, name)


@contextlib.contextmanager
def masked_console() -> Iterator[None]:
    """Mask My Numbers on ``sys.stdout`` and ``sys.stderr`` inside the ``with`` block."""
    saved = sys.stdout, sys.stderr
    out, err = MaskingStream(saved[0]), MaskingStream(saved[1])
    sys.stdout, sys.stderr = out, err  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
        for stream in (out, err):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe: nothing more to say
                pass
