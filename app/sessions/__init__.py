"""Sessions: a network, its optimizer, a sample and a stepped pass, kept in a store."""

from app.sessions.service import SessionService

__all__ = ["SessionService"]
