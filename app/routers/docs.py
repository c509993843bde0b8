"""/docs and /redoc served offline: the Swagger UI and ReDoc assets come from the
fastapi-offline package (installed by pip), never from a CDN."""

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(str(resources.files("fastapi_offline") / "static"))
router = APIRouter(include_in_schema=False)


@router.get("/docs")
def swagger() -> HTMLResponse:
    """Swagger UI for the OpenAPI schema."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Glassbox API",
        swagger_js_url="/docs-assets/swagger-ui-bundle.js",
        swagger_css_url="/docs-assets/swagger-ui.css",
        swagger_favicon_url="/docs-assets/favicon.png",
        swagger_ui_parameters={"validatorUrl": None},  # no calls to the online validator
    )


@router.get("/redoc")
def redoc() -> HTMLResponse:
    """ReDoc for the OpenAPI schema."""
    return get_redoc_html(
        openapi_url="/openapi.json",
        title="Glassbox API",
        redoc_js_url="/docs-assets/redoc.standalone.js",
        redoc_favicon_url="/docs-assets/favicon.png",
        with_google_fonts=False,
    )


def install(app: FastAPI) -> None:
    app.mount("/docs-assets", StaticFiles(directory=ASSETS), name="docs-assets")
    app.include_router(router)
