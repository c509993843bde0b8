"""compose.yaml for a class: Redis with persistence, N app replicas, nginx with TLS in
front hashing each session to one replica.

No Docker daemon here (and no `docker compose config`): the file is parsed and its
services checked, and the proxy's configuration, rendered from the environment
compose.yaml gives it as nginx's official image renders it, is checked by the
local nginx (`nginx -t`) and then served for real, with a self-signed certificate,
in front of an app server. Only what cannot exist here differs: the upstream is that
app server instead of the service name `app` (Docker's DNS; `resolve` needs nginx
1.27.3, the image's 1.30, and this machine's may be older), and plain HTTP listens on
a free port instead of 80.
"""

from __future__ import annotations

import re
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.processes import ROOT, app_server, free_port, stop

COMPOSE = ROOT / "compose.yaml"
TEMPLATES = "/etc/nginx/templates/"
HOSTNAME = "glassbox.test"  # what GLASSBOX_HOSTNAME would be


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _env(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment with compose's ${VAR:-default} taken at their defaults."""
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment as a mapping"
    return {k: re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(v)) for k, v in env.items()}


def _proxy_env(compose: dict[str, Any]) -> dict[str, str]:
    """The proxy's environment as its templates see it: compose's, and what the image's
    entrypoint adds when NGINX_ENTRYPOINT_LOCAL_RESOLVERS=1 (the DNS servers of its
    /etc/resolv.conf: Docker's own)."""
    env = _env(compose["services"]["proxy"])
    assert env.pop("NGINX_ENTRYPOINT_LOCAL_RESOLVERS") == "1"
    return {**env, "NGINX_LOCAL_RESOLVERS": "127.0.0.11"}


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """target -> source of a service's bind mounts (short syntax)."""
    out = {}
    for spec in service.get("volumes", []):
        source, target, *_ = spec.split(":")
        out[target] = source
    return out


def _templates(compose: dict[str, Any]) -> dict[str, Path]:
    """The templates the proxy mounts in /etc/nginx/templates/, by their name there."""
    found = {}
    for target, source in _mounts(compose["services"]["proxy"]).items():
        if target.startswith(TEMPLATES):
            found[target.removeprefix(TEMPLATES)] = ROOT / source
    return found


def _render(text: str, env: dict[str, str]) -> str:
    """What the image's envsubst makes of a template: the GLASSBOX_* variables and
    NGINX_LOCAL_RESOLVERS (its NGINX_ENVSUBST_FILTER) replaced, every other $word kept."""
    keep = re.compile(compose_filter())
    unknown = [v for v in re.findall(r"\$\{(\w+)\}", text) if keep.match(v) and v not in env]
    assert not unknown, f"variables with no value in the proxy's environment: {unknown}"
    return re.sub(r"\$\{(\w+)\}", lambda m: env[m[1]] if keep.match(m[1]) else m[0], text)


def compose_filter() -> str:
    proxy = yaml.safe_load(COMPOSE.read_text())["services"]["proxy"]
    return _env(proxy)["NGINX_ENVSUBST_FILTER"]


def test_services_volumes_and_start_order(compose):
    services = compose["services"]
    assert set(services) == {"redis", "app", "proxy"}
    for name, service in services.items():  # pinned: a tag with a version, never latest
        image = service["image"]
        if name != "app":
            assert re.fullmatch(r"[a-z]+:\d+\.\d+\.\d+", image), image
        assert service["restart"] == "unless-stopped"

    redis = services["redis"]
    assert redis["command"][:3] == ["redis-server", "--appendonly", "yes"]
    assert _mounts(redis) == {"/data": "redis-data"} and "redis-data" in compose["volumes"]
    assert "PONG" in " ".join(redis["healthcheck"]["test"])

    app = services["app"]
    assert app["build"] == "." and app["depends_on"] == {"redis": {"condition": "service_healthy"}}
    assert re.fullmatch(r"\$\{GLASSBOX_REPLICAS:-\d+\}", str(app["deploy"]["replicas"]))
    env = _env(app)
    assert env["GLASSBOX_STORE"] == "redis://redis:6379/0"
    assert env["GLASSBOX_WORKERS"] == "1"  # a session's replica is one process
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert env["GLASSBOX_TRUSTED_PROXIES"] == re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", subnet)
    # the replica's health is its readiness (the store answers), on its port
    check = " ".join(app["healthcheck"]["test"])
    assert f"http://127.0.0.1:{env['GLASSBOX_PORT']}/readyz" in check
    # a stop: streams end at once ("stopping"), then the grace, within Docker's
    grace = int(str(app["stop_grace_period"]).removesuffix("s"))
    assert grace >= int(env["GLASSBOX_STOP_GRACE_S"]) + 5

    proxy = services["proxy"]
    assert proxy["depends_on"] == {"app": {"condition": "service_healthy"}}
    assert {p.split(":")[-1] for p in proxy["ports"]} == {"80", "443"}


def test_the_proxy_hashes_on_the_session_id_over_every_replica(compose):
    templates = _templates(compose)
    assert set(templates) == {"glassbox.conf.template", "default.conf.template"}
    for path in templates.values():
        assert path.is_file(), path
    assert templates["glassbox.conf.template"].name == "nginx-replicas.conf.template"
    env = _proxy_env(compose)
    assert "${GLASSBOX_HOSTNAME" in compose["services"]["proxy"]["environment"]["GLASSBOX_HOSTNAME"]
    conf = _render(templates["glassbox.conf.template"].read_text(), env)
    # the id from /api/sessions/{sid}/..., after any sub-path, hashed consistently
    found = re.search(r'"~(\^[^"]*/api/sessions/\(\?<glassbox_sid>[^"]+)"\s+\$glassbox_sid;', conf)
    assert found, conf
    pattern = re.compile(found.group(1).replace("?<", "?P<"))  # nginx's PCRE, as Python's
    for path, sid in (("/api/sessions/abc_-9/steps", "abc_-9"),
                      ("/glassbox/api/sessions/abc_-9", "abc_-9"),
                      ("/a/b/api/sessions/x1/train", "x1")):  # fmt: skip
        match = pattern.search(path)
        assert match and match.group("glassbox_sid") == sid, path
    assert not pattern.search("/api/sessions") and not pattern.search("/static/api.js")
    assert "hash $glassbox_route consistent;" in conf
    # every replica: the service `app` on its port, looked up again as replicas change
    port = _env(compose["services"]["app"])["GLASSBOX_PORT"]
    upstream = conf[conf.index("upstream glassbox {") :]
    upstream = upstream[: upstream.index("}")]
    assert re.search(rf"\bserver app:{port} resolve\b", upstream), upstream
    assert "zone glassbox" in upstream  # `resolve` needs the group in shared memory
    assert "listen 443 ssl;" in conf
    tls = _render(templates["default.conf.template"].read_text(), env)
    assert "resolver " in tls and "return 301 https://localhost:443$request_uri;" in tls


def _nginx() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if found is None:  # a failure, not a skip: the proxy config must not go untested
        pytest.fail("nginx is not installed: run scripts/setup --dev (apt-get install nginx)")
    return found


def _certificate(folder: Path) -> Path:
    """A self-signed certificate for HOSTNAME and 127.0.0.1, as docs/deployment.md
    makes one for a room's network."""
    folder.mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", f"/CN={HOSTNAME}", "-addext", f"subjectAltName=DNS:{HOSTNAME},IP:127.0.0.1",
         "-keyout", str(folder / "privkey.pem"), "-out", str(folder / "fullchain.pem")],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return folder / "fullchain.pem"


def _configure(compose: dict[str, Any], prefix: Path, app_url: str) -> tuple[Path, int, int]:
    """nginx.conf in `prefix` including the two rendered templates as the image does
    (conf.d/*.conf in the http block); returns it and its HTTP and HTTPS ports."""
    http, https = free_port(), free_port()
    env = _proxy_env(compose)
    env.update(GLASSBOX_HOSTNAME=HOSTNAME, NGINX_LOCAL_RESOLVERS="127.0.0.1",
               GLASSBOX_LISTEN=f"127.0.0.1:{https} ssl")  # fmt: skip
    here = app_url.removeprefix("http://")
    assert "server app:8000 resolve " in env["GLASSBOX_UPSTREAMS"]
    env["GLASSBOX_UPSTREAMS"] = env["GLASSBOX_UPSTREAMS"].replace(
        "server app:8000 resolve ", f"server {here} "
    )
    (prefix / "conf.d").mkdir(parents=True)
    for name, template in _templates(compose).items():
        text = _render(template.read_text(), env)
        if name == "default.conf.template":
            assert text.count("listen 80 default_server;") == 1
            text = text.replace("listen 80 ", f"listen 127.0.0.1:{http} ")
        (prefix / "conf.d" / name.removesuffix(".template")).write_text(text)
    temps = "".join(f"  {kind}_temp_path {prefix}/{kind}_temp;\n"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))  # fmt: skip
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"worker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log warn;\n"
        f"events {{ worker_connections 256; }}\nhttp {{\n  access_log off;\n{temps}"
        f"  include {prefix}/conf.d/*.conf;\n}}\n"
    )
    return conf, http, https


@pytest.fixture(scope="module")
def proxied(compose, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """An app server, and nginx in front of it with compose.yaml's configuration."""
    tmp = tmp_path_factory.mktemp("compose-proxy")
    prefix = tmp / "nginx"
    with app_server(tmp, {"GLASSBOX_WARM_UP": "false"}) as app_url:
        conf, http, https = _configure(compose, prefix, app_url)
        cert = _certificate(prefix / "certs")
        nginx = [_nginx(), "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")]
        check = subprocess.run([*nginx, "-t"], capture_output=True, text=True, timeout=30)
        proc = subprocess.Popen([*nginx, "-g", "daemon off;"], stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while (prefix / "nginx.pid").exists() is False and proc.poll() is None:
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)
            yield {"check": check, "http": f"http://127.0.0.1:{http}", "cert": cert,
                   "https": f"https://127.0.0.1:{https}", "proc": proc}  # fmt: skip
        finally:
            stop(proc)


def test_nginx_accepts_the_rendered_configuration(proxied):
    check = proxied["check"]
    assert check.returncode == 0, check.stderr
    assert "syntax is ok" in check.stderr and proxied["proc"].poll() is None


def test_http_moves_to_https_on_the_hostname(proxied):
    r = httpx.get(f"{proxied['http']}/learn/cnn?lang=zh-CN", trust_env=False, timeout=10)
    assert r.status_code == 301
    assert r.headers["location"] == f"https://{HOSTNAME}:443/learn/cnn?lang=zh-CN"


def test_https_reaches_the_app_and_a_training_streams_through(proxied):
    trust = ssl.create_default_context(cafile=str(proxied["cert"]))
    with httpx.Client(base_url=proxied["https"], verify=trust, trust_env=False, timeout=30) as c:
        ready = c.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        sid = c.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
        with c.stream("POST", f"/api/sessions/{sid}/train", json={"iterations": 3}) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            events = [line[7:] for line in r.iter_lines() if line.startswith("event: ")]
        assert events[0] == "start" and events[-1] == "done", events
