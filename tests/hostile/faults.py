"""Faults injected into a real `formdesk serve` process, for the tests of what survives them.

The server is started with `launcher()` as its command; it patches the store before the
CLI runs. A fault is armed by writing a file into the folder named by FORMDESK_TEST_FAULTS:

    save     "store" | "enospc"   TinyStore.save_records raises StoreError / OSError(ENOSPC)
    finish   "enospc"             TinyStore.finish_job raises OSError(ENOSPC)
    claim    "exit"               TinyStore.claim_job raises SystemExit once (kills the loop)

A fault holds while its file exists (`claim` removes its own file when it fires).
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def launcher() -> list[str]:
    """The command that starts `formdesk` with the faults installed."""
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
        "import tests.hostile.faults as f; f.install(); "
        "from formdesk.api.cli import main; sys.argv[0] = 'formdesk'; main()"
    )
    return [sys.executable, "-c", code]


def _armed(name: str) -> str | None:
    folder = os.environ.get("FORMDESK_TEST_FAULTS")
    if not folder:
        return None
    try:
        return (Path(folder) / name).read_text().strip()
    except FileNotFoundError:
        return None


def install() -> None:
    from formdesk.store import StoreError
    from formdesk.store.tinydb_store import TinyStore

    save, finish, claim = TinyStore.save_records, TinyStore.finish_job, TinyStore.claim_job

    def save_records(self, *args, **kwargs):
        kind = _armed("save")
        if kind == "store":
            raise StoreError("记录文件缺失(注入的故障)")
        if kind == "enospc":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return save(self, *args, **kwargs)

    def finish_job(self, *args, **kwargs):
        if _armed("finish") == "enospc":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return finish(self, *args, **kwargs)

    def claim_job(self, *args, **kwargs):
        if _armed("claim") == "exit":
            (Path(os.environ["FORMDESK_TEST_FAULTS"]) / "claim").unlink()
            raise SystemExit("injected: the reader loop dies")
        return claim(self, *args, **kwargs)

    TinyStore.save_records = save_records
    TinyStore.finish_job = finish_job
    TinyStore.claim_job = claim_job
