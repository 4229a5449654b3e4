"""The error base every layer's refusals derive from (`FormdeskError`: a Chinese message
and an HTTP status); defined in `templates.errors`, the bottom layer, so the catalog's own
errors can derive from it too.  Also the store's errors (any store implementation raises
these), so the layers above catch them without importing a store."""

from __future__ import annotations

from pathlib import Path

from formdesk.templates.errors import FormdeskError


class StoreError(FormdeskError):
    """Something the store refuses; the message is Chinese, for the user (HTTP 500 unless
    a subclass says what it is)."""

    status = 500


class NotFoundError(StoreError, LookupError):
    """The id names nothing stored (HTTP 404)."""

    status = 404


class ConflictError(StoreError, ValueError):
    """Already there (a duplicate) or not in a state that allows the change (HTTP 409)."""

    status = 409


class StorageError(StoreError):
    """The server's own storage failed (not the request's fault): the disk is full, or a
    data file is damaged. The API answers these with a 5xx status, never as a refusal."""


class DiskFullError(StorageError):
    """A write found no space (ENOSPC) or no quota (EDQUOT) left; nothing was half-written:
    temporary files are gone and every data file is as before the write. `path` is the
    file being written (for the log; the message names no server path).  HTTP 507."""

    status = 507

    def __init__(self, path: Path | str | None = None):
        super().__init__("服务器磁盘空间已满,无法保存;请联系管理员清理磁盘后重试")
        self.path = path


class DamagedFileError(StorageError):
    """A data file that does not parse, has not the shape the store writes, or is missing
    although the data folder shows it existed. `path` names it; `problem` says what is
    wrong and `hint` how to restore it (both Chinese); str() is the whole one-line message:
    ``数据文件 data/db/meta.json 已损坏(…);上一次完好的副本在 …,运行 formdesk check --repair …``.
    HTTP 503.
    """

    status = 503

    def __init__(self, path: Path | str, problem: str, hint: str):
        super().__init__(f"数据文件 {path} {problem};{hint}")
        self.path = Path(path)
        self.problem = problem
        self.hint = hint


class IngestError(FormdeskError, ValueError):
    """One clear Chinese reason why a file was refused (HTTP 422).

    The message is meant for the person who uploaded the file: it names what is wrong
    (empty, encrypted, too large, not a supported type ...), never a library's traceback.
    """

    status = 422


class ValueDoesNotFitError(FormdeskError, ValueError):
    """Raised instead of printing a value that cannot be read at the smallest size.
    `record` is the 1-based number of the record it came from, when several were printed
    (`render.document.render_documents` sets it).  HTTP 422."""

    status = 422
    record: int | None = None


__all__ = [
    "IngestError",
    "ValueDoesNotFitError",
    "ConflictError",
    "DamagedFileError",
    "DiskFullError",
    "FormdeskError",
    "NotFoundError",
    "StorageError",
    "StoreError",
]
