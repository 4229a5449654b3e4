"""What a claims import does, whichever store keeps the claims (ClaimStore.import_claims):
which rows are new, replaced or unchanged, which stations it adds, and its refusals.
The TinyDB and PostgreSQL stores only read what is stored and write what this decides."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from formdesk.model.claims import Claim, ClaimImport, Station

from .interface import ConflictError, NotFoundError

CLAIM_ORIGIN = {"source", "source_line", "imported_at"}  # not part of what a claim says


def same_claim(old: Claim, new: Claim) -> bool:
    """Stored and new say the same (where and when each was imported aside)."""
    return old.model_dump(exclude=CLAIM_ORIGIN) == new.model_dump(exclude=CLAIM_ORIGIN)


def check_numbers(claims: list[Claim]) -> None:
    """ConflictError when one import holds a claim number twice."""
    numbers = [c.claim_no for c in claims]
    if len(set(numbers)) != len(numbers):
        raise ConflictError("同一次导入中索赔单号重复")


def plan_import(
    claims: list[Claim],
    stored: Mapping[str, Claim],
    known_stations: Collection[str],
    new_stations: list[Station],
    log: ClaimImport,
    replace: bool,
) -> tuple[list[Claim], list[Station], ClaimImport]:
    """(claims to write, stations to add, the import's log with its counts), given the
    claims already stored under the imported numbers (`stored`) and the station codes
    known.  ConflictError names numbers stored with other content (unless `replace`);
    NotFoundError a claim's station neither known nor among `new_stations`."""
    rows: list[Claim] = []
    conflicts: list[str] = []
    for claim in claims:
        old = stored.get(claim.claim_no)
        if old is not None and same_claim(old, claim):
            continue
        if old is not None:
            conflicts.append(claim.claim_no)
        rows.append(claim)
    if conflicts and not replace:
        more = f" 等 {len(conflicts)} 条" if len(conflicts) > 5 else ""
        raise ConflictError(
            f"索赔单号已存在且内容不同:{'、'.join(conflicts[:5])}{more};"
            "如以本次导入为准,请选择替换后重新导入"
        )
    known = set(known_stations)
    added = {s.code: s for s in new_stations if s.code not in known}
    unknown = sorted({c.station for c in claims} - known - set(added))
    if unknown:
        raise NotFoundError(f"维修站“{unknown[0]}”不存在")
    log = log.model_copy(
        update={
            "claims": len(rows),
            "replaced": len(conflicts),
            "unchanged": len(claims) - len(rows),
            "stations_added": list(added),
        }
    )
    return rows, list(added.values()), log


def undo_plan(
    log: ClaimImport | None, import_id: str, logs: list[ClaimImport]
) -> tuple[str, list[str]]:
    """(the Claim.source to delete, the ids of the import logs to mark undone) for undoing
    import `import_id` (`logs`: every import of the same source, itself included): its
    claims are those carrying its source, so every import of that source is undone with
    it (importing one BD-25 record twice brings the same claims).  NotFoundError (404)
    when there is no such import; ConflictError (409) when it was undone already or it
    replaced stored claims (their old content is gone: undoing cannot bring it back)."""
    if log is None:
        raise NotFoundError(f"找不到这次导入(“{import_id}”)")
    if log.undone_by:
        raise ConflictError("这次导入已经撤销过了")
    replaced = sum(i.replaced for i in logs if not i.undone_by)
    if replaced:
        raise ConflictError(
            f"这次导入替换了 {replaced} 张已有的索赔单,原来的内容已不在,不能撤销;"
            "请重新导入原来的文件"
        )
    return log.claims_source(), [i.import_id for i in logs if not i.undone_by]
