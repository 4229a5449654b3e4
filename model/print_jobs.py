"""A batch of forms printed from a spreadsheet (打印任务): what the 打印 page polls, and
what the PostgreSQL store keeps so any web server answers for it and any worker renders it."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from .errors import FormdeskError

PRINT_STATES = ("queued", "rendering", "done", "failed")

# The paper small tags (SH-ZH/BD-27, BD-30: A6) are printed on: "a4x4" ganged four to an
# A4 sheet with cut lines (the default), "a6" one tag per A6 page (105 x 148 mm).  Forms
# that are not ganged print on their own paper either way.
PAPERS: dict[str, str] = {"a4x4": "A4(每张4枚)", "a6": "A6(每页1枚)"}
DEFAULT_PAPER = "a4x4"


def ganged(paper: str) -> bool:
    """Whether tags are ganged on an A4 sheet on `paper` (a key of PAPERS)."""
    return paper != "a6"


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
    paper: str = DEFAULT_PAPER  # a key of PAPERS
    path: Path | None = None  # the PDF, once done (in-process jobs)


class TooManyPrintJobs(FormdeskError):
    """One user's unfinished print jobs are at their limit (Chinese message; HTTP 429)."""

    status = 429
