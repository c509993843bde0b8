"""Fair share (app/fairshare.py): who the client is, its token bucket of creates, its
heavy requests at once, its live sessions; each limit a 429 with Retry-After and a
message naming the limit and its setting."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.fairshare import Limiter, client_of, grouped, trusted_networks
from app.main import create_app
from app.settings import Settings

MOONS = {"dataset": "moons", "hidden": [4]}
SMALL_COMPARE = {"dataset": "moons", "hidden": [4], "lrs": [0.1], "epochs": 1}


def test_the_token_bucket_holds_a_minutes_creates_and_refills_at_that_rate():
    limiter = Limiter(creates_per_minute=3, heavy=1)
    assert [limiter.take("a", now=100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a", now=100.0) == pytest.approx(20.0)  # one token every 20 s
    assert limiter.take("b", now=100.0) == 0.0  # another client has its own bucket
    assert limiter.take("a", now=110.0) == pytest.approx(10.0)  # half a token so far
    assert limiter.take("a", now=120.0) == 0.0
    assert limiter.take("a", now=1000.0) == 0.0  # refilled, to the capacity at most
    assert [limiter.take("a", now=1000.0) for _ in range(3)][-1] > 0


def test_heavy_requests_are_counted_per_client_and_freed_when_they_end():
    limiter = Limiter(creates_per_minute=1, heavy=2)
    assert limiter.enter("a") and limiter.enter("a")
    assert not limiter.enter("a")
    assert limiter.enter("b")
    limiter.leave("a")
    assert limiter.enter("a")
    for _ in range(2):
        limiter.leave("a")
    limiter.leave("b")
    assert limiter.running == {}


def test_the_forwarded_address_counts_only_behind_a_trusted_proxy():
    nets = trusted_networks("10.0.0.0/8, 192.168.1.5")
    # no trusted proxy configured, or the peer is not one: the peer is the client
    assert client_of("10.1.1.1", "1.2.3.4", []) == "10.1.1.1"
    assert client_of("8.8.8.8", "1.2.3.4", nets) == "8.8.8.8"
    # behind the proxy: the rightmost hop that is not a trusted proxy
    assert client_of("10.1.1.1", "1.2.3.4", nets) == "1.2.3.4"
    assert client_of("10.1.1.1", "6.6.6.6, 1.2.3.4, 192.168.1.5", nets) == "1.2.3.4"
    # hops left of it could be written by the client: never taken
    assert client_of("10.1.1.1", "spoofed, 1.2.3.4", nets) == "1.2.3.4"
    assert client_of("10.1.1.1", "10.2.2.2", nets) == "10.2.2.2"  # all trusted: the first
    assert client_of("10.1.1.1", None, nets) == "10.1.1.1"


def test_a_bad_trusted_proxy_setting_is_refused_naming_it():
    with pytest.raises(ValueError, match="GLASSBOX_TRUSTED_PROXIES: 'nginx'"):
        trusted_networks("10.0.0.1, nginx")
    with pytest.raises(ValueError, match="GLASSBOX_TRUSTED_PROXIES"):
        create_app(Settings(trusted_proxies="not-an-address", warm_up=False))


@pytest.fixture
def app_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, warm_up=False, client_creates_per_minute=2,
                    client_sessions=3, client_heavy_requests=1,
                    trusted_proxies="10.0.0.1")  # fmt: skip


@pytest.fixture
def proxy(app_settings: Settings) -> Iterator[TestClient]:
    """The app as a trusted proxy at 10.0.0.1 reaches it."""
    with TestClient(create_app(app_settings), client=("10.0.0.1", 40000)) as c:
        yield c


def _create(c: TestClient, who: str) -> int:
    return c.post("/api/bp/sessions", json=MOONS, headers={"X-Forwarded-For": who}).status_code


def test_creates_beyond_a_clients_bucket_are_429_with_retry_after_naming_the_setting(proxy):
    assert [_create(proxy, "1.1.1.1") for _ in range(2)] == [201, 201]
    r = proxy.post("/api/sessions", json={"preset": "digits-cnn"},
                   headers={"X-Forwarded-For": "1.1.1.1"})  # fmt: skip
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 30  # a token every 30 s
    detail = r.json()["detail"]
    assert "1.1.1.1" in detail and "GLASSBOX_CLIENT_CREATES_PER_MINUTE" in detail
    assert r.json()["code"] == "too_many_creates"  # the page's catalog string, both languages
    assert set(r.json()["message"]) == {"en", "zh-CN"}
    assert _create(proxy, "2.2.2.2") == 201  # another student behind the proxy
    # steps and reads are not creates: they go on
    assert proxy.get("/api/presets", headers={"X-Forwarded-For": "1.1.1.1"}).status_code == 200


def test_a_clients_live_sessions_are_bounded_whatever_its_bucket_allows(app_settings):
    app_settings.client_creates_per_minute = 100
    with TestClient(create_app(app_settings), client=("10.0.0.1", 40000)) as c:
        assert [_create(c, "3.3.3.3") for _ in range(3)] == [201, 201, 201]
        r = c.post("/api/bp/sessions", json=MOONS, headers={"X-Forwarded-For": "3.3.3.3"})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
        assert "GLASSBOX_CLIENT_SESSIONS" in r.json()["detail"]
        assert "3 sessions" in r.json()["detail"]
        assert r.json()["code"] == "too_many_sessions"
        assert r.json()["message"]["zh-CN"] != r.json()["message"]["en"]
        assert _create(c, "4.4.4.4") == 201  # another client has its own count


def test_a_client_at_its_session_limit_gets_room_by_deleting_one(app_settings):
    app_settings.client_creates_per_minute = 100
    with TestClient(create_app(app_settings), client=("10.0.0.1", 40000)) as c:
        who = {"X-Forwarded-For": "6.6.6.6"}
        ids = [c.post("/api/bp/sessions", json=MOONS, headers=who).json()["id"] for _ in range(3)]
        assert _create(c, "6.6.6.6") == 429
        assert c.delete(f"/api/sessions/{ids[0]}").status_code in (200, 204)
        assert _create(c, "6.6.6.6") == 201
        for sid in ids[1:]:  # the others were never evicted
            assert c.get(f"/api/sessions/{sid}").status_code == 200


def test_a_client_with_a_heavy_request_running_gets_429_for_another(proxy):
    who = {"X-Forwarded-For": "7.7.7.7"}
    limiter = proxy.app.state.fairshare  # type: ignore[attr-defined]
    assert limiter.enter("7.7.7.7")  # as a compare or training of this client in progress
    try:
        r = proxy.post("/api/bp/compare", json=SMALL_COMPARE, headers=who)
        assert r.status_code == 429 and r.headers["Retry-After"] == "5"
        assert "GLASSBOX_CLIENT_HEAVY_REQUESTS" in r.json()["detail"]
        assert r.json()["code"] == "too_busy"
        r = proxy.post(
            "/api/bp/compare", json=SMALL_COMPARE, headers={"X-Forwarded-For": "8.8.8.8"}
        )
        assert r.status_code == 200  # another client is not held up
        assert proxy.get("/api/presets", headers=who).status_code == 200  # light: goes on
    finally:
        limiter.leave("7.7.7.7")
    assert proxy.post("/api/bp/compare", json=SMALL_COMPARE, headers=who).status_code == 200
    assert limiter.running == {}  # every heavy request let its place go when it ended


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(tmp_path):
    s = Settings(data_dir=tmp_path, warm_up=False, client_creates_per_minute=1)
    with TestClient(create_app(s), client=("10.0.0.1", 40000)) as c:
        assert _create(c, "1.1.1.1") == 201
        assert _create(c, "2.2.2.2") == 429  # the same peer, whatever it claims


def test_ipv6_addresses_count_by_their_64_network():
    """One host is given a whole /64: counted per address, it would be any number of
    clients."""
    assert grouped("2001:db8:1:2::5") == grouped("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert grouped("2001:db8:1:3::5") != grouped("2001:db8:1:2::5")
    assert grouped("10.0.0.7") == "10.0.0.7"
    assert grouped("testclient") == "testclient"
