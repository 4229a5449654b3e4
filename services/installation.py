"""The installation's settings (设置 on the 用户 page): its company's name (公司名称) and
its after-sales service center's (售后服务中心名称), kept in the store, changed by the
back office (audited), and printed where the seed forms carry placeholders
(render.placeholders: XX公司, 某某公司, XX公司售后服务中心; XX维修站 gets the station's name
of the print)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from formdesk.model.installation import NAME_MAX, SETTING_LABELS, InstallationSetting

from .audit import audit
from .refusals import Refused
from .stores import Store


def installation_settings(store: Store) -> dict[str, InstallationSetting | None]:
    """Every known setting (SETTING_LABELS' order) as stored, None when not set."""
    stored = {s.name: s for s in store.list_installation_settings()}
    return {name: stored.get(name) for name in SETTING_LABELS}


def _checked(name: str, value: str | None) -> str:
    label = SETTING_LABELS[name]
    text = unicodedata.normalize("NFC", (value or "")).strip()
    if len(text) > NAME_MAX:
        raise Refused(f"{label}最多 {NAME_MAX} 个字符")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in text):
        raise Refused(f"{label}不能包含控制字符或换行")
    return text


def set_installation_settings(
    store: Store, by: str, values: Mapping[str, str | None]
) -> dict[str, InstallationSetting | None]:
    """Sets the named settings (trimmed; empty: unset, the placeholder printed again) as
    the back-office user `by`, audited; every known setting afterwards.  Refused (422)
    for an unknown name (``没有这项设置:…``), a value longer than NAME_MAX characters or
    holding control characters or line breaks.  Unchanged values are not written."""
    unknown = [k for k in values if k not in SETTING_LABELS]
    if unknown:
        raise Refused(f"没有这项设置:{'、'.join(unknown)}")
    checked = {k: _checked(k, v) for k, v in values.items()}
    now = installation_settings(store)
    changed = {k: v for k, v in checked.items() if (now[k].value if now[k] else "") != v}
    if changed:
        store.set_installation_settings(changed, by)
        for name, value in changed.items():
            audit(by, "settings.set", name, value=value)
    return installation_settings(store)


def print_names(store: Store, station: str | None = None) -> dict[str, str]:
    """The names printed instead of the seed's placeholders (render.placeholders): the
    settings that are set, and `station_name` the name of the station `station` (a code)
    the forms are printed for, when registered."""
    names = {s.name: s.value for s in store.list_installation_settings() if s.value}
    if station:
        found = store.get_station(station)
        if found is not None and found.name and found.name != found.code:
            names["station_name"] = found.name
    return names


def letter_details(store: Store) -> dict[str, str]:
    """What the letter to a station (核对结果通知) prints from 设置: `center_name` (the
    service center's name, else 公司名称 + 售后服务中心, else 售后服务中心), `contact`
    and `phone` (absent when not set: the letter leaves lines to write on)."""
    names = {s.name: s.value for s in store.list_installation_settings() if s.value}
    center = names.get("service_center_name") or (
        f"{names['company_name']}售后服务中心" if names.get("company_name") else "售后服务中心"
    )
    out = {"center_name": center}
    if names.get("letter_contact"):
        out["contact"] = names["letter_contact"]
    if names.get("letter_phone"):
        out["phone"] = names["letter_phone"]
    return out
