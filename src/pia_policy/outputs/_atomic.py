"""Atomic replacement of an output directory: stage beside it, then swap with renames.

Layout in the parent of ``OUT_DIR`` (same filesystem, so renames are atomic):
``.<name>.staging-<pid>-<token>`` (being written) and ``.<name>.old-<pid>-<token>`` (the previous
outputs between the two renames of the fallback swap). On Linux the swap is one
``renameat2(RENAME_EXCHANGE)``: ``OUT_DIR`` always holds a complete set. Elsewhere ``OUT_DIR`` is
renamed to ``.old-…`` and the staging directory to ``OUT_DIR``; a kill between the two leaves no
``OUT_DIR`` and the previous set in ``.old-…``, which the next run puts back before it starts.
Leftovers of dead processes are removed by the next run on the same ``OUT_DIR``.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import secrets
import shutil
from pathlib import Path

from ._files import fsync_path

__all__ = ["dir_mode_for", "new_staging_dir", "cleanup_leftovers", "swap_in"]

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def dir_mode_for(file_mode: int) -> int:
    """Directory mode matching a file mode: an x bit for every class that may read or write."""
    mode = file_mode & 0o777
    return mode | ((mode & 0o444) >> 2) | ((mode & 0o222) >> 1)


def _leftover_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"^\.{re.escape(name)}\.(staging|old)-(\d+)-[0-9a-f]+$")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cleanup_leftovers(out_dir: Path) -> list[Path]:
    """Remove staging/old directories of dead runs for ``out_dir``; put back an orphaned previous set.

    Returns what was removed or restored. Directories of live processes are left alone.
    """
    parent, name = out_dir.parent, out_dir.name
    pattern = _leftover_pattern(name)
    touched: list[Path] = []
    try:
        entries = sorted(parent.iterdir(), key=lambda p: p.name)
    except FileNotFoundError:
        return touched
    olds: list[Path] = []
    for entry in entries:
        match = pattern.match(entry.name)
        if not match or _alive(int(match.group(2))):
            continue
        if match.group(1) == "old":
            olds.append(entry)
        else:
            shutil.rmtree(entry, ignore_errors=True)
            touched.append(entry)
    if olds and not os.path.lexists(out_dir):
        newest = max(olds, key=lambda p: p.stat().st_mtime_ns)
        os.rename(newest, out_dir)  # killed between the two renames: the previous set comes back
        olds.remove(newest)
        touched.append(newest)
    for old in olds:
        shutil.rmtree(old, ignore_errors=True)
        touched.append(old)
    return touched


def new_staging_dir(out_dir: Path, dir_mode: int) -> Path:
    """Create ``.<name>.staging-<pid>-<token>`` beside ``out_dir`` (mode ``dir_mode``)."""
    staging = out_dir.parent / f".{out_dir.name}.staging-{os.getpid()}-{secrets.token_hex(6)}"
    os.mkdir(staging, 0o700)
    os.chmod(staging, dir_mode)
    return staging


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux renameat2); False when the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(b))


def swap_in(staging: Path, out_dir: Path, *, use_exchange: bool = True) -> None:
    """Make ``staging`` the new ``out_dir``; the previous ``out_dir`` (if any) is removed after."""
    parent = out_dir.parent
    if os.path.lexists(out_dir):
        if use_exchange and _exchange(staging, out_dir):
            fsync_path(parent)
            shutil.rmtree(staging)  # now holds the previous outputs
            return
        old = parent / staging.name.replace(".staging-", ".old-", 1)
        os.rename(out_dir, old)
        os.rename(staging, out_dir)
        fsync_path(parent)
        shutil.rmtree(old)
    else:
        os.rename(staging, out_dir)
        fsync_path(parent)
