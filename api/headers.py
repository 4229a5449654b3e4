"""Headers every answer of the service carries, whatever route or error produced it.

- `X-Content-Type-Options: nosniff`: browsers take the declared type, so an uploaded file
  is never run as HTML or script by content sniffing (WHATWG Fetch §3.5 / OWASP Secure
  Headers Project);
- `Referrer-Policy: same-origin`: record ids in page addresses are not sent to other sites;
- `X-Frame-Options: DENY`: no other site can frame the pages (clickjacking, RFC 7034).
A route that sets one of these itself keeps its own value.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """ASGI middleware adding HEADERS to every HTTP response start."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in HEADERS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
