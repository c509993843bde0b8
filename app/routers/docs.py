"""/docs and /redoc served offline: the Swagger UI and ReDoc assets come from the
fastapi-offline package (installed by pip), never from a CDN, and under the pages'
Content-Security-Policy: no inline script or style (FastAPI's own pages have both).

Swagger UI and ReDoc start from scripts of ours (static/js/docs-swagger.js,
docs-redoc.js). ReDoc's styles are <style> elements it writes as it renders: they carry
a nonce, new for each response, that only /redoc's policy allows (never 'unsafe-inline'),
and its search index is built in a worker made from a blob: URL. Its bundle is served
patched (`REDOC_PATCHES`): no logo from cdn.redoc.ly, and the nonce on the styles it
writes as it loads, before the page's script can hand it over.
"""

import hashlib
import logging
import secrets
from functools import lru_cache
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from app import __version__
from app.security import PAGE_CSP, security_headers
from app.subpath import base_path
from app.templating import STATIC_DIR, templates

ASSETS = Path(str(resources.files("fastapi_offline") / "static"))
router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

NO_LOGO = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E"
# (what, replaced by) in ReDoc's bundle; tests/app/test_security.py checks each applies.
REDOC_PATCHES = (
    # the image beside "API docs by Redocly" in the sidebar, from a CDN
    ('"https://cdn.redoc.ly/redoc/logo-mini.svg"', f'"{NO_LOGO}"'),
    # webpack's nonce for the <style> elements the bundle adds while it loads: the one
    # its <script> tag carries (ReDoc's `nonce` option sets it again when it starts)
    ("n.nc=void 0;", "n.nc=(document.currentScript||{}).nonce||void 0;"),
)

# Our own files among the docs' assets (/docs-assets/<name>).
OWN_ASSETS = {
    "glassbox-swagger.js": STATIC_DIR / "js" / "docs-swagger.js",
    "glassbox-redoc.js": STATIC_DIR / "js" / "docs-redoc.js",
    "glassbox-docs.css": STATIC_DIR / "css" / "docs.css",
}


def _page(request: Request, name: str, csp: str = PAGE_CSP, **context: str) -> HTMLResponse:
    base = base_path(request)
    context |= {"assets": f"{base}/docs-assets", "openapi_url": f"{base}/openapi.json",
                "version": __version__}  # fmt: skip
    return templates.TemplateResponse(request, name, context, headers=security_headers(csp))


@router.get("/docs")
def swagger(request: Request) -> HTMLResponse:
    """Swagger UI for the OpenAPI schema."""
    return _page(request, "swagger.html")


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc for the OpenAPI schema."""
    nonce = secrets.token_urlsafe(18)
    csp = PAGE_CSP.replace("style-src 'self'", f"style-src 'self' 'nonce-{nonce}'")
    return _page(request, "redoc.html", f"{csp}; worker-src 'self' blob:", nonce=nonce)


@lru_cache(maxsize=1)
def redoc_bundle() -> tuple[bytes, str]:
    """ReDoc's script with REDOC_PATCHES applied, and its ETag."""
    text = (ASSETS / "redoc.standalone.js").read_text(encoding="utf-8")
    for old, new in REDOC_PATCHES:
        if old not in text:  # another ReDoc: /redoc would show a CSP violation
            log.warning("ReDoc's bundle has no %r to patch: /redoc may break its policy", old)
        text = text.replace(old, new)
    body = text.encode("utf-8")
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@router.get("/docs-assets/redoc.standalone.js")
def redoc_script(request: Request) -> Response:
    """ReDoc's bundle as fastapi-offline ships it, with REDOC_PATCHES applied."""
    body, etag = redoc_bundle()
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, media_type="text/javascript", headers={"ETag": etag})


@router.get("/docs-assets/glassbox-{name}")
def own_asset(name: str) -> FileResponse:
    """The scripts that start Swagger UI and ReDoc, the docs pages' style sheet."""
    path = OWN_ASSETS.get(f"glassbox-{name}")
    if path is None:
        raise LookupError(f"no docs asset glassbox-{name}")
    return FileResponse(path)


def install(app: FastAPI) -> None:
    app.include_router(router)  # before the mount: its routes replace a file or add one
    app.mount("/docs-assets", StaticFiles(directory=ASSETS), name="docs-assets")
