"""How much one uploaded file may ask of the machine before we refuse it."""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class IngestLimits:
    """Per-file limits; the defaults suit a scanner or phone upload of a batch of forms.

    PDF budgets, checked in the raw bytes and with pypdf before PDFium loads a page
    (`count_pages` at upload and `iter_pages` at reading alike). Measured on formdesk's own
    PDFs (a 1,500-row SH-ZH/BD-27 tag batch ganged 4 per A4: 375 pages; a 3-page
    SH-ZH/BD-31 manifest; every template prefilled from samples/records) and on a scanner's
    searchable PDF, with `ingest.pdf_budget`:

    | measure, per page unless said       | largest seen               | limit   | margin |
    | ----------------------------------- | -------------------------- | ------- | ------ |
    | objects in the file                 | 761 (the 375-page batch)   | 100,000 | 130×   |
    | decoded content + reachable streams | 62 KB (batch, page 314)    | 4 MB    | 67×    |
    | decoded content, whole file         | 21 MB (batch, 375 pages);  | 64 MB   | 6×     |
    |                                     | ~11 MB at 200 pages        |         |        |
    | bytes read, forms expanded          | ~70 KB (batch: 4 invoca-   | 64 MB   | 900×   |
    |                                     | tions of the static form)  |         |        |
    | operators, forms expanded           | 3,402 (batch, page 314)    | 200,000 | 59×    |
    | bytes of strings shown (≥ chars)    | 3,584 (表格17); PDFium     | 50,000  | 14×    |
    |                                     | counts 1,609 chars at most |         |        |
    | Form XObject nesting                | 1                          | 12      |        |

    A scanner's searchable PDF (shared case pdf-scan-with-ocr-layer) has 10 objects, 257 bytes of
    content and 47 of text; a dense scanned page with an OCR layer has ~5,000 characters
    (~10,000 bytes in two-byte codes). Checking the 375-page batch takes ~1.5 s.
    What the limits cost at worst: PDFium builds ~350 bytes per operator (200,000 → ~70 MB);
    pdfplumber ~2 KB and ~22 µs per character (50,000 → ~100 MB, 1.1 s); unbounded, a 10 KB file of
    `(A) Tj` × 1,000,000 took PDFium 640 MB and a 3.5 KB string of 3 M characters killed
    pdfplumber.
    """

    max_bytes: int = 50 * MB
    max_pages: int = 200
    # Per decoded page image (and per image embedded in a PDF page).  An A3 scan at
    # 600 dpi is 70 M pixels; anything beyond this is almost surely a decompression bomb.
    max_pixels: int = 120_000_000
    dpi: int = 200  # PDF rasterisation
    max_pdf_objects: int = 100_000
    max_page_content_bytes: int = 4 * MB
    max_file_content_bytes: int = 64 * MB
    max_page_operators: int = 200_000
    max_page_chars: int = 50_000
    max_form_depth: int = 12
