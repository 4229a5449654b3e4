"""The OCR engine interface: the bundled engine reads a printed line and honours a field's
character set; an engine that cannot run here says why."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from formdesk.extract.ocr import OcrEngineUnavailable, default_engine
from formdesk.extract.ocr.simplify import to_simplified


def line_image(text: str) -> np.ndarray:
    from importlib import resources

    from PIL import Image, ImageDraw, ImageFont

    from formdesk.render.fonts import font_name  # noqa: F401 (ensures the package font exists)

    font_path = resources.files("formdesk.render").joinpath("fonts", "wqy-microhei.ttc")
    font = ImageFont.truetype(str(font_path), 40)
    img = Image.new("RGB", (40 * len(text) + 40, 64), "white")
    ImageDraw.Draw(img).text((20, 8), text, font=font, fill="black")
    return cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR)


def test_rapidocr_reads_a_line_and_limits_characters():
    engine = default_engine()
    [r] = engine.recognize([line_image("机油泵总成")])
    assert r.text == "机油泵总成" and r.score > 0.8
    [digits] = engine.recognize([line_image("48260")], "0123456789")
    assert digits.text == "48260"
    [forced] = engine.recognize([line_image("AB")], "0123456789")
    assert set(forced.text) <= set("0123456789")


def test_traditional_answers_become_simplified():
    assert to_simplified("順達汽車索賠") == "顺达汽车索赔"


def test_whole_page_ocr_finds_lines():
    page = np.full((300, 900, 3), 255, np.uint8)
    page[100:164, 50 : 50 + line_image("三包索赔件返厂清单").shape[1]] = line_image(
        "三包索赔件返厂清单"
    )
    lines = default_engine().read_page(page)
    assert any("返厂清单" in line.text for line in lines)


def test_paddleocr_without_its_models_says_what_is_missing(monkeypatch):
    from formdesk.extract.ocr import paddle

    monkeypatch.delenv("FORMDESK_PADDLE_DET_DIR", raising=False)
    with pytest.raises(OcrEngineUnavailable, match="模型目录"):
        paddle.PaddleOcrEngine()
    monkeypatch.setenv("FORMDESK_OCR_ENGINE", "tesseract")
    with pytest.raises(OcrEngineUnavailable, match="未知的 OCR 引擎"):
        default_engine()


def test_the_second_model_reads_on_its_own_and_honours_a_charset():
    """The cross-check model (PP-OCRv4's recogniser from the rapidocr_onnxruntime wheel)
    is installed with formdesk, reads a line by itself, and keeps to a field's charset."""
    from formdesk.extract.ocr.cross import cross_model

    model = cross_model()
    assert model is not None, "rapidocr_onnxruntime (the second model's wheel) is missing"
    crop = line_image("机油泵总成")
    ink = np.nonzero(crop[..., 0] < 160)
    tight = crop[ink[0].min() - 4 : ink[0].max() + 5, ink[1].min() - 8 : ink[1].max() + 9]
    [r] = model.recognize([tight])
    assert r.text == "机油泵总成" and r.score > 0.8
    [digits] = model.recognize([line_image("7862.50")], "0123456789.")
    assert digits.text == "7862.50"
    [forced] = model.recognize([line_image("AB")], "0123456789")
    assert set(forced.text) <= set("0123456789")


def test_a_twin_letters_probability_is_the_lines_confusion():
    """ocr/confusion.py: where S was read, the probability 5 had there; a twin the field's
    charset excludes is no doubt; characters without twins give 0."""
    from formdesk.extract.ocr.confusion import confusion

    index = {"S": 1, "5": 2, "A": 3, "湘": 4}
    probs = np.array(
        [
            [0.1, 0.0, 0.0, 0.0, 0.9],  # 湘
            [0.0, 0.0, 0.0, 1.0, 0.0],  # A
            [0.0, 0.7, 0.3, 0.0, 0.0],  # S, 5 close behind
        ]
    )
    assert confusion(probs, index, "湘AS", [0.0, 1.0, 2.0]) == pytest.approx(0.3)
    assert confusion(probs, index, "湘AS", [0.0, 1.0, 2.0], charset="湘AS") == 0.0
    assert confusion(probs, index, "湘A", [0.0, 1.0]) == 0.0
    [r] = default_engine().recognize([line_image("EQ1043S8")])
    assert 0.0 <= r.confusion <= 1.0
