"""Odd values sent to every route of the app: never a 5xx.

The routes are taken from the app itself (`app.routes`, included routers expanded), their
path, query, JSON and form parameters from each route's dependency tree, so a route added
later is covered without touching this file. Path parameters are filled with real ids
from a small real store (tests/hostile/world.py); then one place at a time gets an odd
value: lone surrogate, NUL, ESC, a C1 control, a right-to-left override, 100 KB (20 KB
in a URL, whose length servers bound themselves), a
20-digit number (as text and as a JSON number), 1e309 and NaN (JSON literals) and nested
lists. Text that no field accepts must be refused by the request guard with 422 naming
where it was (api/textguard.py); everything else must get an answer below 500.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from formdesk.templates import get_template

from ..conftest import sample_values
from .world import World, add_layout, login, make_world

# text that the guard refuses wherever a request carries it
REFUSED_TEXT = {
    "surrogate": "a\ud800b",
    "nul": "a\x00b",
    "escape": "a\x1bb",
    "c1": "a\x85b",
    "rtl-override": "a\u202eb",
}
HUGE = "x" * 100_000
LONG_URL = "x" * 20_000  # HTTP servers refuse request lines much longer than this
DIGITS20 = "12345678901234567890"
# odd but acceptable text: reaches the routes, which must answer it below 500
PLAIN_ODD = {"digits20": DIGITS20, "chinese": "维修站", "minus": "-1", "1e309": "1e309"}
# JSON bodies: raw JSON text for what json.dumps would not write (1e309, NaN, surrogates)
DEEP = "[" * 200 + "]" * 200


class Raw(str):
    """JSON text sent as is."""


def json_text(value: Any) -> str:
    if isinstance(value, Raw):
        return value
    # surrogates written as \ud800 escapes, as a client would send them
    return json.dumps(value, ensure_ascii=True)


JSON_ODD: dict[str, Any] = {
    **REFUSED_TEXT,
    "huge": HUGE,
    "digits20-text": DIGITS20,
    "digits20-number": Raw(DIGITS20),
    "1e309": Raw("1e309"),
    "NaN": Raw("NaN"),
    "nested": [[["x"]]],
    "deep": Raw(DEEP),
}
JSON_REFUSED = {*REFUSED_TEXT, "1e309", "NaN", "deep"}


@dataclass
class Route:
    method: str
    path: str  # with {name} placeholders
    query: list[str] = field(default_factory=list)
    form: list[str] = field(default_factory=list)
    files: list[tuple[str, bool]] = field(default_factory=list)  # (name, many)
    json_fields: list[str] | None = None  # None: no JSON body

    @property
    def path_names(self) -> list[str]:
        return re.findall(r"{(\w+)(?::\w+)?}", self.path)


def _params(dependant: Any, route: Route) -> None:
    for f in dependant.query_params:
        model = f.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            route.query += list(model.model_fields)
        else:
            route.query.append(f.alias)
    for f in dependant.body_params:
        kind = type(f.field_info).__name__
        annotation = f.field_info.annotation
        if kind == "File":
            route.files.append((f.alias, "list" in str(annotation)))
        elif kind == "Form":
            route.form.append(f.alias)
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            route.json_fields = list(annotation.model_fields)
        else:
            route.json_fields = ["part_name", "value"]  # a free-form object (print values)
    for sub in dependant.dependencies:
        _params(sub, route)


def every_route(app) -> Iterator[Route]:
    """Every HTTP route the app answers, with the parameters its dependencies declare."""
    stack = list(app.routes)
    while stack:
        route = stack.pop(0)
        if hasattr(route, "effective_route_contexts"):  # an included router
            stack[:0] = route.effective_route_contexts()
            continue
        if hasattr(route, "routes") and not hasattr(route, "methods"):  # a mount
            yield Route("GET", route.path + "/{path}")
            continue
        for method in sorted(route.methods - {"HEAD"}):
            found = Route(method, route.path)
            if getattr(route, "dependant", None) is not None:
                _params(route.dependant, found)
            yield found


def logs_out(route: Route) -> bool:
    return route.path.endswith("logout")


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    w = make_world(tmp_path_factory.mktemp("every-route"))
    with TestClient(w.app):  # the lifespan: the layout drafts' folder and pool
        add_layout(w)
        yield w


@pytest.fixture(scope="module")
def routes(world) -> list[Route]:
    found = sorted(every_route(world.app), key=logs_out)  # logging out last
    paths = {r.path for r in found}
    assert {"/api/records/{record_id}/fields/{key}", "/api/print/{slug}", "/static/{path}"} <= paths
    assert len(found) >= 40
    # the layout routes get a registered variant's form and name and a real draft's id
    ids = real_ids(world)
    layout_routes = [r for r in found if r.path.startswith("/api/layout")]
    assert len(layout_routes) >= 10
    assert {n for r in layout_routes for n in r.path_names} <= set(ids), layout_routes
    return found


def real_ids(world: World) -> dict[str, str]:
    return {
        "record_id": world.tag_record,
        "sha256": world.scan_sha,
        "batch_id": world.batch_id,
        "document_id": world.document_id,
        "slug": "sh-zh-bd-27",
        "key": "part_name",
        "fmt": "csv",
        "path": "app.js",
        "form": world.layout_form,
        "name": world.layout_name,
        "draft_id": world.draft_id,
    }


def url_of(route: Route, world: World, odd_path: tuple[str, str] | None = None) -> str:
    ids = real_ids(world)
    path = route.path
    for name in route.path_names:
        value = odd_path[1] if odd_path and odd_path[0] == name else ids.get(name, "x")
        encoded = quote(value.encode("utf-8", "surrogatepass"), safe="")
        path = re.sub(r"\{" + name + r"(?::\w+)?\}", encoded, path)
    return path


class Session:
    """The back office's client; signs in again after a route logged it out."""

    def __init__(self, world: World):
        self.world = world
        self.client = login(world.app, "office", raise_errors=False)
        self.problems: list[str] = []

    def send(self, route: Route, url: str, what: str, **kwargs) -> int:
        res = self.client.request(route.method, url, **kwargs)
        # /health answers 503 "degraded" by design here: this app's reader is not started
        degraded = route.path == "/health" and res.status_code == 503
        if res.status_code >= 500 and not (degraded and res.json()["status"] == "degraded"):
            self.problems.append(
                f"{route.method} {route.path} {what}: {res.status_code} {res.text[:200]}"
            )
        if logs_out(route) and res.status_code < 400:
            self.client = login(self.world.app, "office", raise_errors=False)
        if route.method == "DELETE" and route.path.startswith("/api/layout") and res.is_success:
            add_layout(self.world)  # removed with its real name: back for the next route
        return res.status_code

    def expect_422(self, route: Route, url: str, what: str, needle: str, **kwargs) -> None:
        res = self.client.request(route.method, url, **kwargs)
        if res.status_code != 422 or needle not in res.json().get("reason", ""):
            self.problems.append(
                f"{route.method} {route.path} {what}: expected 422 naming {needle!r}, "
                f"got {res.status_code} {res.text[:200]}"
            )


def form_kwargs(route: Route, odd_field: str | None, odd: str) -> dict:
    """A form body for the route: every form field plain except `odd_field`; a small
    file in each file field (the odd value as its name when `odd_field` is that file)."""
    data = {name: ("x" if name != odd_field else odd) for name in route.form}
    files = []
    for name, _many in route.files:
        filename = odd if name == odd_field else "data.csv"
        files.append((name, (filename, b"a,b\n1,2\n", "text/csv")))
    if files:
        return {"data": data, "files": files}
    return {"data": data}


def test_the_layout_routes_answer_for_the_registered_variant(world, routes):
    """The ids the layout routes are sent are real: each GET answers 200 with them (so the
    odd values below reach a variant and a draft that exist), and a removal is undone."""
    s = Session(world)
    for route in routes:
        if route.path.startswith("/api/layout") and route.method == "GET":
            res = s.client.get(url_of(route, world))
            assert res.status_code == 200, (route.path, res.text[:200])
    variant = s.client.get(f"/api/layouts/{world.layout_form}/{quote(world.layout_name)}")
    assert variant.json()["name"] == world.layout_name and len(variant.json()["fields"]) == 13
    route = Route("DELETE", "/api/layouts/{form}/{name}")
    assert s.send(route, url_of(route, world), "real") == 204
    assert s.client.get(f"/api/layouts/{world.layout_form}/{quote(world.layout_name)}").is_success
    assert not s.problems, "\n".join(s.problems)


def test_odd_text_in_the_path_is_refused_on_every_route(world, routes):
    s = Session(world)
    for route in routes:
        for name in route.path_names:
            for label, odd in {**REFUSED_TEXT, "long": "x" * 5000}.items():
                url = url_of(route, world, (name, odd))
                s.expect_422(route, url, f"path {name}={label}", "请求地址")
            for label, odd in PLAIN_ODD.items():
                s.send(route, url_of(route, world, (name, odd)), f"path {name}={label}")
    assert not s.problems, "\n".join(s.problems)


def test_odd_query_values_are_refused_on_every_route(world, routes):
    s = Session(world)
    for route in routes:
        base = url_of(route, world)
        for name in [*route.query, "unknown_param"]:
            for label, odd in {**REFUSED_TEXT, "long": LONG_URL}.items():
                encoded = quote(odd.encode("utf-8", "surrogatepass"), safe="")
                s.expect_422(route, f"{base}?{name}={encoded}", f"query {name}={label}", name)
            for label, odd in PLAIN_ODD.items():
                s.send(route, f"{base}?{name}={quote(odd)}", f"query {name}={label}")
    assert not s.problems, "\n".join(s.problems)


PLACE = "@@odd@@"
# the printed tag's fields of each kind: text, date, integer (km), VIN, choice
KEYS = ["part_name", "purchase_date", "mileage_km", "vin", "part_origin"]


def json_bodies(route: Route) -> Iterator[tuple[str, str]]:
    """(where, JSON text with PLACE where the odd value goes) for the route's body: each
    field of a model body; for a free-form object (print values) the printed tag's sample
    record with one field of each kind replaced, so the rest of it is valid."""
    if route.json_fields is None or route.json_fields == ["part_name", "value"]:
        tag = sample_values(get_template("SH-ZH/BD-27"))
        for key in KEYS:
            yield key, json.dumps({**tag, key: PLACE}, ensure_ascii=False)
        if route.json_fields is None:
            yield "value", json.dumps({"value": PLACE})
        return
    for name in route.json_fields:
        yield name, json.dumps({"value": "1", name: PLACE})


def test_odd_json_is_refused_or_answered_on_every_route(world, routes):
    s = Session(world)
    headers = {"content-type": "application/json"}
    for route in routes:
        if route.method == "GET":
            continue
        for key in KEYS if "key" in route.path_names else [None]:
            url = url_of(route, world, ("key", key) if key else None)
            for name, template in json_bodies(route):
                for label, odd in JSON_ODD.items():
                    body = template.replace(json.dumps(PLACE), json_text(odd))
                    what = f"key {key} json {name}={label}"
                    if label in JSON_REFUSED:
                        s.expect_422(route, url, what, "请求内容", content=body, headers=headers)
                    else:
                        s.send(route, url, what, content=body, headers=headers)
        url = url_of(route, world)
        for label, odd in REFUSED_TEXT.items():  # as a key, and as the whole body
            body = "{" + json_text(odd) + ": 1}"
            s.expect_422(route, url, f"json key {label}", "请求内容", content=body, headers=headers)
            s.expect_422(
                route,
                url,
                f"json body {label}",
                "请求内容",
                content=json_text(odd),
                headers=headers,
            )
    assert not s.problems, "\n".join(s.problems)


def test_odd_form_fields_are_refused_on_every_route(world, routes):
    s = Session(world)
    for route in routes:
        if not route.form and not route.files:
            continue
        url = url_of(route, world)
        for name in route.form:
            for label, odd in {**REFUSED_TEXT, "huge": HUGE}.items():
                if label == "surrogate":
                    if not route.files:
                        continue  # urlencoded: see test_urlencoded_bytes_that_are_not_utf8…
                    odd = "a\ud800b".encode("utf-8", "surrogatepass")  # its bytes, raw
                what = f"form {name}={label}"
                s.expect_422(route, url, what, f"表单字段 {name}", **form_kwargs(route, name, odd))
            if route.path.endswith("login"):
                continue  # no failed sign-ins to count against the test's client
            for label, odd in PLAIN_ODD.items():
                s.send(route, url, f"form {name}={label}", **form_kwargs(route, name, odd))
        for name, _many in route.files:  # odd file names are neutralised, never a 5xx
            for label, odd in {**REFUSED_TEXT, "huge": "x" * 5000 + ".csv"}.items():
                if label == "surrogate":
                    continue  # a multipart header cannot carry it
                s.send(route, url, f"file name {label}", **form_kwargs(route, name, odd))
    assert not s.problems, "\n".join(s.problems)


def test_urlencoded_bytes_that_are_not_utf8_are_refused(world, routes):
    s = Session(world)
    for route in routes:
        if not route.form or route.files:
            continue
        url = url_of(route, world)
        for name in route.form:
            body = f"{name}=%ED%A0%80&" + "&".join(f"{n}=x" for n in route.form if n != name)
            headers = {"content-type": "application/x-www-form-urlencoded"}
            s.expect_422(route, url, f"form {name}=not utf-8", name, content=body, headers=headers)
    assert not s.problems, "\n".join(s.problems)


def test_an_odd_csrf_header_is_refused_not_a_crash(world, routes):
    s = Session(world)
    for route in routes:
        if route.method == "GET" or logs_out(route):
            continue
        for label, odd in {"chinese": "维修站", "control": "a\x7fb"}.items():
            headers = {"x-csrf-token": odd.encode("utf-8")}
            s.send(route, url_of(route, world), f"csrf header {label}", headers=headers)
    assert not s.problems, "\n".join(s.problems)
