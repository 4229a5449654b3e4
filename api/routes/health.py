"""Is the service up, is its reader running, and is there disk left to store what comes."""

from __future__ import annotations

import shutil

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


def problems(request: Request) -> tuple[list[str], int | None]:
    """(why the service is degraded, in Chinese; free disk of the data folder in MB)."""
    state = request.app.state
    reasons: list[str] = []
    worker = getattr(state, "worker", None)
    if worker is None or not worker.alive:
        reasons.extend(worker.problems() if worker is not None else ["后台识读未在运行"])
    else:
        reasons.extend(worker.problems())
    free_mb = None
    try:
        free_mb = shutil.disk_usage(state.settings.data_dir).free // (1024 * 1024)
    except OSError as exc:
        reasons.append(f"无法读取数据目录所在磁盘的剩余空间({exc.strerror})")
    if free_mb is not None and free_mb < state.settings.min_free_mb:
        reasons.append(
            f"数据目录所在磁盘剩余空间不足:{free_mb} MB(低于 {state.settings.min_free_mb} MB)"
        )
    return reasons, free_mb


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    """`ok` (200), or `degraded` (503) with the reasons: the reader is not running or keeps
    failing, or the disk of the data folder is nearly full. Answered on the event loop (a
    statvfs and a few attributes), so a busy thread pool never delays it."""
    reasons, free_mb = problems(request)
    worker = request.app.state.worker
    body = {
        "status": "degraded" if reasons else "ok",
        "reasons": reasons,
        "worker": "running" if worker is not None and worker.alive else "stopped",
        "disk_free_mb": free_mb,
    }
    return JSONResponse(body, status_code=503 if reasons else 200)
