"""Atomic replacement of an output directory: stage beside it, then swap with renames.

Layout in the parent of ``OUT_DIR`` (same filesystem, so renames are atomic):
``.<name>.staging-<pid>-<token>`` (being written) and ``.<name>.old-<pid>-<token>`` (the previous
outputs between the two renames of the fallback swap). On Linux the swap is one
``renameat2(RENAME_EXCHANGE)``: ``OUT_DIR`` always holds a complete set. Elsewhere ``OUT_DIR`` is
renamed to ``.old-…`` and the staging directory to ``OUT_DIR``; a kill between the two leaves no
``OUT_DIR`` and the previous set in ``.old-…``, which the next run puts back before it starts.
Leftovers of dead processes are removed by the next run on the same ``OUT_DIR``.

Safety (issue 16): :func:`check_out_dir` refuses an ``OUT_DIR`` that is a symbolic link (the swap
never follows one), a non-empty directory that is not a previous audit output (its summary.json
lists every other file of the tree), and one that equals, contains or lies inside the data
directory. :func:`lock_out_dir` holds ``.<name>.lock`` beside it (``flock``) while a run writes:
a second run on the same ``OUT_DIR`` stops with :class:`OutputDirError` instead of racing the swap.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import re
import secrets
import shutil
import stat
import threading
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from .._i18n import msg
from ._files import fsync_path

__all__ = ["OutputDirError", "check_out_dir", "lock_out_dir", "dir_mode_for", "new_staging_dir",
           "cleanup_leftovers", "swap_in"]

#: summary.json larger than this is not read when recognising a previous output.
_SUMMARY_MAX = 64 << 20


class OutputDirError(ValueError):
    """``OUT_DIR`` cannot be written safely (exit code 2): the message names the directory and the fix."""


def _is_previous_output(out_dir: Path) -> bool:
    """Whether ``out_dir`` holds exactly a previous audit output: summary.json and the files it lists."""
    summary = out_dir / "summary.json"
    try:
        st = os.lstat(summary)
        if not stat.S_ISREG(st.st_mode) or st.st_size > _SUMMARY_MAX:
            return False
        data = json.loads(summary.read_bytes())
    except (OSError, ValueError, RecursionError):
        return False
    outputs = data.get("outputs") if isinstance(data, dict) else None
    if not isinstance(outputs, list) or "schema_version" not in data:
        return False
    files = {"summary.json"}
    dirs = {"."}
    for entry in outputs:
        rel = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(rel, str) or not rel or rel.startswith("/") or ".." in PurePosixPath(rel).parts:
            return False
        files.add(rel)
        dirs.update(p.as_posix() for p in PurePosixPath(rel).parents)
    for root, subdirs, names in os.walk(out_dir):
        base = Path(root).relative_to(out_dir)
        for name in subdirs + names:
            path = Path(root) / name
            rel = (base / name).as_posix()
            mode = os.lstat(path).st_mode
            if stat.S_ISDIR(mode) and rel in dirs:
                continue
            if stat.S_ISREG(mode) and rel in files:
                continue
            return False  # a file, link or directory the audit did not write
    return True


def check_out_dir(out_dir: Path | str, *, data_dir: Path | str | None = None) -> Path:
    """The absolute ``OUT_DIR`` to write (its parent resolved), or :class:`OutputDirError`.

    Refused: an empty name, ``/``, a symbolic link, a non-directory, a non-empty directory that
    is not a previous audit output, and (with ``data_dir``) one that equals, contains or lies
    inside the data directory.
    """
    if not str(out_dir).strip():
        raise OutputDirError(msg("--out が空です。出力先のディレクトリを指定してください（未設定の変数？）",
                                 "--out is empty: give the output directory (an unset variable?)"))
    given = Path(os.path.abspath(out_dir))
    if given.name in ("", ".", ".."):
        raise OutputDirError(msg(f"--out {out_dir}: ルートには書き出せません。専用のディレクトリを指定してください",
                                 f"--out {out_dir}: cannot write to the root; give a directory of its own"))
    parent = Path(os.path.realpath(given.parent))
    target = parent / given.name
    if os.path.islink(target):
        real = os.path.realpath(target)
        raise OutputDirError(msg(
            f"--out {given} はシンボリックリンク（→ {real}）です。出力先は入れ替えで書き換えるためリンクはたどりません。"
            f"ディレクトリ自体を指定してください（--out {real}）",
            f"--out {given} is a symbolic link (to {real}); the output directory is replaced by renames and a link "
            f"is never followed: give the directory itself (--out {real})"))
    if os.path.lexists(target) and not target.is_dir():
        raise OutputDirError(msg(f"--out {given} はディレクトリではありません。別の出力先を指定してください",
                                 f"--out {given} is not a directory: give another output directory"))
    if data_dir is not None:
        data = Path(os.path.realpath(data_dir))
        if target == data or data in target.parents or target in data.parents:
            raise OutputDirError(msg(
                f"--out {given} がデータディレクトリ {data} と同じか、その中または外側にあります（入力を消してしまいます）。"
                "データディレクトリの外の別の出力先を指定してください",
                f"--out {given} is, contains or lies inside the data directory {data} (the run would delete its "
                "inputs): give an output directory outside the data directory"))
    if target.is_dir() and any(target.iterdir()) and not _is_previous_output(target):
        raise OutputDirError(msg(
            f"--out {given} は空でなく、以前の監査結果（summary.json とそれが列挙するファイルだけ）でもありません。"
            "中身は入れ替えで消えるため書き出しません。新しい（または空の）ディレクトリを指定してください",
            f"--out {given} is not empty and does not hold a previous audit output (summary.json and the files it "
            "lists, nothing else); its contents would be replaced: give a new or empty directory"))
    return target


_held: dict[str, tuple[int, int, int]] = {}  # lock path -> (fd, owning thread, depth)
_held_guard = threading.Lock()


def _acquire(lock: Path, out_dir: Path) -> int:
    """Open and ``flock`` the lock file; retry when the holder removed it meanwhile (a new inode)."""
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise OutputDirError(msg(
                f"--out {out_dir}: 別の実行（pid {holder}）が書き出し中です。終わるのを待つか、別の出力先を指定してください",
                f"--out {out_dir}: another run (pid {holder}) is writing it; wait for it to end or give another "
                "output directory")) from None
        try:
            same = os.stat(lock, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            return fd
        os.close(fd)


@contextlib.contextmanager
def lock_out_dir(out_dir: Path) -> Iterator[None]:
    """Hold ``.<name>.lock`` beside ``out_dir`` (exclusive ``flock``) for the block; re-entrant per thread.

    A second holder (another process or thread) gets :class:`OutputDirError` at once. The file
    holds the holder's pid and is removed on release (one a killed run left is taken over).
    """
    lock = out_dir.parent / f".{out_dir.name}.lock"
    key = str(lock)
    me = threading.get_ident()
    with _held_guard:
        held = _held.get(key)
        if held is not None and held[1] == me:
            _held[key] = (held[0], me, held[2] + 1)
        else:
            _held[key] = (_acquire(lock, out_dir), me, 1)
    try:
        yield
    finally:
        with _held_guard:
            fd_held, owner, depth = _held[key]
            if depth > 1:
                _held[key] = (fd_held, owner, depth - 1)
            else:
                del _held[key]
                with contextlib.suppress(OSError):
                    os.unlink(lock)  # still holding it: a waiter that opened this file retries (inode check)
                os.close(fd_held)  # releases the flock


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
