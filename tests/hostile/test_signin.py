"""Sign-in that holds, tried as an attacker would: guessing passwords (per name, per
address, behind a proxy), replaying a cookie after logout, keeping a session across a
password change, using revoked or read-only tokens, weak passwords, odd user names, timing
known against unknown names, cookies without Secure, and writes by GET or without CSRF.

Most run against a real `formdesk serve` process (tests/served.py); the timing and the
route checks use the real app in-process."""

from __future__ import annotations

import importlib
import pkgutil
import re
import statistics
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from formdesk.api.app import create_app
from formdesk.api.deps import back_office, writer
from formdesk.model.accounts import User, UserSession
from formdesk.services.passwords import WeakPasswordError, check_password, hash_password
from formdesk.services.tokens import token_hash
from formdesk.settings import Settings
from formdesk.store import ConflictError, InvalidUsernameError, TinyStore

from ..served import PASSWORD, Server

WINDOW_S = 8  # the lock-out window of the main served process: short, so a test can wait it out
NEW_PASSWORD = "violet tram 42 ledger"
COOKIE = "formdesk_session"


def one_line_error(result) -> str:
    """A CLI failure: exit 1 and one line `错误:…` on stderr."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误:"), result.stderr
    return lines[0]


def login(server: Server, username: str, password: str = PASSWORD, **headers) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/login",
        data={"username": username, "password": password},
        headers=headers,
        timeout=30,
    )


def session_client(server: Server, cookie: str) -> httpx.Client:
    """A client holding only a copied session cookie (as a thief would)."""
    return httpx.Client(base_url=server.url, cookies={COOKIE: cookie}, timeout=30)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One service, users of every role; a short lock-out window, a high per-address limit
    (so the per-name tests do not lock the loopback address out)."""
    s = Server(
        tmp_path_factory.mktemp("signin") / "data",
        env={
            "FORMDESK_LOGIN_WINDOW_S": str(WINDOW_S),
            "FORMDESK_LOGIN_MAX_FAILURES": "5",
            "FORMDESK_LOGIN_IP_MAX_FAILURES": "1000",
        },
    )
    s.cli("user", "add", "office", "--role", "back_office", "--password", PASSWORD)
    s.cli("user", "add", "guessed", "--role", "back_office", "--password", PASSWORD)
    s.cli("user", "add", "audit", "--role", "auditor", "--password", PASSWORD)
    s.cli("user", "add", "s1", "--role", "station", "--station", "HN01", "--password", PASSWORD)
    s.start()
    yield s
    s.stop()


# -- guessing -----------------------------------------------------------------------------------


@pytest.mark.exclusive  # the lock-out window is WINDOW_S seconds (tests/exclusive.py)
def test_sixty_wrong_passwords_lock_the_name_even_for_the_right_one(served):
    statuses = [login(served, "guessed", f"guess-{n}").status_code for n in range(60)]
    assert statuses[:4] == [401] * 4  # the first failures say only "wrong"
    assert statuses[4:] == [429] * 56  # the fifth uses up the name: locked from then on
    locked = login(served, "guessed", PASSWORD)  # the right password, while locked
    assert locked.status_code == 429
    reason = locked.json()["reason"]
    assert re.fullmatch(r"登录失败次数过多,请 \d+ 分钟后再试", reason), reason
    wait = int(locked.headers["retry-after"])
    assert 1 <= wait <= WINDOW_S
    # the sign-in page says the same, with the same status
    page = httpx.post(
        f"{served.url}/login", data={"username": "guessed", "password": PASSWORD}, timeout=30
    )
    assert page.status_code == 429 and "登录失败次数过多" in page.text
    assert "retry-after" in page.headers
    # another name from the same address is not locked
    assert login(served, "office").status_code == 200
    # once the window has passed, the right password works again
    time.sleep(wait + 0.5)
    assert login(served, "guessed", PASSWORD).status_code == 200


@pytest.mark.parametrize("proxied", [True, False], ids=["behind-proxy", "direct"])
def test_one_address_is_limited_across_many_names(tmp_path, proxied):
    """20 names × 1 guess each from one address: locked after the address's limit. Behind a
    trusted proxy (--forwarded-allow-ips) the forwarded address is the one that counts;
    without it, a forged X-Forwarded-For changes nothing."""
    args = ["--forwarded-allow-ips", "127.0.0.1", "--secure-cookies"] if proxied else []
    s = Server(tmp_path / "data", env={"FORMDESK_LOGIN_IP_MAX_FAILURES": "10"}, args=args)
    s.cli("user", "add", "office", "--role", "back_office", "--password", PASSWORD)
    s.start()
    try:
        attacker = {"X-Forwarded-For": "203.0.113.7"}
        statuses = [
            login(s, f"name{n}", "wrong password", **attacker).status_code for n in range(20)
        ]
        assert statuses[:9] == [401] * 9 and statuses[9:] == [429] * 11
        refused = login(s, "office", PASSWORD, **attacker)
        assert refused.status_code == 429 and "分钟后再试" in refused.json()["reason"]
        elsewhere = login(s, "office", PASSWORD, **{"X-Forwarded-For": "198.51.100.4"})
        if proxied:  # another real client behind the proxy is not locked out
            assert elsewhere.status_code == 200
            cookie = elsewhere.headers["set-cookie"]
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        else:  # the header is not trusted: the same (loopback) address, still locked
            assert elsewhere.status_code == 429
    finally:
        s.stop()


# -- sessions -----------------------------------------------------------------------------------


def test_a_cookie_replayed_after_logout_is_refused(served):
    res = login(served, "office")
    cookie, csrf = res.cookies[COOKIE], res.json()["csrf"]
    set_cookie = res.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=strict" in set_cookie
    assert "Secure" not in set_cookie  # only with --secure-cookies
    assert len(cookie) >= 40 and "office" not in cookie  # a random id, nothing else
    with closing(session_client(served, cookie)) as c:
        assert c.get("/api/me").status_code == 200
        assert c.post("/api/logout").status_code == 403  # logout needs the CSRF token too
        assert c.get("/api/me").status_code == 200
        out = c.post("/api/logout", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 200 and out.json() == {"ok": True}
    with closing(session_client(served, cookie)) as thief:
        assert thief.get("/api/me").status_code == 401
        assert thief.get("/api/records").status_code == 401

    # the sign-in page and its 退出 button: the same
    with closing(httpx.Client(base_url=served.url, timeout=30, follow_redirects=True)) as browser:
        res = browser.post("/login", data={"username": "office", "password": PASSWORD})
        assert res.status_code == 200 and res.url.path == "/"
        cookie = browser.cookies[COOKIE]
        csrf = browser.get("/api/me").json()["csrf"]
        assert browser.post("/logout", data={"csrf": "forged"}).url.path == "/"
        assert browser.get("/api/me").status_code == 200  # a forged logout changes nothing
        assert browser.post("/logout", data={"csrf": csrf}).url.path == "/login"
    with closing(session_client(served, cookie)) as thief:
        assert thief.get("/api/me").status_code == 401


def test_sessions_live_in_their_own_file_hashed_and_expire(tmp_path):
    """Only the id's hash is stored, in db/sessions.json (signing in and out never rewrites
    the users file); an expired session is refused and dropped at the next sign-in."""
    app = create_app(tmp_path, start_worker=False)
    store = app.state.store
    store.add_user(
        User(username="office", password_hash=hash_password(PASSWORD), role="back_office")
    )
    users_file = (tmp_path / "db" / "meta.json").read_bytes()
    client = TestClient(app)
    res = client.post("/api/login", data={"username": "office", "password": PASSWORD})
    cookie = res.cookies[COOKIE]
    stored = (tmp_path / "db" / "sessions.json").read_text(encoding="utf-8")
    assert token_hash(cookie) in stored and cookie not in stored
    assert client.post("/api/logout", headers={"X-CSRF-Token": res.json()["csrf"]}).is_success
    assert (tmp_path / "db" / "meta.json").read_bytes() == users_file

    past = datetime.now(UTC) - timedelta(minutes=1)
    store.add_session(
        UserSession(
            session_hash=token_hash("old-cookie"),
            username="office",
            csrf="x",
            created_at=past - timedelta(hours=12),
            expires_at=past,
        )
    )
    old = TestClient(app, cookies={COOKIE: "old-cookie"})
    assert old.get("/api/me").status_code == 401
    assert token_hash("old-cookie") in (tmp_path / "db" / "sessions.json").read_text()
    client.post("/api/login", data={"username": "office", "password": PASSWORD})
    assert token_hash("old-cookie") not in (tmp_path / "db" / "sessions.json").read_text()


def test_a_password_change_ends_the_other_sessions(served):
    here, there = served.client("s1"), served.client("s1")
    try:
        weak = here.post(
            "/api/me/password", json={"old_password": PASSWORD, "new_password": "password123"}
        )
        assert weak.status_code == 422 and "密码" in weak.json()["reason"]
        wrong = here.post(
            "/api/me/password", json={"old_password": "not it at all", "new_password": NEW_PASSWORD}
        )
        assert wrong.status_code == 403 and wrong.json()["reason"] == "原密码不对"
        with closing(session_client(served, here.cookies[COOKIE])) as no_csrf:
            res = no_csrf.post(
                "/api/me/password", json={"old_password": PASSWORD, "new_password": NEW_PASSWORD}
            )
            assert res.status_code == 403 and "CSRF" in res.json()["reason"]
        same = here.post(  # the red team's pwchange.py: accepted before
            "/api/me/password", json={"old_password": PASSWORD, "new_password": PASSWORD}
        )
        assert same.status_code == 422 and same.json()["reason"] == "新密码不能与原密码相同"
        ok = here.post(
            "/api/me/password", json={"old_password": PASSWORD, "new_password": NEW_PASSWORD}
        )
        assert ok.status_code == 200 and ok.json()["ended_sessions"] == 1
        assert here.get("/api/me").status_code == 200  # the session that changed it stays
        assert there.get("/api/me").status_code == 401  # every other one has ended
        assert login(served, "s1", PASSWORD).status_code == 401
        assert login(served, "s1", NEW_PASSWORD).status_code == 200

        # the CLI: a generated password, printed once; every session of the user ends
        res = served.cli("user", "password", "s1")
        generated = re.search(r"新密码 ([\w-]+)", res.stdout).group(1)
        check_password(generated, "s1")  # the policy holds for generated ones
        assert here.get("/api/me").status_code == 401
        assert login(served, "s1", NEW_PASSWORD).status_code == 401
        assert login(served, "s1", generated).status_code == 200
        weak_cli = served.cli("user", "password", "s1", "--password", "s1s1s1s1s1s1", check=False)
        assert "容易被猜到" in one_line_error(weak_cli)
        served.cli("user", "password", "s1", "--password", PASSWORD)  # back, for other tests
        same_cli = served.cli("user", "password", "S1", "--password", PASSWORD, check=False)
        assert one_line_error(same_cli) == "错误:新密码不能与原密码相同"
    finally:
        here.close()
        there.close()


# -- API tokens ----------------------------------------------------------------------------------


def bearer(server: Server, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def test_tokens_are_listed_scoped_and_revoked(served):
    with closing(served.client("office")) as office:
        made = office.post("/api/tokens", data={"label": "夜间导出"})
        assert made.status_code == 201
        write = made.json()
        assert write["scope"] == "write" and write["token"].startswith("fd_")
        read = office.post("/api/tokens", data={"label": "报表", "scope": "read"}).json()
        listed = office.get("/api/tokens").json()
        assert {t["id"] for t in listed} >= {write["id"], read["id"]}
        for t in listed:  # never the token, nor its hash
            assert set(t) == {"id", "label", "scope", "scope_label", "created_at"}
        assert write["token"] not in office.get("/api/tokens").text

        with closing(bearer(served, read["token"])) as reader:
            assert reader.get("/api/me").json()["token_scope"] == "read"
            assert reader.get("/api/records").status_code == 200
            res = reader.post("/api/print/form-04/blank.pdf")
            assert res.status_code == 403 and "只读令牌" in res.json()["reason"]
            assert reader.delete(f"/api/tokens/{write['id']}").status_code == 403
        with closing(bearer(served, write["token"])) as script:
            assert script.post("/api/print/form-04/blank.pdf").status_code == 200
            made_by_token = script.post("/api/tokens", data={"label": "x"})
            assert made_by_token.status_code == 403  # new tokens only from a signed-in browser
            assert office.delete(f"/api/tokens/{write['id']}").status_code == 204
            gone = script.get("/api/me")
            assert gone.status_code == 401 and "撤销" in gone.json()["reason"]
        assert write["id"] not in {t["id"] for t in office.get("/api/tokens").json()}
        assert office.delete(f"/api/tokens/{write['id']}").status_code == 404

    with closing(served.client("audit")) as audit:
        res = audit.post("/api/tokens", data={"label": "x", "scope": "write"})
        assert res.status_code == 403 and "只读" in res.json()["reason"]
        token = audit.post("/api/tokens", data={"label": "审计脚本"}).json()
        assert token["scope"] == "read"
        # another user's token is not there for them
        assert audit.delete(f"/api/tokens/{read['id']}").status_code == 404
    with closing(bearer(served, token["token"])) as auditor_script:
        assert auditor_script.get("/api/records").status_code == 200
        for method, path in (
            ("POST", "/api/print/form-04/blank.pdf"),
            ("POST", "/api/uploads"),
            ("PATCH", "/api/records/x/fields/vin"),
        ):
            assert auditor_script.request(method, path).status_code == 403, path


def test_tokens_from_the_command_line(served):
    refused = served.cli("token", "add", "audit", "--scope", "write", check=False)
    assert "只读" in one_line_error(refused)
    assert "不存在" in one_line_error(served.cli("token", "add", "nobody", check=False))
    made = served.cli("token", "add", "office", "--label", "backup job")
    token = next(w for w in made.stdout.split() if w.startswith("fd_"))
    token_id = re.search(r"令牌 (\w+)", made.stdout).group(1)
    listing = served.cli("token", "list", "office").stdout
    assert token_id in listing and "backup job" in listing and token not in listing
    with closing(bearer(served, token)) as script:
        assert script.get("/api/me").json()["username"] == "office"
        served.cli("token", "revoke", token_id)
        assert script.get("/api/me").status_code == 401
    assert "找不到令牌" in one_line_error(served.cli("token", "revoke", token_id, check=False))


def test_token_rows_from_before_ids_and_scopes_keep_working(tmp_path):
    """Rows written before tokens had an id and a scope: a writer's may write, an auditor's
    only reads; both are listed under an id and can be revoked."""
    app = create_app(tmp_path, start_worker=False)
    store = app.state.store
    for name, role in (("office", "back_office"), ("audit", "auditor")):
        store.add_user(User(username=name, password_hash=hash_password(PASSWORD), role=role))
    # exactly what the old code wrote to db/meta.json
    for name in ("office", "audit"):
        with store._write(store._meta):
            store._tokens.put(
                token_hash(f"fd_old_{name}"),
                {
                    "token_hash": token_hash(f"fd_old_{name}"),
                    "username": name,
                    "label": "old",
                    "created_at": "2026-01-05T07:00:00.000000Z",
                },
            )
    with TestClient(app) as client:
        office = {"Authorization": "Bearer fd_old_office"}
        audit = {"Authorization": "Bearer fd_old_audit"}
        assert client.post("/api/print/form-04/blank.pdf", headers=office).status_code == 200
        assert client.post("/api/print/form-04/blank.pdf", headers=audit).status_code == 403
        assert client.get("/api/me", headers=audit).json()["token_scope"] == "read"
        [listed] = client.get("/api/tokens", headers=office).json()
        assert listed["id"] == token_hash("fd_old_office")[:10] and listed["scope"] == "write"
        assert client.delete(f"/api/tokens/{listed['id']}", headers=office).status_code == 204
        assert client.get("/api/me", headers=office).status_code == 401


# -- passwords and names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password,why",
    [
        ("1", "至少 10 个字符"),
        ("short-1A!", "至少 10 个字符"),
        ("password123", "容易被猜到"),
        ("1234567890", "容易被猜到"),
        ("qwertyuiop1", "容易被猜到"),
        ("Bobby-Tables-2026", "用户名"),
        ("bobby-tables", "用户名"),
    ],
)
def test_weak_passwords_are_refused_by_the_command(tmp_path, password, why):
    s = Server(tmp_path / "data")
    res = s.cli(
        "user", "add", "bobby-tables", "--role", "back_office", "--password", password, check=False
    )
    assert why in one_line_error(res)
    assert TinyStore(tmp_path / "data").get_user("bobby-tables") is None


def test_generated_passwords_pass_the_policy(tmp_path):
    s = Server(tmp_path / "data")
    for n in range(3):
        res = s.cli("user", "add", f"gen{n}", "--role", "auditor")
        generated = re.search(r"密码 ([\w-]+)", res.stdout).group(1)
        check_password(generated, f"gen{n}")
    with pytest.raises(WeakPasswordError):
        check_password("gen0gen0gen0", "gen0")


def test_user_names_are_trimmed_and_validated(served, tmp_path):
    added = served.cli("user", "add", " admin2 ", "--role", "auditor", "--password", PASSWORD)
    assert "已添加用户 admin2(" in added.stdout
    assert login(served, "admin2").status_code == 200
    assert login(served, "  admin2").status_code == 200  # what a person types is trimmed too
    assert login(served, "ａｄｍｉｎ２").status_code == 200  # full-width: the same name
    taken = served.cli("user", "add", "admin2\t", "--role", "auditor", check=False)
    assert "已存在" in one_line_error(taken)
    for bad in ("a b", "evil\u202egnp.exe", "x" * 33, "   ", "bell\x07", "<script>"):
        assert "用户名" in one_line_error(
            served.cli("user", "add", bad, "--role", "auditor", check=False)
        ), repr(bad)
        assert login(served, bad, "whatever it is").status_code in (401, 422)

    # names differ in more than case (the red team's names.py: `Admin` and `ＡＤＭＩＮ` beside
    # `admin`); any case finds the one user
    for same in ("Admin2", "ＡＤＭＩＮ２", "ADMIN2"):
        taken = served.cli("user", "add", same, "--role", "back_office", check=False)
        assert "已存在(与“admin2”只差大小写)" in one_line_error(taken), same
    signed_in = login(served, "ＡｄＭＩＮ2")
    assert signed_in.status_code == 200 and signed_in.json()["username"] == "admin2"
    made = served.cli("token", "add", "ADMIN2", "--label", "any case")
    assert "已为 admin2 创建令牌" in made.stdout
    assert "any case" in served.cli("token", "list", "Admin2").stdout

    store = TinyStore(tmp_path / "data")  # the store holds to the rule as well
    assert (
        store.add_user(User(username=" 王五", password_hash="h", role="auditor")).username == "王五"
    )
    store.add_user(User(username="  li.si ", password_hash="h", role="auditor"))
    assert store.get_user("li.si") is not None and store.get_user("  li.si ") is None
    with pytest.raises(InvalidUsernameError):
        store.add_user(User(username="li si", password_hash="h", role="auditor"))
    with pytest.raises(InvalidUsernameError):
        store.add_user(User(username="a\u200bb", password_hash="h", role="auditor"))
    with pytest.raises(ConflictError, match="只差大小写"):
        store.add_user(User(username="LI.SI", password_hash="h", role="auditor"))
    assert store.get_user("Li.Si").username == "li.si"
    assert store.set_password_hash("LI.si", "h2").username == "li.si"
    assert store.get_user("li.si").password_hash == "h2"


def test_names_stored_before_case_mattered_keep_working(tmp_path):
    """A data folder from before names were unique regardless of case may hold `Wang` and
    `wang`: each is still found by its own spelling; another case finds neither (it cannot
    say which), and a third spelling cannot be added."""
    store = TinyStore(tmp_path)
    store.add_user(User(username="wang", password_hash="h1", role="auditor"))
    with store._write(store._meta):  # exactly what the old code let `user add Wang` write
        row = User(username="Wang", password_hash="h2", role="back_office")
        store._users.put("Wang", row.model_dump(mode="json"))
    store = TinyStore(tmp_path)
    assert store.get_user("wang").password_hash == "h1"
    assert store.get_user("Wang").password_hash == "h2"
    assert store.get_user("WANG") is None
    for third in ("wang", "WANG"):
        with pytest.raises(ConflictError):
            store.add_user(User(username=third, password_hash="h3", role="auditor"))
    assert {u.username for u in store.list_users()} == {"wang", "Wang"}


def test_known_and_unknown_names_take_the_same_time(tmp_path):
    """A wrong password costs one argon2 verification whether the name exists or not."""
    settings = Settings(data_dir=tmp_path, login_max_failures=1000, login_ip_max_failures=1000)
    app = create_app(settings=settings, start_worker=False)
    app.state.store.add_user(
        User(username="office", password_hash=hash_password(PASSWORD), role="back_office")
    )
    client = TestClient(app)

    def attempt(name: str) -> float:
        start = time.perf_counter()
        res = client.post("/api/login", data={"username": name, "password": "wrong password"})
        elapsed = time.perf_counter() - start
        assert res.status_code == 401 and res.json()["reason"] == "用户名或密码不对"
        return elapsed

    attempt("office")  # warm up
    attempt("nobody")
    known, unknown = [], []
    for _ in range(12):  # interleaved, so load on the machine hits both alike
        known.append(attempt("office"))
        unknown.append(attempt("nobody"))
    k, u = statistics.mean(known), statistics.mean(unknown)
    assert max(k, u) / min(k, u) < 1.5, (k, u)


def test_secure_cookies_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FORMDESK_SECURE_COOKIES", "1")
    monkeypatch.setenv("FORMDESK_SESSION_HOURS", "2")
    app = create_app(tmp_path, start_worker=False)
    app.state.store.add_user(
        User(username="office", password_hash=hash_password(PASSWORD), role="back_office")
    )
    res = TestClient(app).post("/api/login", data={"username": "office", "password": PASSWORD})
    cookie = res.headers["set-cookie"]
    assert res.status_code == 200 and "Secure" in cookie and "Max-Age=7200" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie


# -- writes only by POST/PATCH/DELETE with the CSRF token -----------------------------------------


def test_printing_routes_refuse_get_and_need_the_csrf_token(served):
    record_id = "0000000000"
    with closing(served.client("s1")) as s1:
        csrf = s1.headers.pop("X-CSRF-Token")
        for path in (
            "/api/print/form-04/blank.pdf",
            f"/api/records/{record_id}/reprint.pdf",
            "/api/summary/bd24.pdf?month=2026-03",
        ):
            got = s1.get(path)
            assert got.status_code == 405 and "不支持" in got.json()["reason"], path
            posted = s1.post(path)
            assert posted.status_code == 403 and "CSRF" in posted.json()["reason"], path
        s1.headers["X-CSRF-Token"] = csrf
        res = s1.post("/api/print/form-04/blank.pdf")
        assert res.status_code == 200 and res.content[:4] == b"%PDF"
        assert s1.post(f"/api/records/{record_id}/reprint.pdf").status_code == 404
        assert s1.post("/api/summary/bd24.pdf?month=2026-03").status_code == 200


def api_routes() -> list[APIRoute]:
    """Every route of every router in api/routes (each module's `router`)."""
    import formdesk.api.routes as package

    routes = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        routes += [r for r in module.router.routes if isinstance(r, APIRoute)]
    return routes


def test_no_get_route_needs_write_rights():
    """Every route that changes something asks for `writer` (or `back_office`); none of
    them answers GET (or HEAD), where no CSRF token is checked."""

    def calls(dependant) -> set:
        found = {dependant.call}
        for sub in dependant.dependencies:
            found |= calls(sub)
        return found

    routes = api_routes()
    assert len(routes) > 30
    writing = [
        route.path
        for route in routes
        if route.methods & {"GET", "HEAD"} and calls(route.dependant) & {writer, back_office}
    ]
    assert not writing, writing
    posts = {r.path for r in routes if "POST" in r.methods and writer in calls(r.dependant)}
    assert {
        "/api/print/{slug}/blank.pdf",
        "/api/records/{record_id}/reprint.pdf",
        "/api/summary/bd24.pdf",
    } <= posts
