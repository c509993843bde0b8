"""Session stores: one small interface, SQLite (default) and Redis backends."""

from app.store.base import SessionNotFound, SessionStore, StoredSession, VersionConflict, open_store

__all__ = ["SessionNotFound", "SessionStore", "StoredSession", "VersionConflict", "open_store"]
