"""The claims `read_bench.py --claims` files records against (bench/known_claims.py): one
per vehicle on the warranty paperwork, less some, some saying one thing otherwise."""

from __future__ import annotations

import numpy as np

from bench.known_claims import CLAIMED, bench_claims
from formdesk.templates import get_template
from samples.synth.values import make_values


def test_claims_follow_the_warranty_forms_with_missing_and_differing_ones():
    rng = np.random.default_rng(5)
    forms = [
        {"template": code, "values": make_values(get_template(code), rng)}
        for code in ["SH-ZH/BD-27", "SH-ZH/BD-30", "表格04"] * 40
    ]
    known = bench_claims(forms, seed=1)
    tags = [f["values"] for f in forms if f["template"] in CLAIMED]
    by_vin = {c.vin: c for c in known.claims}
    assert 0.8 * len(tags) <= len(known.claims) < len(tags)  # about MISSING have none
    assert all(c.vin in {t["vin"] for t in tags} for c in known.claims)  # never 表格04's
    differing = [
        t for t in tags if t["vin"] in by_vin
        and (by_vin[t["vin"]].engine_no != (t.get("engine_no") or None)
             or by_vin[t["vin"]].part_no != str(t.get("part_no") or "—")
             or by_vin[t["vin"]].mileage_km != int(t.get("mileage_km") or 0)
             or str(by_vin[t["vin"]].repair_date) != t.get("repair_date"))
    ]  # fmt: skip
    assert 1 <= len(differing) <= 0.25 * len(known.claims)
    assert {s.name for s in known.list_stations()} >= {
        t["sender_unit"] for t in tags if t.get("sender_unit")
    }
    again = bench_claims(forms, seed=1)
    assert [c.model_dump(exclude={"imported_at"}) for c in again.claims] == [
        c.model_dump(exclude={"imported_at"}) for c in known.claims
    ]
