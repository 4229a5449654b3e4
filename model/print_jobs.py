"""A batch of forms printed from a spreadsheet (打印任务): what the 打印 page polls, and
what the PostgreSQL store keeps so any web server answers for it and any worker renders it."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from .errors import FormdeskError

PRINT_STATES = ("queued", "rendering", "done", "failed")


@dataclasses.dataclass
class PrintJob:
    """A batch of forms being rendered; `state` is one of PRINT_STATES; `done` of `total`
    forms; `created_at` in seconds since the epoch (UTC); `document_ids` registered once
    done; `path` is the PDF on this machine's disk (TinyDB's in-process jobs; None when
    the store keeps the PDF, as PostgreSQL does)."""

    job_id: str
    template: str  # template code
    slug: str
    filename: str  # the spreadsheet it came from
    created_by: str
    station: str | None
    total: int  # forms
    created_at: float = dataclasses.field(default_factory=time.time)
    state: str = "queued"
    done: int = 0
    error: str | None = None
    document_ids: list[str] = dataclasses.field(default_factory=list)
    # the file's bad rows left out (第5行 车架号码:…), when it was printed without them
    skipped: list[str] = dataclasses.field(default_factory=list)
    path: Path | None = None  # the PDF, once done (in-process jobs)


class TooManyPrintJobs(FormdeskError):
    """One user's unfinished print jobs are at their limit (Chinese message; HTTP 429)."""

    status = 429
