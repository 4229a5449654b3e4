"""The installation's own names (设置), kept in the store as key/value rows: the company
(公司名称) and its after-sales service center (售后服务中心名称), printed where the seed
forms carry placeholders (XX公司, 某某公司, XX公司售后服务中心; unset, the placeholders are
printed as the seed has them); and whom a station calls about its reconciliation letter
(核对通知联系人, 联系电话; unset, lines to write on)."""

from __future__ import annotations

from pydantic import BaseModel

from .time import Timestamp

NAME_MAX = 60  # characters of one name (a title line of the printed forms)

# the settings' keys and their Chinese labels, in the order the page shows them
SETTING_LABELS: dict[str, str] = {
    "company_name": "公司名称",
    "service_center_name": "售后服务中心名称",
    "letter_contact": "核对通知联系人",  # printed on the letter to a station (核对结果通知)
    "letter_phone": "核对通知联系电话",
}


class InstallationSetting(BaseModel):
    """One stored setting: its key (one of SETTING_LABELS), value (never empty: an
    empty value is deleted), who set it and when (UTC)."""

    name: str
    value: str
    updated_by: str
    updated_at: Timestamp
