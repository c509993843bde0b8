"""The `glassbox` command: serve Glassbox with uvicorn, from any folder.

What scripts/serve (and so scripts/run and the container) runs: uvicorn with its worker
processes, one BLAS thread each, an empty prometheus-client metrics directory (so that
/metrics sums the workers), long keep-alive, a grace period on stop and no `server`
header. `--host/--port/--workers` override GLASSBOX_HOST/PORT/WORKERS, whose defaults
are app.settings.Settings' (docs/deployment.md lists every variable and its default).
Other arguments go to uvicorn (`uvicorn --help`): `glassbox --log-level warning`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pydantic import ValidationError

from app import __version__
from app.datadir import require_writable
from app.settings import Settings

# Variables read here only, for uvicorn (their defaults, with every other one's, are in
# docs/deployment.md's settings table).
KEEP_ALIVE_VAR, KEEP_ALIVE_DEFAULT = "GLASSBOX_KEEP_ALIVE_S", "75"
STOP_GRACE_VAR, STOP_GRACE_DEFAULT = "GLASSBOX_STOP_GRACE_S", "5"
ASGI_APP_VAR, ASGI_APP_DEFAULT = "GLASSBOX_ASGI_APP", "app.main:app"
# One BLAS thread per worker: small tensors get slower with more, and the workers
# already use the cores. Set before uvicorn starts a worker, so before any NumPy loads.
BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _parser(settings: Settings) -> argparse.ArgumentParser:
    keep_alive = os.environ.get(KEEP_ALIVE_VAR, KEEP_ALIVE_DEFAULT)
    stop_grace = os.environ.get(STOP_GRACE_VAR, STOP_GRACE_DEFAULT)
    asgi_app = os.environ.get(ASGI_APP_VAR) or ASGI_APP_DEFAULT
    p = argparse.ArgumentParser(
        prog="glassbox",
        allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve Glassbox (the web app) with uvicorn on http://HOST:PORT/.",
        epilog=f"""\
Each option has its environment variable; an option given wins over it. Also read:
  GLASSBOX_DATA_DIR  where sessions and metrics are kept; a relative path is relative
      to the folder glassbox starts in (now {settings.data_dir.resolve()})
  {KEEP_ALIVE_VAR}  seconds an idle connection stays open (now {keep_alive})
  {STOP_GRACE_VAR}  seconds open requests get to finish on stop (SIGTERM, Ctrl-C)
      (now {stop_grace})
  {ASGI_APP_VAR}  the ASGI app to serve, module:attribute (now {asgi_app})
  PROMETHEUS_MULTIPROC_DIR  the workers' metric files (default: the data folder's
      metrics/, emptied of *.db files at each start)
  GLASSBOX_*  every other setting and limit of the app
Glassbox's docs/deployment.md lists them all with their defaults. Any other argument
goes to uvicorn (uvicorn --help): glassbox --log-level warning
""",
    )
    p.add_argument("--host", default=settings.host,
                   help=f"address to bind (GLASSBOX_HOST; now {settings.host})")  # fmt: skip
    p.add_argument("--port", type=int, default=settings.port,
                   help=f"port to listen on (GLASSBOX_PORT; now {settings.port})")  # fmt: skip
    p.add_argument("--workers", type=int, default=settings.workers,
                   help="worker processes, about one per core "
                   f"(GLASSBOX_WORKERS; now {settings.workers})")  # fmt: skip
    p.add_argument("--root-path", default=settings.root_path,
                   help="the path it is served under, e.g. /glassbox for "
                   "https://school.example/glassbox/ (GLASSBOX_ROOT_PATH; now "
                   f"{settings.root_path or 'none'})")  # fmt: skip
    p.add_argument("--version", action="version", version=f"glassbox {__version__}")
    return p


def _seconds(var: str, default: str) -> str:
    value = os.environ.get(var, default)
    if not value.isdigit():
        raise SystemExit(f"glassbox: {var} must be a whole number of seconds, not {value!r}")
    return value


def _metrics_dir(settings: Settings) -> Path:
    """PROMETHEUS_MULTIPROC_DIR, emptied of metric files: it must start empty on each
    run (only *.db files go, in case it was set to a shared directory). First the
    folders the server writes are checked (app/datadir.py): one it cannot write stops
    the start here, with a message naming the folder, the uid and the fix."""
    path = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.data_dir / "metrics")
    require_writable(settings, path)
    for old in path.glob("*.db"):
        if old.is_file():
            old.unlink()
    return path.resolve()


def uvicorn_args(argv: list[str] | None = None) -> list[str]:
    """uvicorn's command line for `glassbox ARGS`, after the environment for the
    workers is set (BLAS threads, the final GLASSBOX_HOST/PORT/WORKERS, the metrics
    directory). Exits with a message on a bad option or setting."""
    try:
        settings = Settings()
    except ValidationError as err:
        raise SystemExit(f"glassbox: a GLASSBOX_* setting is invalid:\n{err}") from None
    parser = _parser(settings)
    args, rest = parser.parse_known_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port (GLASSBOX_PORT) must be 1-65535, not {args.port}")
    if args.workers < 1:
        parser.error(f"--workers (GLASSBOX_WORKERS) must be at least 1, not {args.workers}")
    try:  # normalised and checked as the workers will ("glassbox/" is "/glassbox")
        args.root_path = Settings(root_path=args.root_path).root_path
    except ValidationError as err:
        parser.error(f"--root-path (GLASSBOX_ROOT_PATH): {err.errors()[0]['msg']}")
    keep_alive = _seconds(KEEP_ALIVE_VAR, KEEP_ALIVE_DEFAULT)
    stop_grace = _seconds(STOP_GRACE_VAR, STOP_GRACE_DEFAULT)

    os.environ.update(dict.fromkeys(BLAS_VARS, "1"))
    # The workers read their settings again: they see what this command resolved.
    os.environ.update(
        GLASSBOX_HOST=args.host,
        GLASSBOX_PORT=str(args.port),
        GLASSBOX_WORKERS=str(args.workers),
        GLASSBOX_ROOT_PATH=args.root_path,  # the app's setting, not uvicorn's --root-path: it
    )  # also puts the prefix in the OpenAPI schema (Swagger's "Try it out")
    if os.getgid() == 0:  # the image's users: files it makes are group-writable, so any
        os.umask(0o002)  # uid of group 0 can take over a data folder another one wrote
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_metrics_dir(settings))
    return [
        os.environ.get(ASGI_APP_VAR) or ASGI_APP_DEFAULT,
        *("--host", args.host, "--port", str(args.port), "--workers", str(args.workers)),
        *("--timeout-keep-alive", keep_alive, "--timeout-graceful-shutdown", stop_grace),
        "--no-server-header",
        *rest,
    ]


def main(argv: list[str] | None = None) -> None:
    """Serve until stopped (the `glassbox` console command)."""
    args = uvicorn_args(argv)
    from uvicorn.main import main as uvicorn_main  # after the environment is set

    uvicorn_main.main(args=args, prog_name="glassbox (uvicorn)")


if __name__ == "__main__":
    main(sys.argv[1:])
