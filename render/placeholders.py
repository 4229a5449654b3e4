"""The seed's placeholders printed as the installation's names (issue 12 point 8).

The seed forms keep the names they were drawn with: 某某公司 and XX公司 (the company),
XX公司售后服务中心 (its after-sales service center), XX维修站 (the station the form is
for).  Given the names (plain strings, from the installation's settings — the services
read them: render never opens the store), the title, the copies' labels (联) and the notes
are printed with them; a name not given leaves its placeholder as the seed has it.
Names: ``company_name``, ``service_center_name``, ``station_name``."""

from __future__ import annotations

from collections.abc import Mapping

from formdesk.templates.schema import Template

CENTER_SUFFIX = "售后服务中心"
STATION_SUFFIX = "维修站"


def replacements(names: Mapping[str, str]) -> list[tuple[str, str]]:
    """(placeholder, text) pairs for `names`, the longest placeholder first: the service
    center's name replaces ``XX公司售后服务中心`` whole (else the company's name is put
    before 售后服务中心), the company's ``某某公司`` and ``XX公司``, the station's
    ``XX维修站`` (its name ending in 站 is printed as it is, else 维修站 follows it)."""
    company = (names.get("company_name") or "").strip()
    center = (names.get("service_center_name") or "").strip()
    station = (names.get("station_name") or "").strip()
    pairs: list[tuple[str, str]] = []
    if center:
        pairs.append(("XX公司" + CENTER_SUFFIX, center))
    if company:
        pairs += [("某某公司", company), ("XX公司", company)]
    if station:
        pairs.append(
            ("XX" + STATION_SUFFIX, station if station.endswith("站") else station + STATION_SUFFIX)
        )
    return pairs


def _named(text: str, pairs: list[tuple[str, str]]) -> str:
    for placeholder, name in pairs:
        text = text.replace(placeholder, name)
    return text


def with_names(template: Template, names: Mapping[str, str] | None) -> Template:
    """`template` with its title, copies' labels and notes naming `names` instead of the
    seed's placeholders (the same template when nothing changes: no names, or none of
    its placeholders)."""
    pairs = replacements(names or {})
    if not pairs:
        return template
    update = {
        "title": _named(template.title, pairs),
        "copies": [_named(c, pairs) for c in template.copies],
        "notes": [_named(n, pairs) for n in template.notes],
    }
    if all(update[k] == getattr(template, k) for k in update):
        return template
    return template.model_copy(update=update)
