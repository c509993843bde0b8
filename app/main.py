"""Build the FastAPI app: static files, pages and the JSON routes."""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from threadpoolctl import threadpool_limits

from app import __version__
from app.routers import health, pages
from app.templating import STATIC_DIR
from engine.runtime import tune_allocator


def create_app() -> FastAPI:
    """A new Glassbox app. Docs are off: FastAPI's default pages load assets from a CDN."""
    # One BLAS thread per worker process (small tensors get slower with more) and
    # freed tensor memory kept for reuse (see engine.runtime).
    threadpool_limits(limits=1, user_api="blas")
    tune_allocator()
    app = FastAPI(title="Glassbox", version=__version__, docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(health.router)
    app.include_router(pages.router)
    return app


app = create_app()
