"""TinyDB on one JSON file per group of tables: cached in memory, written atomically.

- Reads return a cached snapshot while the file is unchanged: its (inode, mtime, size) and
  a commit token written as the file's first bytes (mtime alone misses two writes within
  one clock tick) are checked on every read, so writes by another process are seen.
- Snapshots are never mutated: a write copies the table dict and each row it touches, so a
  thread reading (or listing) while another writes always sees one consistent state.
- Writes happen only inside `transaction()` (the caller holds the store's write lock): all
  the table operations of one transaction become one atomic file replacement, the replaced
  version kept as `<name>.prev`.
- A file that is not the store's JSON raises DamagedFileError naming it, on every read.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document, Table

from .files import atomic_write
from .integrity import TOKEN_KEY, Damaged, damaged_file_error, decode_tables

_TOKEN_KEY = TOKEN_KEY
_HEAD = len(b'{"_commit":"') + 32  # the file's bytes up to the end of the commit token
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

Tables = dict[str, dict[str, dict[str, Any]]]


class AtomicJSONStorage(Storage):
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._cache: tuple[tuple[int, int, int], bytes, Tables] | None = None
        self._local = threading.local()  # the pending data of this thread's transaction
        self._fragments: dict[str, Any] = {}  # table -> (rows, its JSON, key -> (row, JSON))

    # -- TinyDB's storage interface ----------------------------------------------------------
    def read(self) -> Tables | None:
        pending = getattr(self._local, "pending", None)
        if pending is not None:
            return pending
        return self._load()

    def write(self, data: Tables) -> None:
        if not getattr(self._local, "active", False):
            raise RuntimeError("store: a write outside a transaction")
        self._local.pending = data

    # -- transactions -----------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Buffers this thread's writes; persists them at the end in one atomic replace."""
        if getattr(self._local, "active", False):
            yield  # nested: the outermost transaction persists
            return
        self._local.active = True
        self._local.pending = None
        try:
            yield
            if self._local.pending is not None:
                self._persist(self._local.pending)
        finally:
            self._local.active = False
            self._local.pending = None

    # -- file ---------------------------------------------------------------------------------
    def _load(self) -> Tables | None:
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - closed below, fstat needs the handle
        except FileNotFoundError:
            return None
        with fh:
            st = os.fstat(fh.fileno())
            key = (st.st_ino, st.st_mtime_ns, st.st_size)
            cache = self._cache
            if cache is not None and cache[0] == key:
                if fh.read(_HEAD) == cache[1]:
                    return cache[2]
                fh.seek(0)
            raw = fh.read()
        try:
            data = decode_tables(raw)
        except Damaged as exc:
            raise damaged_file_error(self.path, str(exc)) from None
        self._cache = (key, raw[:_HEAD], data)
        return data

    def _persist(self, data: Tables) -> None:
        raw, fragments = self._encode(secrets.token_hex(16), data)
        atomic_write(self.path, raw, keep_prev=True)
        st = os.stat(self.path)  # the write lock is held: nobody replaced it since
        self._cache = ((st.st_ino, st.st_mtime_ns, st.st_size), raw[:_HEAD], data)
        self._fragments = fragments

    def _encode(self, token: str, data: Tables) -> tuple[bytes, dict[str, Any]]:
        """The file's bytes, re-encoding only the rows that changed since the last write.

        Rows are never changed in place (see `_CopyOnWriteRows`), so a row object (or a whole
        table dict) seen in the last write still has the JSON it had then: a write after one
        change among 10,000 rows joins cached bytes instead of encoding everything again.
        """
        previous = self._fragments
        fragments: dict[str, Any] = {}
        parts = [f'{{"{_TOKEN_KEY}":"{token}"'.encode()]
        for name, rows in data.items():
            last = previous.get(name)
            if last is not None and last[0] is rows:  # table untouched by this write
                fragments[name] = last
                parts.append(last[1])
                continue
            cached = last[2] if last is not None else {}
            current: dict[str, tuple[dict, bytes]] = {}
            items = []
            for key, row in rows.items():
                hit = cached.get(key)
                if hit is None or hit[0] is not row:
                    hit = (row, f"{_ENCODER.encode(key)}:{_ENCODER.encode(row)}".encode())
                current[key] = hit
                items.append(hit[1])
            body = b"," + _ENCODER.encode(name).encode() + b":{" + b",".join(items) + b"}"
            fragments[name] = (rows, body, current)
            parts.append(body)
        parts.append(b"}")
        return b"".join(parts), fragments


def encode_tables(tables: Tables) -> bytes:
    """A whole db file's bytes as the store writes it (for rebuilding one from elsewhere)."""
    body = {_TOKEN_KEY: secrets.token_hex(16), **tables}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _NoQueryCache(dict):
    """TinyDB's query cache would go stale when another process writes, and its LRU is not
    thread-safe: keep nothing."""

    def __init__(self, capacity: int | None = None):
        super().__init__()

    def get(self, key: Any, default: Any = None) -> Any:
        return None

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


class _CopyOnWriteRows(dict):
    """The table handed to TinyDB's updaters: a row is deep-copied the first time it is
    fetched, so in-place updates never reach the shared snapshot."""

    def __init__(self, rows: Mapping[str, dict]):
        super().__init__(rows)
        self._copied: set[str] = set()

    def __getitem__(self, key: str) -> dict:
        row = super().__getitem__(key)
        if key not in self._copied:
            row = copy.deepcopy(row)
            super().__setitem__(key, row)
            self._copied.add(key)
        return row

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default  # noqa: SIM401 - must copy via []


class KeyedTable(Table):
    """A TinyDB table whose document ids are the rows' own keys (username, sha256, ...)."""

    document_id_class = str  # type: ignore[assignment]
    query_cache_class = _NoQueryCache  # type: ignore[assignment]
    default_query_cache_capacity = 0

    def _get_next_id(self) -> Any:
        raise TypeError("keyed table: insert Document(row, doc_id=key)")

    def _update_table(self, updater: Callable[[dict], None]) -> None:
        tables = self._storage.read() or {}
        table = _CopyOnWriteRows(tables.get(self.name, {}))
        updater(table)
        new_tables = dict(tables)
        new_tables[self.name] = dict(table)
        self._storage.write(new_tables)
        self.clear_cache()

    # -- conveniences ------------------------------------------------------------------------
    def rows(self) -> Mapping[str, dict[str, Any]]:
        """The current snapshot of every row by key: read it, never change it."""
        return self._read_table()

    def row(self, key: str) -> dict[str, Any] | None:
        return self._read_table().get(key)

    def put(self, key: str, row: Mapping[str, Any]) -> None:
        self.put_many({key: row})

    def put_many(self, rows: Mapping[str, Mapping[str, Any]]) -> None:
        """Inserts or replaces whole rows in one table update."""
        fresh = {key: dict(row) for key, row in rows.items()}
        self._update_table(lambda table: dict.update(table, fresh))

    def insert_new(self, key: str, row: Mapping[str, Any]) -> None:
        """Inserts a row; ValueError if the key is taken."""
        self.insert(Document(row, doc_id=key))


class JsonDB(TinyDB):
    """One data file: `JsonDB(path)`; `db.transaction()` around every write."""

    table_class = KeyedTable

    def __init__(self, path: Path):
        super().__init__(path, storage=AtomicJSONStorage)

    @property
    def json_storage(self) -> AtomicJSONStorage:
        return self.storage  # type: ignore[return-value]

    def table(self, name: str, **kwargs: Any) -> KeyedTable:  # type: ignore[override]
        return super().table(name, **kwargs)  # type: ignore[return-value]

    def transaction(self) -> Any:
        return self.json_storage.transaction()
