"""识读词库 (issue 10): the values people confirmed in each form's text fields, which the
reader reads those fields against, and taking a slip out of it (停用) or back (恢复); the
work is done by services/history.py.  Back office only."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from formdesk.model.history import HistoryValue
from formdesk.services import history
from formdesk.services.history import FormHistory
from formdesk.services.stores import Store

from ..deps import back_office, current_principal, get_store
from ..principal import Principal

router = APIRouter(prefix="/api", tags=["history"])


def history_viewer(who: Principal = Depends(current_principal)) -> Principal:
    """A back-office user, for the read-only route (403 for anyone else)."""
    if who.role != "back_office":
        raise HTTPException(403, "只有售后服务部(后台)用户可以查看识读词库")
    return who


@router.get("/history", response_model=FormHistory)
def form_history(
    form: str, who: Principal = Depends(history_viewer), store: Store = Depends(get_store)
) -> FormHistory:
    """一种表单的识读词库:各文字栏以往人工确认过的填写、确认次数、是否已停用。"""
    return history.form_history(store, form)


class HistoryEntry(BaseModel):
    form: str = Field(min_length=1, max_length=40)  # 表单代码,如 表格11
    field: str = Field(min_length=1, max_length=60)  # 栏目(表格的列)的键
    value: str = Field(min_length=1, max_length=200)  # 填写内容


@router.post("/history/exclude", response_model=HistoryValue)
def exclude(
    body: HistoryEntry, who: Principal = Depends(back_office), store: Store = Depends(get_store)
) -> HistoryValue:
    """停用:识读时不再参照这条填写(例如复核时误确认的错字)。"""
    return history.exclude(store, who.username, body.form, body.field, body.value)


@router.post("/history/restore", response_model=HistoryValue)
def restore(
    body: HistoryEntry, who: Principal = Depends(back_office), store: Store = Depends(get_store)
) -> HistoryValue:
    """恢复:识读时重新参照这条填写。"""
    return history.restore(store, who.username, body.form, body.field, body.value)
