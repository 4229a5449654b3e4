"""Making a value fit its box: shrink first, then wrap; never spill over or vanish."""

from __future__ import annotations

from dataclasses import dataclass

from formdesk.model.errors import ValueDoesNotFitError  # noqa: F401  (re-exported)

from .fonts import string_width_mm

PT_MM = 25.4 / 72
MIN_SIZE_PT = 5.5
LINE_SPACING = 1.18


@dataclass(frozen=True)
class FittedText:
    lines: list[str]
    size: float

    @property
    def line_height_mm(self) -> float:
        return self.size * LINE_SPACING * PT_MM


def wrap(text: str, width_mm: float, size: float) -> list[str]:
    """Greedy wrap that breaks between any two CJK characters, and at spaces otherwise."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for ch in paragraph:
            if string_width_mm(line + ch, size) <= width_mm or not line:
                line += ch
                continue
            cut = line.rfind(" ")
            if cut > 0 and all(ord(c) < 0x2E80 for c in line[cut:]):
                lines.append(line[:cut])
                line = line[cut + 1 :] + ch
            else:
                lines.append(line)
                line = ch
        lines.append(line)
    return lines


def fit(
    text: str,
    width_mm: float,
    height_mm: float,
    max_size: float,
    may_wrap: bool,
    shrink_first: bool = True,
) -> FittedText:
    """The largest size at which `text` fits: one line shrunk to three quarters of
    `max_size` first (a short value reads better on one line), then wrapped lines."""
    if shrink_first and "\n" not in text:
        size = max_size
        while size >= max(MIN_SIZE_PT, 0.75 * max_size) - 1e-6:
            if string_width_mm(text, size) <= width_mm:
                return FittedText([text], size)
            size -= 0.5
    size = max_size
    while size >= MIN_SIZE_PT - 1e-6:
        line_h = size * LINE_SPACING * PT_MM
        max_lines = max(1, int((height_mm - 0.4) // line_h))
        if "\n" not in text and string_width_mm(text, size) <= width_mm:
            return FittedText([text], size)
        if may_wrap and max_lines > 1:
            lines = wrap(text, width_mm, size)
            if len(lines) <= max_lines:
                return FittedText(lines, size)
        size -= 0.5
    raise ValueDoesNotFitError(f"内容太长,最小字号下仍放不进栏内:{text[:30]}")
