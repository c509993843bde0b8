"""Session stores: one small interface, SQLite (default) and Redis backends."""

from app.store.base import (
    SessionNotFound,
    SessionStore,
    StoredSession,
    StoreUnavailable,
    VersionConflict,
    on_store_error,
    open_store,
)

__all__ = [
    "SessionNotFound",
    "SessionStore",
    "StoreUnavailable",
    "StoredSession",
    "VersionConflict",
    "on_store_error",
    "open_store",
]
