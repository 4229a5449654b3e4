"""ingest stage of formdesk: an uploaded PDF, JPEG, PNG or TIFF becomes page images.

Bad input (empty, truncated, encrypted, oversized, decompression bombs, other types) is
refused with one `IngestError` whose message says why, in Chinese, for the user.
"""

from .errors import IngestError
from .limits import IngestLimits
from .loader import count_pages, iter_pages, load_pages, precheck, sniff
from .pages import PageImage

__all__ = [
    "IngestError",
    "IngestLimits",
    "PageImage",
    "count_pages",
    "iter_pages",
    "load_pages",
    "precheck",
    "sniff",
]
