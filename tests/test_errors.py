"""One error base (issue 11): every refusal is a FormdeskError carrying its HTTP status and
a Chinese message, answered by one handler in the API and one line in the CLI."""

from __future__ import annotations

import asyncio
import importlib
import json
import pkgutil

import pytest

from formdesk.model.errors import FormdeskError

PACKAGES = ["templates", "model", "ingest", "render", "extract", "store", "reconcile",
            "reports", "services", "api"]  # fmt: skip


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_refusal_carries_a_status():
    for pkg in PACKAGES:
        mod = importlib.import_module(f"formdesk.{pkg}")
        for info in pkgutil.walk_packages(mod.__path__, f"formdesk.{pkg}."):
            if not info.name.endswith("__main__"):  # runs the command when imported
                importlib.import_module(info.name)
    kinds = {c.__name__: c.status for c in _all_subclasses(FormdeskError)}
    expected = {
        "FieldValueError": 422, "UnknownTemplateError": 404, "IngestError": 422,
        "ClaimFileError": 422, "ClaimFileTooLarge": 413, "NotFoundError": 404,
        "ConflictError": 409, "DiskFullError": 507, "DamagedFileError": 503,
        "ValueDoesNotFitError": 422, "TooManyPrintJobs": 429, "WeakPasswordError": 422,
    }  # fmt: skip
    assert {k: kinds.get(k) for k in expected} == expected
    assert all(400 <= s < 600 for s in kinds.values()), kinds


@pytest.mark.parametrize(
    ("error", "status", "extra"),
    [
        ("field", 422, {"field": "vin", "row": 2}),
        (
            "claims",
            422,
            {"problems": [{"line": 3, "column": "车架号", "reason": "不是有效的车架号"}]},
        ),
        ("conflict", 409, {}),
    ],
)
def test_the_api_answers_each_with_its_status_and_details(error, status, extra):
    from formdesk.api.errors import formdesk_error
    from formdesk.ingest.claims import ClaimFileError, RowProblem
    from formdesk.store import ConflictError
    from formdesk.templates.values.normalize import FieldValueError

    exc = {
        "field": FieldValueError("vin", "校验位不对", row=2, label="车架号"),
        "claims": ClaimFileError(
            "c.csv:1 行有错,未导入",
            [RowProblem(line=3, column="车架号", reason="不是有效的车架号")],
        ),
        "conflict": ConflictError("索赔单号已存在"),
    }[error]
    answer = asyncio.run(formdesk_error(None, exc))
    body = json.loads(answer.body)
    assert answer.status_code == status
    assert body == {"reason": str(exc), "status": status, **extra}
