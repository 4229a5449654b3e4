"""Writing files so a crash never leaves a broken one: a temporary file in the same folder,
fsync, then a rename over (or a link beside) the final name, then fsync of the folder.

A file written with `keep_prev` keeps its last good version beside it as `<name>.prev`: the
file being replaced is hard-linked there (no copy), so damage to the live file — truncated,
overwritten, deleted — leaves the previous version readable. A full disk (ENOSPC, EDQUOT)
becomes a `DiskFullError`, with every file as it was before the write.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .interface import DiskFullError

log = logging.getLogger(__name__)

_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}
PREV_SUFFIX = ".prev"


def prev_path(path: Path) -> Path:
    """Where the last good version of `path` is kept: `<name>.prev` beside it."""
    return path.with_name(path.name + PREV_SUFFIX)


@contextlib.contextmanager
def disk_full_as_store_error(path: Path) -> Iterator[None]:
    """An OSError saying the disk (or the quota) is full becomes a DiskFullError."""
    try:
        yield
    except OSError as exc:
        if exc.errno in _NO_SPACE:
            log.error("磁盘已满,未能写入 %s:%s", path, exc)
            raise DiskFullError(path) from exc
        raise


def fsync_dir(folder: Path) -> None:
    """Makes a rename in `folder` survive a power cut (no-op where folders can't be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_temp(path: Path, data: bytes, *, sync: bool, mode: int) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if sync:
                os.fsync(fh.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def _hold_current(path: Path) -> Path | None:
    """A second name (a hard link, `.<name>.<random>.prev.tmp`) for the file about to be
    replaced; None when there is none yet or the filesystem has no hard links."""
    held = path.with_name(f".{path.name}.{secrets.token_hex(4)}.prev.tmp")
    try:
        os.link(path, held)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno in _NO_SPACE:
            raise
        log.warning("无法为 %s 保留上一版本(%s)", path, exc)
        return None
    return held


def _settle_prev(path: Path, held: Path | None, data: bytes, sync: bool) -> None:
    """After the replace: the held old version becomes `<name>.prev`. A file written for the
    first time gets a copy of itself there, so that its loss is noticed. Failing here loses
    nothing (the write is committed): the previous `.prev` stays, one version older."""
    prev = prev_path(path)
    try:
        if held is not None:
            os.rename(held, prev)  # over the older copy, which is freed
        elif not prev.exists():
            tmp = _write_temp(prev, data, sync=sync, mode=0o644)
            try:
                os.rename(tmp, prev)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
    except OSError as exc:
        log.warning("未能更新 %s 的上一版本副本(%s)", path, exc)
        if held is not None:
            with contextlib.suppress(OSError):
                os.unlink(held)


def atomic_write(
    path: Path, data: bytes, *, sync: bool = True, mode: int = 0o644, keep_prev: bool = False
) -> None:
    """Replaces `path` with `data` all at once: readers see the old file or the new one.

    `keep_prev`: the replaced version is kept as `<name>.prev` (see the module docstring).
    Raises DiskFullError when the disk is full (nothing changed), other OSErrors as they are.
    """
    with disk_full_as_store_error(path):
        tmp = _write_temp(path, data, sync=sync, mode=mode)
        held = None
        try:
            if keep_prev:
                held = _hold_current(path)
            os.replace(tmp, path)
        except BaseException:
            for leftover in (tmp, held):
                if leftover is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(leftover)
            raise
    if keep_prev:
        _settle_prev(path, held, data, sync)
    if sync:
        fsync_dir(path.parent)


def write_once(path: Path, data: bytes) -> bool:
    """Creates a read-only `path` holding `data` unless it exists; True if this call made it.

    A hard link never replaces an existing file, so content-addressed files are never
    rewritten, even by two processes storing the same bytes at once. DiskFullError when the
    disk is full (no file left behind).
    """
    if path.exists():
        return False
    with disk_full_as_store_error(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = _write_temp(path, data, sync=True, mode=0o444)
        try:
            try:
                os.link(tmp, path)
            except FileExistsError:
                return False
            except OSError as exc:  # a filesystem without hard links
                if exc.errno in _NO_SPACE:
                    raise
                if path.exists():
                    return False
                os.replace(tmp, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    fsync_dir(path.parent)
    return True
