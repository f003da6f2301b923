"""Which input files may be read, and how their names and undecodable bytes are shown.

An input (events file or ledger) is read only when it is a regular file inside the data
directory, or a symbolic link whose target is a regular file inside the data directory or
inside a root the operator allowed (``--allow-link-root``). Targets under ``/proc``, ``/sys``
and ``/dev`` are never read, whatever is allowed. Files are opened with ``O_NONBLOCK`` and
checked again on the open descriptor, so a FIFO or a device swapped in never blocks the run.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from .._i18n import msg

__all__ = ["SourceRefused", "resolve_source", "open_regular", "display_name", "safe_text", "FORBIDDEN_ROOTS"]

#: Link targets under these roots are never read (process environment, kernel and device files).
FORBIDDEN_ROOTS: tuple[Path, ...] = (Path("/proc"), Path("/sys"), Path("/dev"))


class SourceRefused(Exception):
    """An input that is not read: the message says why and what to do."""


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _kind(mode: int) -> tuple[str, str]:
    if stat.S_ISFIFO(mode):
        return "名前付きパイプ（FIFO）", "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "デバイスファイル", "a device file"
    if stat.S_ISSOCK(mode):
        return "ソケット", "a socket"
    if stat.S_ISDIR(mode):
        return "ディレクトリ", "a directory"
    return "通常のファイル以外", "not a regular file"


def _not_regular(mode: int) -> SourceRefused:
    ja, en = _kind(mode)
    return SourceRefused(msg(f"{ja}です。通常のファイルだけを読みます（ファイルに書き出してから置いてください）",
                             f"it is {en}; only regular files are read (write the data to a file first)"))


def resolve_source(path: Path, data_dir: Path, allow_roots: Iterable[Path] = ()) -> Path:
    """The real path to read for ``path`` (an entry of ``data_dir``), or :class:`SourceRefused`.

    The real path (all links resolved: the entry, ``events/``, any directory on the way) must be
    a regular file inside the data directory or an allowed root, never under /proc, /sys, /dev.
    """
    real = Path(os.path.realpath(path))
    if any(_within(real, root) for root in FORBIDDEN_ROOTS):
        raise SourceRefused(msg(f"{real} へのリンクです。/proc, /sys, /dev の下は読みません",
                                f"it is a link to {real}; nothing under /proc, /sys or /dev is read"))
    roots = [Path(os.path.realpath(data_dir))] + [Path(os.path.realpath(r)) for r in allow_roots]
    if not any(_within(real, root) for root in roots):
        raise SourceRefused(msg(
            f"データディレクトリの外（{real}）へのリンクです。リンク先のディレクトリを許可するには "
            "--allow-link-root DIR（設定ファイルでは [audit] allow_link_root）を指定してください",
            f"it is a link to {real}, outside the data directory; to read it, allow the directory it lies in "
            "with --allow-link-root DIR (config file: [audit] allow_link_root)"))
    try:
        st = os.stat(real)
    except OSError as exc:
        raise SourceRefused(msg(f"{real} を読めません（{exc.strerror}）",
                                f"{real} cannot be read ({exc.strerror})")) from None
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(st.st_mode)
    return real


def open_regular(path: Path) -> BinaryIO:
    """Open ``path`` for reading without blocking on a FIFO; :class:`SourceRefused` unless it is a regular file."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(mode)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def safe_text(raw: bytes, codec: str = "utf-8") -> str:
    """Bytes as text for an excerpt or a name: decoded (``codec``, then UTF-8 or CP932), else with U+FFFD.

    Never backslash escapes: ``\\x82P`` would keep a full-width digit readable past the masking.
    """
    for enc in dict.fromkeys((codec, "utf-8", "cp932")):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode(codec, "replace")


def display_name(name: str) -> str:
    """A file name as shown in outputs: undecodable bytes (surrogate escapes) decoded as CP932 or replaced."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return safe_text(name.encode("utf-8", "surrogateescape"))
    return name
