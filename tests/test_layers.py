"""The layers the imports keep (issue 11): a package imports only packages below it, so
no two stages import each other in a circle again.

    api, samples → services → reports → reconcile → store → extract → render → ingest
    → model → templates → settings

Every import counts: module level, inside functions, under TYPE_CHECKING, absolute
(`formdesk.store…`) and relative (`..store`).  (import-linter cannot see the packages of
an editable install that maps `formdesk.*` onto top-level folders, so the graph is read
here from the source with `ast`.)
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# highest first; packages on one line are peers and may not import each other
LAYERS: list[tuple[str, ...]] = [
    ("api", "samples"),
    ("services",),
    ("reports",),
    ("reconcile",),
    ("store",),
    ("extract",),
    ("render",),
    ("ingest",),
    ("model",),
    ("templates",),
    ("settings",),
]
RANK = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}


def _imported(root: Path, path: Path, package: str) -> set[tuple[str, int]]:
    """The formdesk packages `path` (a module of `package`) imports, with line numbers."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    here = [package, *path.relative_to(root / package).parent.parts]
    found: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                full = ["formdesk", *here]
                base = full[: len(full) - (node.level - 1)]
                names = [".".join([*base, *([node.module] if node.module else [])])]
            else:
                names = [node.module or ""]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "formdesk" and len(parts) > 1:
                found.add((parts[1], node.lineno))
            elif parts[0] in RANK and package != "samples" and not node.level:
                found.add((parts[0], node.lineno))  # a top-level folder imported bare
    return found


def violations(root: Path = ROOT) -> list[str]:
    """Every import of a package at the same or a higher layer than the importer's, in
    the packages under `root`, as "file:line: a → b"."""
    out = []
    for pkg, r in RANK.items():
        for path in sorted((root / pkg).rglob("*.py")):
            for target, line in sorted(_imported(root, path, pkg)):
                if target != pkg and target in RANK and RANK[target] <= r:
                    out.append(f"{path.relative_to(root)}:{line}: {pkg} → {target}")
    return out


# api/ (the web service and the CLI) calls services only: of the layers below it, it may
# import only what services hand it and take from it (the typed model, the catalog, the
# settings), and it calls no method of a store: the store is an opaque handle it passes on
API_MAY_IMPORT = {"services", "model", "templates", "settings"}


def _store_calls(tree: ast.AST) -> list[tuple[str, int]]:
    """Calls of a method on something named `store` (`store.get_record(…)`,
    `request.app.state.store.list_users(…)`), with line numbers."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
            if name == "store":
                found.append((node.func.attr, node.lineno))
    return found


def api_violations(root: Path = ROOT) -> list[str]:
    """Every import by api/ of a stage below services (store, extract, render, reconcile,
    reports, ingest) and every store method it calls, as "file:line: …"."""
    out = []
    for path in sorted((root / "api").rglob("*.py")):
        where = path.relative_to(root)
        for target, line in sorted(_imported(root, path, "api")):
            if target != "api" and target in RANK and target not in API_MAY_IMPORT:
                out.append(f"{where}:{line}: api → {target}")
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for method, line in _store_calls(tree):
            out.append(f"{where}:{line}: api calls store.{method}()")
    return out


def test_api_calls_services_only():
    assert api_violations() == []


def test_the_api_check_sees_a_stage_import_and_a_store_call(tmp_path):
    for pkg in RANK:
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("*.pyc", "web"))
    (tmp_path / "api" / "sneaky.py").write_text(
        "from formdesk.store import open_store\n\n\n"
        "def f(request):\n    return request.app.state.store.list_users()\n",
        encoding="utf-8",
    )
    found = [v for v in api_violations(tmp_path) if v.startswith("api/sneaky.py")]
    assert found == [
        "api/sneaky.py:1: api → store",
        "api/sneaky.py:5: api calls store.list_users()",
    ]


def test_every_package_is_in_a_layer():
    folders = {
        p.parent.name
        for p in ROOT.glob("*/__init__.py")
        if p.parent.name not in {"tests", "bench", "build"}
    }
    assert folders == set(RANK), "a new top-level package needs its place in LAYERS"


def test_no_package_imports_one_at_or_above_its_layer():
    assert violations() == []


@pytest.mark.parametrize(
    ("source", "target"), [("extract", "store"), ("model", "store"), ("render", "reconcile")]
)
def test_the_check_sees_an_upward_import(tmp_path, source, target):
    """The check itself: an upward import written into a copy of the packages is found,
    absolute and relative."""
    for pkg in RANK:
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("*.pyc", "web"))
    (tmp_path / source / "upward.py").write_text(
        f"def f():\n    from formdesk.{target} import something\n", encoding="utf-8"
    )
    (tmp_path / source / "upward_rel.py").write_text(
        f"from ..{target} import something\n", encoding="utf-8"
    )
    found = violations(tmp_path)
    assert f"{source}/upward.py:2: {source} → {target}" in found, found
    assert f"{source}/upward_rel.py:1: {source} → {target}" in found, found
    assert len(found) == 2, found
