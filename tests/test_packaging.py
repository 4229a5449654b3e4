"""`pip install .` (not only editable) carries the catalog, the font and its licence, the
reader's calibration and the digit classifier's weights."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from .conftest import ROOT


@pytest.mark.slow
def test_wheel_has_templates_font_and_licence(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    [wheel] = tmp_path.glob("formdesk-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    forms = [n for n in names if n.startswith("formdesk/templates/forms/") and n.endswith(".yaml")]
    assert len(forms) >= 27
    assert "formdesk/render/fonts/wqy-microhei.ttc" in names
    assert "formdesk/render/fonts/LICENSE-wqy-microhei.txt" in names
    # the reader's calibrated rules and the digit classifier's weights (nothing downloaded)
    assert "formdesk/extract/calibration.yaml" in names
    assert "formdesk/extract/ocr/models/digits.npz" in names
    for pkg in (
        "templates", "render", "api", "ingest", "extract", "store", "reconcile", "model",
        "reports", "services",
    ):  # fmt: skip
        for source in (ROOT / pkg).rglob("*.py"):
            assert f"formdesk/{source.relative_to(ROOT).as_posix()}" in names, source
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "formdesk = formdesk.api.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()
