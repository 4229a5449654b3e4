"""Per-page content budgets of a PDF, checked with pypdf before PDFium loads a page and
before pdfplumber extracts its text.

A page's work is what its content streams say, and what the streams they reach say: the
Form XObjects of its resources (recursively), tiling patterns, Type 3 glyph procedures,
soft-mask groups and annotation appearances.  For each page this measures
- the decoded bytes of every distinct stream reachable from it (`max_page_content_bytes`);
- operators, shown characters and bytes to interpret with every form invocation (and
  every repeated /Contents entry) expanded, as PDFium and pdfminer expand them
  (`max_page_operators`, `max_page_chars`, and `max_file_content_bytes` for the bytes);
- how deep forms nest (`max_form_depth`); a form that invokes itself is refused.
Across the file, the decoded bytes of all distinct streams (`max_file_content_bytes`) and
the resource entries walked are bounded too, so 200 pages cannot multiply the work.

pypdf decodes each stream under its own `Configuration` limits, lowered here so that no
single stream is inflated beyond four page budgets (a Flate bomb stops there).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.errors import LimitReachedError
from pypdf.filters import decode_stream_data
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, PdfObject, StreamObject

from .errors import IngestError
from .limits import IngestLimits
from .pdf_content import ContentTooComplex, StreamCost, scan
from .pdf_objects import too_many_objects

CORRUPT = "PDF 文件损坏或不完整"
MB = 1024 * 1024
# Resource entries walked per file, per allowed object: a page's resources are walked once
# per distinct resources dictionary, so real files stay far below this.
_STEPS_PER_OBJECT = 10


def _mb(n: int) -> str:
    return f"{n / MB:.1f} MB"


def _limit_mb(n: int) -> str:
    return f"{n / MB:g} MB"


class _Refused(Exception):
    """A budget passed; `reason` is completed with the page by the caller."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Effective:
    operators: int
    text: int
    size: int  # bytes the interpreter reads: every invocation and repetition counted


class PdfBudget:
    """The pypdf view of one file, for checking its pages one by one; distinct streams are
    decoded and measured once per file (pages share their static forms).

    Raises IngestError (CORRUPT) at construction when pypdf cannot read the file at all.
    """

    def __init__(self, data: bytes, limits: IngestLimits):
        self.limits = limits
        self._cap = 4 * limits.max_page_content_bytes
        self._costs: dict[object, StreamCost] = {}
        self._effective: dict[tuple[object, int], _Effective] = {}
        self._reachable: dict[int, frozenset[object]] = {}
        self._keep: list[object] = []  # keeps objects whose id() keys a memo alive
        self._objects: dict[object, StreamObject] = {}
        self.file_bytes = 0
        self._steps = 0
        self._max_steps = _STEPS_PER_OBJECT * limits.max_pdf_objects
        try:
            with self._configured():
                self.reader = PdfReader(
                    io.BytesIO(data),
                    strict=False,
                    xref_stream_maximum_entries=limits.max_pdf_objects,
                )
                if self.reader.is_encrypted:
                    # PDFium opened it without a password: the user password is empty.
                    self.reader.decrypt("")
                self.pages = list(self.reader.pages)
        except LimitReachedError:
            raise too_many_objects(None, limits.max_pdf_objects) from None
        except Exception:  # pypdf raises many kinds for a broken file
            raise IngestError(CORRUPT) from None

    def user_unit(self, index: int) -> float:
        """The page's /UserUnit (ISO 32000-1 §14.11.2, PDF 1.6): the size of one default
        user-space unit in 1/72 inch, 1.0 when absent or not a positive number.  PDFium
        ignores it, so the rasteriser multiplies its scale by it."""
        try:
            value = float(_resolve(self.pages[index].get("/UserUnit")) or 1.0)
        except (TypeError, ValueError, IndexError):
            return 1.0
        return value if 0.0 < value < 1e6 else 1.0

    def check_page(self, index: int) -> None:
        """IngestError naming the page (1-based in the message) when one budget is passed."""
        where = f"PDF 第 {index + 1} 页"
        try:
            with self._configured():
                self._check_page(index)
        except _Refused as exc:
            raise IngestError(f"{where}{exc.reason}") from None
        except RecursionError:
            raise IngestError(f"{where}的表单对象嵌套过深") from None
        except LimitReachedError:
            raise IngestError(
                f"{where}内容过于复杂(页面描述超过 {_limit_mb(self._cap)},"
                f"上限 {_limit_mb(self.limits.max_page_content_bytes)})"
            ) from None
        except IngestError:
            raise
        except Exception:  # pypdf raises many kinds for broken streams (unknown filter ...)
            raise IngestError(f"{CORRUPT}(第 {index + 1} 页内容无法解码)") from None

    # -- one page ----------------------------------------------------------------------------

    def _check_page(self, index: int) -> None:
        lim = self.limits
        if index >= len(self.pages):
            raise _Refused("无法读取(页面结构损坏)")
        page = self.pages[index]
        resources = _dict(page.get("/Resources"))
        contents = list(self._contents(page.get("/Contents")))
        streams = set(contents)
        streams |= self._reachable_from(resources, 0)
        for annot in _items(page.get("/Annots")):
            self._step()
            streams |= self._appearances(annot)
        size = sum(self._cost(key, obj).size for key, obj in self._streams(streams))
        if size > lim.max_page_content_bytes:
            raise _Refused(
                f"内容过于复杂(页面描述 {_mb(size)},上限 {_limit_mb(lim.max_page_content_bytes)})"
            )
        ops = text = read = 0
        # The page's own content runs with its forms expanded (a stream listed twice in
        # /Contents runs twice); every other stream once.
        for key, obj in self._streams(contents):
            e = self._expanded(key, obj, resources, 0, ())
            ops, text, read = ops + e.operators, text + e.text, read + e.size
        for key, obj in self._streams(streams - set(contents)):
            own = self._cost(key, obj)
            ops, text, read = ops + own.operators, text + own.text, read + own.size
        self._check_totals(ops, text, read)

    def _check_totals(self, ops: int, text: int, read: int) -> None:
        lim = self.limits
        if read > lim.max_file_content_bytes:
            raise _Refused(
                f"内容过于复杂(页面描述展开后 {_mb(read)},"
                f"上限 {_limit_mb(lim.max_file_content_bytes)})"
            )
        if ops > lim.max_page_operators:
            raise _Refused(f"内容过于复杂({ops} 个绘制指令,上限 {lim.max_page_operators} 个)")
        if text > lim.max_page_chars:
            raise _Refused(f"文字过多(约 {text} 个字符,上限 {lim.max_page_chars} 个)")

    def _expanded(
        self,
        key: object,
        obj: StreamObject,
        resources: DictionaryObject | None,
        depth: int,
        stack: tuple[object, ...],
    ) -> _Effective:
        """Operators and characters of a stream with every `Do` of a form expanded."""
        memo = (key, id(resources))
        if memo in self._effective:
            return self._effective[memo]
        own = self._cost(key, obj)
        ops, text, read = own.operators, own.text, own.size
        xobjects = _dict(resources.get("/XObject")) if resources is not None else None
        for name, times in own.calls.items():
            ref = xobjects.get(name) if xobjects is not None else None
            form = _resolve(ref)
            if not _is_form(form):
                continue
            form_key = _key(ref, form)
            if form_key in stack or form_key == key:
                raise _Refused("的表单对象引用自身(循环嵌套)")
            if depth + 1 > self.limits.max_form_depth:
                raise _Refused(f"的表单对象嵌套过深(超过 {self.limits.max_form_depth} 层)")
            inner = _dict(form.get("/Resources")) or resources
            e = self._expanded(form_key, form, inner, depth + 1, (*stack, key))
            ops += times * e.operators
            text += times * e.text
            read += times * e.size
            self._check_totals(ops, text, read)  # stop before the numbers grow huge
        result = _Effective(ops, text, read)
        self._effective[memo] = result
        self._keep.append(resources)
        return result

    # -- what a page reaches -------------------------------------------------------------------

    def _reachable_from(self, resources: DictionaryObject | None, depth: int) -> set[object]:
        """Keys of every content stream reachable from a resources dictionary."""
        if resources is None:
            return set()
        memo = id(resources)
        if memo in self._reachable:
            return set(self._reachable[memo])
        if depth > self.limits.max_form_depth:
            raise _Refused(f"的表单对象嵌套过深(超过 {self.limits.max_form_depth} 层)")
        self._reachable[memo] = frozenset()  # a resources cycle ends here
        self._keep.append(resources)
        found: set[object] = set()
        for kind in ("/XObject", "/Pattern"):
            for ref in _values(_dict(resources.get(kind)), self._step):
                obj = _resolve(ref)
                if isinstance(obj, StreamObject) and (_is_form(obj) or kind == "/Pattern"):
                    found |= self._stream_and_resources(ref, obj, depth)
        for ref in _values(_dict(resources.get("/ExtGState")), self._step):
            group = _get(_get(ref, "/SMask"), "/G")
            obj = _resolve(group)
            if isinstance(obj, StreamObject):
                found |= self._stream_and_resources(group, obj, depth)
        for ref in _values(_dict(resources.get("/Font")), self._step):
            font = _dict(ref)
            if font is None or font.get("/Subtype") != "/Type3":
                continue
            for proc in _values(_dict(font.get("/CharProcs")), self._step):
                obj = _resolve(proc)
                if isinstance(obj, StreamObject):
                    found.add(_key(proc, obj))
                    self._remember(_key(proc, obj), obj)
            found |= self._reachable_from(_dict(font.get("/Resources")), depth + 1)
        self._reachable[memo] = frozenset(found)
        return found

    def _stream_and_resources(self, ref: object, obj: StreamObject, depth: int) -> set[object]:
        key = _key(ref, obj)
        self._remember(key, obj)
        return {key} | self._reachable_from(_dict(obj.get("/Resources")), depth + 1)

    def _appearances(self, annot: PdfObject) -> set[object]:
        found: set[object] = set()
        ap = _get(annot, "/AP")
        for kind in ("/N", "/R", "/D"):
            entry = _get(ap, kind)
            obj = _resolve(entry)
            refs = (
                [entry] if isinstance(obj, StreamObject) else list(_values(_dict(obj), self._step))
            )
            for ref in refs:
                stream = _resolve(ref)
                if isinstance(stream, StreamObject):
                    found |= self._stream_and_resources(ref, stream, 0)
        return found

    def _contents(self, entry: PdfObject | None) -> Iterator[object]:
        obj = _resolve(entry)
        refs = list(_items(obj)) if isinstance(obj, ArrayObject) else [entry]
        for ref in refs:
            stream = _resolve(ref)
            if isinstance(stream, StreamObject):
                key = _key(ref, stream)
                self._remember(key, stream)
                yield key

    # -- streams ---------------------------------------------------------------------------------

    def _remember(self, key: object, obj: StreamObject) -> None:
        self._step()
        self._objects[key] = obj

    def _streams(self, keys: set[object] | list[object]) -> Iterator[tuple[object, StreamObject]]:
        for key in keys:
            yield key, self._objects[key]

    def _cost(self, key: object, obj: StreamObject) -> StreamCost:
        cost = self._costs.get(key)
        if cost is None:
            data = decode_stream_data(obj) if obj.get("/Filter") else obj._data
            lim = self.limits
            if len(data) > lim.max_page_content_bytes:
                raise _Refused(
                    f"内容过于复杂(页面描述 {_mb(len(data))},"
                    f"上限 {_limit_mb(lim.max_page_content_bytes)})"
                )
            self.file_bytes += len(data)
            if self.file_bytes > lim.max_file_content_bytes:
                raise IngestError(
                    f"PDF 内容过于复杂(各页页面描述共超过 {_limit_mb(lim.max_file_content_bytes)},"
                    f"上限 {_limit_mb(lim.max_file_content_bytes)})"
                )
            try:
                cost = scan(data, lim.max_page_operators)
            except ContentTooComplex as exc:
                if exc.operators:
                    raise _Refused(
                        f"内容过于复杂(绘制指令超过上限 {lim.max_page_operators} 个)"
                    ) from None
                raise _Refused(
                    f"内容过于复杂(约 {exc.strings} 个字符串,上限 {lim.max_page_operators // 2} 个)"
                ) from None
            self._costs[key] = cost
        return cost

    def _step(self) -> None:
        self._steps += 1
        if self._steps > self._max_steps:
            raise IngestError(f"PDF 内容过于复杂(资源引用超过 {self._max_steps} 处)")

    def _configured(self):
        from pypdf import apply_configuration

        cap = self._cap
        return apply_configuration(
            zlib_maximum_output_length=cap,
            lzw_maximum_output_length=cap,
            run_length_maximum_output_length=cap,
            brotli_maximum_output_length=cap,
            array_based_stream_maximum_output_length=cap,
            stream_decoding_work_maximum_length=4 * cap,
            zlib_maximum_recovery_input_length=256 * 1024,
            disable_legacy_handling=True,
        )


# -- pypdf objects, defensively ------------------------------------------------------------------


def _resolve(obj: object) -> PdfObject | None:
    try:
        return obj.get_object() if isinstance(obj, IndirectObject) else obj  # type: ignore[return-value]
    except Exception:  # a dangling reference is null (ISO 32000-1, 7.3.10)
        return None


def _dict(obj: object) -> DictionaryObject | None:
    obj = _resolve(obj)
    return obj if isinstance(obj, DictionaryObject) else None


def _get(obj: object, key: str) -> PdfObject | None:
    """`obj[key]` unresolved, or None when obj is not a dictionary or lacks it."""
    d = _dict(obj)
    return d.get(key) if d is not None else None


def _items(obj: object) -> Iterator[PdfObject]:
    obj = _resolve(obj)
    if isinstance(obj, ArrayObject):
        yield from obj


def _values(d: DictionaryObject | None, step) -> Iterator[PdfObject]:
    if d is None:
        return
    for value in d.values():
        step()
        yield value


def _is_form(obj: object) -> bool:
    return isinstance(obj, StreamObject) and obj.get("/Subtype") == "/Form"


def _key(ref: object, obj: object) -> object:
    if isinstance(ref, IndirectObject):
        return (ref.idnum, ref.generation)
    return ("direct", id(obj))
