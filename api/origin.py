"""Requests that change something must come from this site's own pages, not another site's.

A page on another site can make the victim's browser post this site's sign-in form: the
browser would then be signed in as the attacker (login CSRF), and whatever the victim
uploads or corrects next lands in the attacker's account. The CSRF token cannot help there
(there is no session yet), so the browser's own statement of where a request comes from is
checked (OWASP CSRF Prevention Cheat Sheet, "Verifying Origin With Standard Headers";
OWASP ASVS 4.0 V13.2.3 / V3.5.3):

- which requests: every POST, PUT, PATCH and DELETE to a sign-in address (`/login`,
  `/api/login`), and every one that carries the session cookie (defence in depth beside
  the CSRF token, which those need as well: api.deps);
- the source: the `Origin` header; without it, the `Referer`; a request with neither
  (scripts, curl, old browsers) is let through, its other checks still apply. `Origin:
  null` (a sandboxed frame, or a page that hid its address with `Referrer-Policy:
  no-referrer`) and anything that is not an http(s) address are refused;
- the target: the `Host` the request was sent to and, only when the service trusts a
  reverse proxy (`formdesk serve --forwarded-allow-ips`, `Settings.trust_forwarded_host`),
  the first `X-Forwarded-Host` that proxy set. A browser cannot add X-Forwarded-Host to a
  cross-site form post (it is no CORS-safelisted header), so it can only widen the target
  for what the proxy says;
- compared: host and port, case-insensitive, the default ports 80 and 443 dropped (a
  proxy that passes `Host: forms.example.com:443` matches `Origin:
  https://forms.example.com`). The scheme is not compared: behind a TLS proxy without
  X-Forwarded-Proto the service sees http for https pages of the same host.

A refused request gets 403 with a Chinese reason before any route (or the body parser)
runs.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from .sessions import COOKIE

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SIGN_IN_PATHS = frozenset({"/login", "/api/login"})
_DEFAULT_PORTS = (":80", ":443")


def host_key(host: str) -> str:
    """`host[:port]` as compared: lower case, no trailing dot, no default port."""
    host = host.strip().lower()
    for port in _DEFAULT_PORTS:
        if host.endswith(port):
            host = host[: -len(port)]
            break
    return host.rstrip(".")


def source_host(headers: dict[str, str]) -> str | None:
    """The `host[:port]` the request says it comes from (Origin, else Referer): "" when
    it says something that is no http(s) address (`null` included); None when it says
    nothing."""
    source = headers.get("origin")
    if source is None:
        source = headers.get("referer")
        if not source:
            return None
    try:
        parts = urlsplit(source.strip())
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    netloc = parts.netloc.rpartition("@")[2]  # user:password@ is no part of a site
    return host_key(netloc)


def target_hosts(headers: dict[str, str], trust_forwarded_host: bool) -> set[str]:
    """The `host[:port]` names this request was sent to (see the module doc)."""
    hosts = {host_key(headers.get("host", ""))}
    forwarded = headers.get("x-forwarded-host")
    if trust_forwarded_host and forwarded:
        hosts.add(host_key(forwarded.split(",")[0]))
    return hosts - {""}


def needs_check(scope: Scope, headers: dict[str, str]) -> bool:
    """A request that changes something and signs in or carries the session cookie."""
    if scope["method"] not in UNSAFE:
        return False
    if scope["path"] in SIGN_IN_PATHS:
        return True
    return COOKIE in cookie_parser(headers.get("cookie", ""))


def refusal(scope: Scope, trust_forwarded_host: bool) -> str | None:
    """The Chinese reason this request is refused for, or None if it may go on."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    if not needs_check(scope, headers):
        return None
    source = source_host(headers)
    if source is None or source in target_hosts(headers, trust_forwarded_host):
        return None
    shown = source[:80] if source and source.isprintable() else "不明"
    return f"拒绝来自其他网站的请求(来源:{shown}):请在本站的页面上操作"


class SameOrigin:
    """ASGI middleware: refusal() checked before anything else reads the request."""

    def __init__(self, app: ASGIApp, trust_forwarded_host: bool = False):
        self.app = app
        self.trust_forwarded_host = trust_forwarded_host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        reason = refusal(scope, self.trust_forwarded_host) if scope["type"] == "http" else None
        if reason is None:
            await self.app(scope, receive, send)
            return
        body = json.dumps({"reason": reason, "status": 403}, ensure_ascii=False).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
