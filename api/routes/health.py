"""Is the service up, and is its queue moving."""

from __future__ import annotations

from fastapi import APIRouter, Request

router = APIRouter(tags=["health"])


@router.get("/health")
def health(request: Request) -> dict:
    worker = request.app.state.worker
    return {"status": "ok", "worker": "running" if worker and worker.alive else "stopped"}
