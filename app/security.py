"""Security headers on every response, for a school network.

Everything a page loads comes from this app (no CDN, no inline script or style), so
its Content-Security-Policy allows this origin only: an injected <script> or style=""
does not run, the pages cannot be framed (clickjacking), and nothing is sent elsewhere.
A response that sets a header itself keeps it: /docs and /redoc set their own policy
(app/routers/docs.py).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# What a page may load. img-src data: is the page's empty favicon (<link rel="icon"
# href="data:,">); canvases draw their tensors themselves. Scripts set element.style
# (CSSOM), which style-src 'self' allows; a style="" attribute in markup it does not.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

# Sent with every response (a page's CSP is what matters; on JSON it is harmless).
HEADERS: dict[str, str] = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
    "Cross-Origin-Opener-Policy": "same-origin",
}


def security_headers(csp: str = PAGE_CSP) -> dict[str, str]:
    """The headers every response carries, with `csp` as its Content-Security-Policy."""
    return {**HEADERS, "Content-Security-Policy": csp}


class SecurityHeaders:
    """ASGI middleware: add HEADERS to every HTTP response that does not set them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
