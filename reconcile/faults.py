"""Fault categories (故障类别) for the monthly summary, found by keywords.

Claims and repair orders carry a part name and a free-text fault description, not a
category; the keyword table (fault_categories.yaml, a data folder's own copy first) groups
them. The part name decides when it names a category (it comes from the parts catalogue),
the description otherwise.
"""

from __future__ import annotations

import unicodedata
from functools import cached_property
from importlib import resources
from pathlib import Path

import yaml
from pydantic import RootModel, ValidationError

KEYWORDS_FILE = "fault_categories.yaml"
OTHER = "其它"


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


class FaultKeywords(RootModel[dict[str, list[str]]]):
    """Category → keywords, in the order reports list the categories."""

    @property
    def categories(self) -> list[str]:
        return [*self.root, OTHER]

    @cached_property
    def _words(self) -> list[tuple[str, str]]:
        """(keyword, category), longest first, then in table order."""
        ranked = sorted(
            (
                (-len(_fold(word)), order, _fold(word), category)
                for order, (category, keywords) in enumerate(self.root.items())
                for word in keywords
                if str(word).strip()
            ),
        )
        return [(word, category) for _, _, word, category in ranked]

    def category(self, *texts: str | None) -> str:
        """The category of the first text (part name, then description) naming one, else
        其它; within a text the longest keyword wins, a tie going to the earlier category."""
        for text in texts:
            folded = _fold(text or "")
            if folded and (hit := next((c for w, c in self._words if w in folded), None)):
                return hit
        return OTHER


def load_fault_keywords(data_dir: Path | None = None) -> FaultKeywords:
    """The data folder's fault_categories.yaml if there is one, else the packaged table."""
    own = Path(data_dir) / KEYWORDS_FILE if data_dir is not None else None
    if own is not None and own.exists():
        text, name = own.read_text(encoding="utf-8"), str(own)
    else:
        text = resources.files(__package__).joinpath(KEYWORDS_FILE).read_text(encoding="utf-8")
        name = KEYWORDS_FILE
    try:
        table = FaultKeywords.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as exc:
        raise ValueError(f"故障类别表 {name} 格式不对:{exc}") from None
    if OTHER in table.root:
        raise ValueError(f"故障类别表 {name}:“{OTHER}”是兜底类别,不必列出")
    return table
