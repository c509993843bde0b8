"""Serving the app under a sub-path: https://school.example/glassbox/ (GLASSBOX_ROOT_PATH).

The app answers at both `/glassbox/learn/cnn` and `/learn/cnn`, so a proxy may pass the
path on with its prefix or strip it (docs/deployment.md, "Under a sub-path"), and a
container's health check still finds `/healthz`. `uvicorn --root-path /glassbox` is
understood too (uvicorn then prefixes the path itself).

`BasePath`, outside every middleware but app.security's, hands the rest of the app the
path WITHOUT the prefix and an empty `root_path`, the very scope it gets at the site's
root: every middleware, route, limit (app.fairshare) and log reads the paths it always
did. The
prefix goes into the scope's `app_root_path`, which Starlette's `url_for` (static URLs),
its mounts (/static) and `base_path` below use to build the URLs a page sends out.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from fastapi import Request
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BASE_KEY = "app_root_path"  # Starlette's: the root of the app that url_for builds on


class BasePath:
    """ASGI middleware: strip `prefix` (or a server's root_path) from the path, keep
    it as the scope's `app_root_path`; `/glassbox` redirects to `/glassbox/`."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app, self.prefix = app, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        server_root = scope.get("root_path", "")
        prefix = self.prefix or server_root
        if not prefix:
            await self.app(scope, receive, send)
            return
        path, raw = scope["path"], scope.get("raw_path")
        if server_root and _under(path, server_root):  # uvicorn --root-path prefixed it
            path, raw = _strip(path, raw, server_root)
        if path == prefix and scope["type"] == "http":
            query = scope.get("query_string", b"").decode("latin-1")
            location = prefix + "/" + (f"?{query}" if query else "")
            await RedirectResponse(location, status_code=308)(scope, receive, send)
            return
        if _under(path, prefix):  # the proxy passed the prefix on
            path, raw = _strip(path, raw, prefix)
        # In place: ServerErrorMiddleware, outside every middleware, renders a 500 page
        # from this same scope.
        scope.update(path=path, root_path="", **{BASE_KEY: prefix})
        if raw is not None:
            scope["raw_path"] = raw
        await self.app(scope, receive, _prefixing_redirects(send, scope, prefix))


def _under(path: str, prefix: str) -> bool:
    return path.startswith(prefix) and path[len(prefix) : len(prefix) + 1] in ("/", "")


def _strip(path: str, raw: bytes | None, prefix: str) -> tuple[str, bytes | None]:
    """`path` and its `raw` form without `prefix` (URL-safe characters only: the same
    in both), "/" if nothing is left."""
    if raw is not None and raw.startswith(prefix.encode()):
        raw = raw[len(prefix) :] or b"/"
    return path[len(prefix) :] or "/", raw


def _prefixing_redirects(send: Send, scope: Scope, prefix: str) -> Send:
    """`send`, but a redirect to a path of this site without the prefix (Starlette's
    trailing-slash redirect builds one from the stripped path) gets the prefix."""
    host = Headers(scope=scope).get("host", "")

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
            headers = MutableHeaders(scope=message)
            location = headers.get("location")
            if location:
                url = urlsplit(location)
                same_site = not url.netloc or url.netloc == host
                if same_site and url.path.startswith("/") and not _under(url.path, prefix):
                    parts = (url.scheme, url.netloc, prefix + url.path, url.query, url.fragment)
                    headers["location"] = urlunsplit(parts)
        await send(message)

    return wrapped


def base_path(request: Request) -> str:
    """The path prefix of this app's URLs ("" at the site's root, "/glassbox" under
    GLASSBOX_ROOT_PATH=/glassbox): a page's links and scripts build on it."""
    return str(request.scope.get(BASE_KEY) or request.scope.get("root_path") or "")
