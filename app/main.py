"""Build the FastAPI app: static files, pages, the JSON API, error handling."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from threadpoolctl import threadpool_limits

from app import __version__, errors, fairshare, http_rules, observability, pools, security, subpath
from app.classes.service import ClassService
from app.datadir import require_writable
from app.limits import document_limits
from app.openapi_links import link_sessions
from app.routers import (
    bp,
    classes,
    docs,
    edits,
    health,
    lab,
    lessons,
    pages,
    presets,
    rules,
    sessions,
)
from app.sessions import SessionService
from app.sessions.preset_source import warm_up
from app.settings import Settings, get_settings
from app.store import open_store
from app.templating import STATIC_DIR
from app.training.queue import TrainingQueue
from engine.runtime import tune_allocator

TAGS = [
    {"name": "presets", "description": "The networks on offer."},
    {"name": "sessions", "description": "Step a network forward, backward and through the "
     "update; read any tensor; ask where a number comes from."},
    {"name": "lab", "description": "Gradient descent on 2-D loss surfaces."},
    {"name": "classes", "description": "A live class: the teacher steps, students' pages "
     "follow over Server-Sent Events, the class answers questions the server checks."},
    {"name": "health", "description": "Liveness."},
]  # fmt: skip


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new Glassbox app with its own session store. /docs and /redoc are served
    from local assets (FastAPI's defaults load them from a CDN)."""
    settings = settings or get_settings()
    require_writable(settings)  # a data folder it cannot write stops the start, saying why
    # One BLAS thread per worker process (small tensors get slower with more) and
    # freed tensor memory kept for reuse (see engine.runtime).
    threadpool_limits(limits=1, user_api="blas")
    tune_allocator()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.warm_up:
            warm_up(settings.limits)  # before this worker takes its first request
        app.state.training.start()  # its runners; each starts a process at its first training
        yield
        app.state.training.close()
        app.state.classes.hub.close()
        app.state.sessions.store.close()

    app = FastAPI(
        title="Glassbox",
        version=__version__,
        description="Step inside neural networks: every tensor of every step, as JSON.",
        openapi_tags=TAGS,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # Under GLASSBOX_ROOT_PATH the API is at /glassbox/api/... (app/subpath.py).
        servers=[{"url": settings.root_path}] if settings.root_path else None,
    )
    if settings.store_url().startswith("sqlite:///"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.store_url(), settings.session_ttl_seconds, settings.max_sessions)
    app.state.sessions = SessionService(store, settings)
    app.state.training = TrainingQueue(app.state.sessions, settings)
    classes.install(app, ClassService(app.state.sessions, settings))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:  # built once, with this app's limits and links
            schema = document_limits(FastAPI.openapi(app), settings.limits)
            app.openapi_schema = link_sessions(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
    app.state.settings = settings
    errors.install(app)
    pools.install(app, settings)  # thread pools; a request whose client left stops
    app.add_middleware(http_rules.HttpRules)  # HEAD, JSON-only writes, finite numbers
    app.add_middleware(errors.BodyLimit, max_bytes=settings.limits.max_body_bytes)
    fairshare.install(app, settings)  # per-client limits (429), inside the request log
    observability.install(app, settings)  # outside BodyLimit: a 413 is timed and has an id
    app.add_middleware(subpath.BasePath, prefix=settings.root_path)  # /glassbox/... (or not)
    app.add_middleware(security.SecurityHeaders)  # outermost: CSP, nosniff, ... on every answer
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    docs.install(app)
    routers = (health, presets, rules, sessions, edits, lab, bp, classes, lessons, pages)
    for router in (r.router for r in routers):
        app.include_router(router)
    app.include_router(classes.pages)
    return app


app = create_app()
