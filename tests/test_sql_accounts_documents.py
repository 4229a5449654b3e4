"""Users, API tokens, browser sessions and printed documents (AccountStore, DocumentStore)
on both stores through the same tests: the TinyDB store and the PostgreSQL one must behave
alike (issue 11). Last, what only a server shows: two processes' racing sign-ups."""

from __future__ import annotations

import multiprocessing
import pickle
import re
import secrets
import threading
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from formdesk.model.accounts import ApiToken, User, UserSession
from formdesk.model.documents import IssuedDocument
from formdesk.store import (
    AccountStore,
    ConflictError,
    DocumentStore,
    InvalidUsernameError,
    NotFoundError,
    TinyStore,
)
from formdesk.store.sql.accounts import SqlAccountStore
from formdesk.store.sql.documents import SqlDocumentStore

T0 = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


class SqlRoles(SqlAccountStore, SqlDocumentStore):
    """The two PostgreSQL roles on one engine, combined as `SqlStore` combines them."""


@pytest.fixture(params=["tinydb", "postgresql"])
def store(request, tmp_path):
    if request.param == "tinydb":
        with TinyStore(tmp_path / "data") as s:
            yield s
    else:
        yield SqlRoles(request.getfixturevalue("pg_engine"))


def exactly(message: str) -> str:
    """A `pytest.raises(match=…)` pattern for exactly that message."""
    return f"^{re.escape(message)}$"


def user(name: str, **kw) -> User:
    return User(**{"username": name, "password_hash": "h", "role": "station", **kw})


def token(hash_char: str, username: str = "bob", **kw) -> ApiToken:
    return ApiToken(token_hash=hash_char * 64, username=username, **kw)


def session(n: int, username: str = "bob", *, minutes: int = 30) -> UserSession:
    now = datetime.now(UTC)
    return UserSession(
        session_hash=f"{n:064x}", username=username, csrf=f"csrf{n}",
        created_at=now - timedelta(minutes=1), expires_at=now + timedelta(minutes=minutes),
    )  # fmt: skip


def test_both_stores_meet_the_roles(store):
    assert isinstance(store, AccountStore) and isinstance(store, DocumentStore)


# -- users ------------------------------------------------------------------------------------


def test_users_are_unique_regardless_of_case_and_found_by_any(store):
    admin = store.add_user(user("Admin", role="back_office"))
    with pytest.raises(ConflictError, match=exactly("用户名“admin”已存在(与“Admin”只差大小写)")):
        store.add_user(user("admin"))
    with pytest.raises(ConflictError, match=exactly("用户名“ADMIN”已存在(与“Admin”只差大小写)")):
        store.add_user(user("ＡＤＭＩＮ"))  # full width: NFKC first
    with pytest.raises(ConflictError, match=exactly("用户名“Admin”已存在")):
        store.add_user(user(" Admin "))  # trimmed: the same spelling, no note
    assert store.get_user("Admin") == admin
    assert store.get_user("aDMIN") == admin and store.get_user("admin") == admin
    assert store.get_user("nobody") is None
    assert store.get_user(" admin") is None  # looked up as given: callers normalise
    assert [u.username for u in store.list_users()] == ["Admin"]


def test_names_are_normalised_and_checked(store):
    bob = store.add_user(user("  ｂｏｂ\t", station="S01"))
    assert bob.username == "bob"
    assert store.get_user("bob") == bob
    got = store.get_user("BOB")
    assert (got.username, got.station, got.role, got.created_at) == (
        "bob", "S01", "station", bob.created_at,
    )  # fmt: skip
    for bad, why in [
        ("", "不能为空"),
        ("a b", "只能包含"),
        ("x" * 33, "最多 32"),
        ("аdmin", "只能"),  # a Cyrillic а: a look-alike
    ]:
        with pytest.raises(InvalidUsernameError, match=why):
            store.add_user(user(bad))
    assert issubclass(InvalidUsernameError, ValueError)
    assert [u.username for u in store.list_users()] == ["bob"]


def test_list_users_sorts_by_code_point(store):
    for name in ["张三", "bob", "Zed", "amy", "a.b", "a_b", "李四"]:
        store.add_user(user(name))
    assert [u.username for u in store.list_users()] == [
        "Zed", "a.b", "a_b", "amy", "bob", "张三", "李四",
    ]  # fmt: skip


def test_set_password_hash(store):
    bob = store.add_user(user("Bob", password_hash="h1", created_at=T0))
    changed = store.set_password_hash("bOB", "h2")
    assert changed == bob.model_copy(update={"password_hash": "h2"})
    assert store.get_user("Bob").password_hash == "h2"
    assert store.get_user("Bob").created_at == T0
    with pytest.raises(NotFoundError, match=exactly("用户“nobody”不存在")):
        store.set_password_hash("nobody", "x")


# -- API tokens -------------------------------------------------------------------------------


def test_tokens_belong_to_stored_users_and_are_stored_once(store):
    store.add_user(user("Bob"))
    t = store.add_token(token("a", "BOB", label="扫描仪", scope="read"))
    assert t.username == "Bob"  # the stored spelling
    assert len(t.token_id) == 10 and int(t.token_id, 16) >= 0
    assert store.get_token("a" * 64) == t
    assert store.get_token("nope") is None
    assert store.user_for_token("a" * 64) == store.get_user("Bob")
    assert store.user_for_token("nope") is None
    with pytest.raises(ConflictError, match=exactly("该令牌已登记")):
        store.add_token(token("a", "Bob"))
    with pytest.raises(NotFoundError, match=exactly("用户“nobody”不存在")):
        store.add_token(token("b", "nobody"))
    with pytest.raises(NotFoundError):  # the user is checked first
        store.add_token(token("a", "nobody"))
    given = store.add_token(token("c", "Bob", token_id="legacy0001"))
    assert given.token_id == "legacy0001" and store.get_token("c" * 64) == given
    more = [
        store.add_token(token(c, "Bob", created_at=T0 + timedelta(seconds=i)))
        for i, c in enumerate("defghijk")
    ]
    assert len({t.token_id for t in [t, given, *more]}) == 10  # every id its own
    assert store.list_tokens() == [*more, t, given]  # T0 and on, then the two made now


def test_a_token_id_drawn_twice_is_drawn_again(store, monkeypatch):
    store.add_user(user("bob"))
    draws, real = iter(["aaaaaaaaaa", "aaaaaaaaaa", "bbbbbbbbbb"]), secrets.token_hex
    # five bytes: a token id (the TinyDB store draws other sizes for its files' own use)
    monkeypatch.setattr(secrets, "token_hex", lambda n=None: next(draws) if n == 5 else real(n))
    first = store.add_token(token("a"))
    second = store.add_token(token("b"))
    assert (first.token_id, second.token_id) == ("aaaaaaaaaa", "bbbbbbbbbb")
    assert [t.token_id for t in store.list_tokens()] == ["aaaaaaaaaa", "bbbbbbbbbb"]


def test_list_tokens_oldest_first_and_by_user(store):
    store.add_user(user("bob"))
    store.add_user(user("amy"))
    added = [
        store.add_token(token("a", "bob", created_at=T0 + timedelta(hours=2))),
        store.add_token(token("b", "amy", created_at=T0)),
        store.add_token(token("c", "bob", created_at=T0 + timedelta(hours=1))),
        store.add_token(token("d", "bob", created_at=T0 + timedelta(hours=1), token_id="0000000001")),
    ]  # fmt: skip
    a, b, c, d = added
    assert store.list_tokens() == [b, d, c, a]  # by creation time, then id
    assert store.list_tokens("bob") == [d, c, a]
    assert store.list_tokens("amy") == [b]
    assert store.list_tokens("nobody") == []
    assert store.list_tokens("BOB") == []  # the name as stored, not found by case


def test_revoke_token(store):
    store.add_user(user("bob"))
    store.add_user(user("amy"))
    t = store.add_token(token("a", "bob"))
    other = store.add_token(token("b", "amy"))
    with pytest.raises(NotFoundError, match=exactly(f"找不到令牌 {t.token_id}")):
        store.revoke_token(t.token_id, "amy")  # someone else's
    with pytest.raises(NotFoundError):
        store.revoke_token(t.token_id, "BOB")  # the name as stored
    assert store.get_token("a" * 64) == t
    assert store.revoke_token(t.token_id, "bob") == t
    assert store.get_token("a" * 64) is None and store.user_for_token("a" * 64) is None
    with pytest.raises(NotFoundError):
        store.revoke_token(t.token_id)
    assert store.revoke_token(other.token_id) == other  # no user given: anyone's
    assert store.list_tokens() == []
    with pytest.raises(NotFoundError):
        store.revoke_token("nothing")


# -- browser sessions -------------------------------------------------------------------------


def test_sessions_round_trip_and_end(store):
    s1 = store.add_session(session(1))
    assert store.get_session(s1.session_hash) == s1
    assert store.get_session("nope") is None
    again = session(1).model_copy(update={"csrf": "other"})
    store.add_session(again)  # the same id hash: replaced
    assert store.get_session(s1.session_hash).csrf == "other"
    assert store.delete_session(s1.session_hash) is True
    assert store.get_session(s1.session_hash) is None
    assert store.delete_session(s1.session_hash) is False


def test_an_expired_session_is_not_returned_and_the_next_sign_in_drops_it(store):
    late = store.add_session(session(1, minutes=-1))  # stored, but already over
    assert store.get_session(late.session_hash) is None
    store.add_session(session(2))  # drops it
    assert store.delete_session(late.session_hash) is False
    assert store.get_session(session(2).session_hash) is not None

    store.add_session(session(3, minutes=-1))  # the last write: still stored, not live
    assert store.get_session(session(3).session_hash) is None
    assert store.delete_sessions("bob") == 2  # 2 and the expired 3


def test_delete_sessions_keeps_one(store):
    for n, name in [(1, "bob"), (2, "bob"), (3, "bob"), (4, "amy")]:
        store.add_session(session(n, name))
    keep = session(2).session_hash
    assert store.delete_sessions("bob", keep=keep) == 2
    assert [store.get_session(session(n).session_hash) is not None for n in (1, 2, 3, 4)] == [
        False, True, False, True,
    ]  # fmt: skip
    assert store.delete_sessions("BOB") == 0  # the name as stored
    assert store.delete_sessions("bob") == 1
    assert store.delete_sessions("nobody") == 0
    assert store.get_session(session(4).session_hash).username == "amy"


# -- printed documents ------------------------------------------------------------------------


def _doc(document_id: str, template: str = "SH-ZH/BD-27", **kw) -> IssuedDocument:
    return IssuedDocument(document_id=document_id, template=template, template_version=3, **kw)


PRINTED = {
    "date": date(2026, 1, 5), "fee": Decimal("120.50"), "客户": "张三",
    "parts": [{"part": "机油滤清器", "qty": 2}], "ratio": 0.5, "none": None,
}  # fmt: skip
STORED = {
    "date": "2026-01-05", "fee": "120.50", "客户": "张三",
    "parts": [{"part": "机油滤清器", "qty": 2}], "ratio": 0.5, "none": None,
}  # fmt: skip


def test_documents_register_replace_and_get(store):
    doc = _doc("260105-AAAA", pages=2, copies=3, values=PRINTED, issued_at=T0).registered(
        station="S01", issued_by="amy"
    )
    blank = _doc("260105-BBBB", template="表格04")
    store.register_documents([doc, blank])
    store.register_documents([])  # nothing
    got = store.get_document("260105-AAAA")
    assert got == doc.model_copy(update={"values": STORED})
    assert got.issued_at == T0 and (got.station, got.issued_by) == ("S01", "amy")
    got.values["date"] = "changed"  # a caller's copy, not the store's
    assert store.get_document("260105-AAAA").values == STORED
    assert store.get_document("260105-BBBB") == blank
    assert store.get_document("nope") is None

    store.register_documents([blank.model_copy(update={"pages": 4, "values": {"x": 1}})])
    assert store.get_document("260105-BBBB").pages == 4
    assert store.get_document("260105-BBBB").values == {"x": 1}
    twice = [_doc("260105-CCCC", copies=1), _doc("260105-CCCC", copies=2)]
    store.register_documents(twice)  # the last wins
    assert store.get_document("260105-CCCC").copies == 2


def test_document_ids_by_template(store):
    store.register_documents(
        [_doc("D1"), _doc("D2", template="表格04"), _doc("D3"), _doc("D4", template="other")]
    )
    store.register_documents([_doc("D2")])  # now of SH-ZH/BD-27
    assert sorted(store.document_ids("SH-ZH/BD-27")) == ["D1", "D2", "D3"]
    assert store.document_ids("表格04") == []
    assert store.document_ids("nope") == []


def test_values_reader_is_picklable_and_reads(store):
    store.register_documents([_doc("D1", values=PRINTED), _doc("BLANK")])
    reader = pickle.loads(pickle.dumps(store.document_values_reader()))
    assert reader("D1") == STORED
    assert reader("BLANK") is None and reader("nope") is None
    reader("D1")["date"] = "changed"  # the caller's copy
    assert reader("D1") == STORED
    store.register_documents([_doc("D1", values={"a": "b"}), _doc("D2", values={"c": 1})])
    assert reader("D1") == {"a": "b"} and reader("D2") == {"c": 1}  # what is stored now
    used = pickle.loads(pickle.dumps(reader))  # once used, it still pickles
    assert used("D2") == {"c": 1}


def test_values_reader_in_a_reader_process(store):
    """As the service uses it: sent to a spawned process (services/pools.py) and called there."""
    store.register_documents([_doc("D1", values=PRINTED)])
    reader = store.document_values_reader()
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=ctx) as pool:
        assert pool.submit(reader, "D1").result(timeout=120) == STORED
        assert pool.submit(reader, "nope").result(timeout=120) is None


# -- PostgreSQL only: several processes at once -----------------------------------------------


def test_a_given_token_id_already_used_is_refused(pg_engine):
    """An id is the primary key here (the TinyDB store would keep both rows)."""
    store = SqlAccountStore(pg_engine)
    store.add_user(user("bob"))
    store.add_token(token("a", token_id="0123456789"))
    with pytest.raises(ConflictError, match=exactly("令牌编号“0123456789”已存在")):
        store.add_token(token("b", token_id="0123456789"))
    assert store.get_token("b" * 64) is None


def _race(store: SqlAccountStore, names: list[str]) -> dict[str, User | ConflictError]:
    """Each name added by its own thread, all released at once: what each got."""
    start = threading.Barrier(len(names))
    outcome: dict[str, User | ConflictError] = {}

    def add(name: str) -> None:
        start.wait()
        try:
            outcome[name] = store.add_user(user(name))
        except ConflictError as exc:
            outcome[name] = exc

    threads = [threading.Thread(target=add, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcome


def test_two_sign_ups_of_one_name_at_once_only_one_succeeds(pg_engine):
    """The fold is UNIQUE in the database: of `Bob` and `bob` added at the same moment
    (each on its own connection, as two service processes), exactly one is stored."""
    store = SqlAccountStore(pg_engine)
    for round_ in range(5):
        names = [f"Bob{round_}", f"bob{round_}"]
        outcome = _race(store, names)
        won = [n for n in names if isinstance(outcome[n], User)]
        lost = [n for n in names if isinstance(outcome[n], ConflictError)]
        assert len(won) == 1 and len(lost) == 1, outcome
        assert "只差大小写" in str(outcome[lost[0]])
        assert store.get_user(lost[0]).username == won[0]
    assert len(store.list_users()) == 5


def test_the_first_signing_key_fingerprint_stays_the_installations(store):
    """PostgreSQL keeps the first fingerprint recorded, for every machine to compare with;
    a TinyDB folder holds its own key file, so it has nothing to compare."""
    assert store.signing_key_fingerprint("a" * 32) == "a" * 32
    again = store.signing_key_fingerprint("b" * 32)
    assert again == ("b" * 32 if isinstance(store, TinyStore) else "a" * 32)
