from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from app.store.base import SessionStore
from app.store.redis import RedisStore
from app.store.sqlite import SQLiteStore

# `redis_url` (a real redis-server for the whole test session) is in tests/app/conftest.py.

BACKENDS = ["sqlite", "redis"]

StoreFactory = Callable[..., SessionStore]


@pytest.fixture(params=BACKENDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Build stores of the parametrised backend, all on the same (fresh) data."""
    made: list[SessionStore] = []
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        with redis.Redis.from_url(url) as client:
            client.flushdb()

        def make(ttl_seconds: int = 3600, max_sessions: int = 1000) -> SessionStore:
            made.append(RedisStore(url, ttl_seconds, max_sessions))
            return made[-1]
    else:
        path = tmp_path / "db" / "sessions.db"

        def make(ttl_seconds: int = 3600, max_sessions: int = 1000) -> SessionStore:
            made.append(SQLiteStore(path, ttl_seconds, max_sessions))
            return made[-1]

    yield make
    for store in made:
        store.close()


@pytest.fixture
def store(make_store: StoreFactory) -> SessionStore:
    return make_store()
