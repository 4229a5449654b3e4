"""Letters and figures a handwritten line may hold either of (issue 10: "letters read as
digits in fields that may hold letters: D→0, G→6, S→5"; plates read 冀AAWMTS for
冀AAWMT5).  A model that read S where 5 was written still gave 5 some probability:
`confusion` is the most it gave any twin of a character it read."""

from __future__ import annotations

import numpy as np

# each character and those it is mistaken for in handwriting (upper-case Latin, figures)
TWINS: dict[str, str] = {
    "0": "DOQC", "D": "0O", "O": "0DQ", "Q": "0O", "C": "0",
    "1": "IL", "I": "1L", "L": "1I",
    "2": "Z", "Z": "2",
    "5": "S", "S": "5",
    "6": "Gb", "G": "6",
    "8": "B", "B": "8",
}  # fmt: skip


def confusion(
    probs: np.ndarray,
    index: dict[str, int],
    text: str,
    frames: list[float],
    charset: str | None = None,
) -> float:
    """The largest probability any twin (`TWINS`) of a read character has at the time
    step where that character was read.  `probs`: T×C model output; `index`: character →
    column; `frames`: the time step of each character of `text` (fractional: the middle
    of its run); `charset`: what the field may hold (a twin it may not is no doubt).
    0.0 when no character of `text` has a twin in the model's alphabet."""
    worst = 0.0
    for ch, f in zip(text, frames, strict=False):
        cols = [
            index[t] for t in TWINS.get(ch, "") if t in index and (charset is None or t in charset)
        ]
        if cols:
            row = probs[min(len(probs) - 1, max(0, int(round(f))))]
            worst = max(worst, float(row[cols].max()))
    return worst


def twins_apart(read: str, other: str) -> bool:
    """Whether `other` is `read` with one or more characters swapped for their twins
    (`TWINS`, either case) and nothing else: the same length, at least one difference, each
    difference a twin (EQ104358 and EQ1043S8; 920417-52 and 92D417-52)."""
    if len(read) != len(other) or read == other:
        return False
    return all(
        a == b or b.upper() in TWINS.get(a.upper(), "") for a, b in zip(read, other, strict=True)
    )
