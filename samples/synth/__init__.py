"""Synthetic test scans and phone photos of hand-filled forms, each with its truth JSON.

python -m samples.synth --out DIR --count N --seed S [--kinds scan,photo,gang,printed]
                        [--hands longcang,seto,mnist-cal,...]
"""

from .effects import photo_effects, scan_effects, side_by_side
from .generate import Job, make_sample, write_sample
from .hand import FontMissingError, Hand
from .pages import gang_sheet, handwritten_page, printed_page
from .sources import HAND_SOURCES, HandDataMissingError, HandSource
from .values import make_values

__all__ = [
    "HAND_SOURCES",
    "FontMissingError",
    "Hand",
    "HandDataMissingError",
    "HandSource",
    "Job",
    "gang_sheet",
    "handwritten_page",
    "make_sample",
    "make_values",
    "photo_effects",
    "printed_page",
    "scan_effects",
    "side_by_side",
    "write_sample",
]
