"""The folders Glassbox writes must be writable before it serves: checked once at start.

A data folder the server cannot write (a host folder bind-mounted on /app/data that
root owns, a container run with `--user 4242:0`) used to leave a server that looked
up while its workers crash-looped on "unable to open database file". Here the start
stops at once instead, with a message naming the folder, the user and the fix:

    python -m app.datadir        # the serve path, before uvicorn starts its workers
    create_app()                 # plain `uvicorn app.main:app` too (app/main.py)

Exit code 3 is uvicorn's "the app could not start": its supervisor then stops
instead of starting the worker again.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from app.settings import Settings, get_settings

STARTUP_FAILURE = 3  # uvicorn.config.STARTUP_FAILURE
SQLITE = "sqlite:///"


def places(settings: Settings, metrics_dir: Path | None) -> list[tuple[str, Path]]:
    """The folders the server will write, each with the setting that names it: the
    SQLite store's folder (GLASSBOX_DATA_DIR unless GLASSBOX_STORE names another
    file) and the metrics folder (PROMETHEUS_MULTIPROC_DIR). A Redis store needs no
    folder of its own."""
    found: list[tuple[str, Path]] = []
    url = settings.store_url()
    if url.startswith(SQLITE):
        name = "GLASSBOX_STORE" if settings.store else "GLASSBOX_DATA_DIR"
        found.append((name, Path(url.removeprefix(SQLITE)).parent))
    if metrics_dir is not None:
        found.append(("PROMETHEUS_MULTIPROC_DIR", metrics_dir))
    return found


def _folder_problem(folder: Path) -> tuple[str, str] | None:
    """Why nothing can be written in `folder` (created if missing): (what, the
    system's reason), or None."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return "cannot be created", str(exc.strerror or exc)
    if not folder.is_dir():
        return "is not a folder", "a file is in its place"
    try:  # the real test: what access() says misses read-only mounts, ACLs, SELinux
        fd, probe = tempfile.mkstemp(prefix=".glassbox-write-check-", dir=folder)
    except OSError as exc:
        return "is not writable", str(exc.strerror or exc)
    os.close(fd)
    os.unlink(probe)
    return None


def _file_problem(path: Path) -> tuple[str, str] | None:
    """Why an existing store file cannot be opened for writing (a file an earlier run
    as another user left behind), or None. Opened for real, as SQLite will, and
    closed unchanged."""
    if not path.exists():
        return None
    try:
        os.close(os.open(path, os.O_RDWR))
    except OSError as exc:
        return "is not writable", str(exc.strerror or exc)
    return None


def _owner(path: Path) -> str:
    """Who owns `path` (or its nearest existing parent), for the message."""
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        st = path.stat()
    except OSError:
        return ""
    return f"; it belongs to uid {st.st_uid} gid {st.st_gid}, mode {st.st_mode & 0o7777:04o}"


def message(setting: str, path: Path, why: tuple[str, str]) -> str:
    """The start's stop message: the path, who we are, who owns it, and the fix."""
    uid, gid = os.getuid(), os.getgid()
    where = path.resolve()
    return (
        f"glassbox: {setting} {where} {why[0]} by uid {uid} gid {gid} "
        f"({why[1]}{_owner(where)}). "
        "Glassbox keeps its sessions and metrics there, so it does not start. Fix: make "
        f"the folder and its files writable for this user (on the host: chown -R {uid}:0 "
        "<host folder>; or chgrp -R 0 <host folder> && chmod -R g+rwX <host folder> for "
        "any uid of group 0, as OpenShift runs), or run as their owner (docker run --user "
        f"<uid>:0, compose user:), or set {setting} to a writable folder."
    )


def problem(settings: Settings | None = None, metrics_dir: Path | None = None) -> str | None:
    """The first folder or store file the server could not write, as its stop
    message; None when all is well. `metrics_dir` defaults to PROMETHEUS_MULTIPROC_DIR
    (checked only when set)."""
    settings = settings or get_settings()
    if metrics_dir is None and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    for setting, folder in places(settings, metrics_dir):
        why = _folder_problem(folder)
        if why is not None:
            return message(setting, folder, why)
    url = settings.store_url()
    if url.startswith(SQLITE):
        db = Path(url.removeprefix(SQLITE))
        for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            why = _file_problem(path)
            if why is not None:
                return message("GLASSBOX_STORE" if settings.store else "GLASSBOX_DATA_DIR",
                               path, why)  # fmt: skip
    return None


def require_writable(settings: Settings | None = None, metrics_dir: Path | None = None) -> None:
    """Stop the process (exit code 3, the message on stderr) if a folder the server
    writes is not writable."""
    why = problem(settings, metrics_dir)
    if why is not None:
        print(why, file=sys.stderr, flush=True)
        raise SystemExit(STARTUP_FAILURE)


def main() -> None:
    """`python -m app.datadir`: the check the serve path makes before uvicorn starts,
    with the metrics folder scripts/serve uses (PROMETHEUS_MULTIPROC_DIR, else
    <GLASSBOX_DATA_DIR>/metrics)."""
    settings = get_settings()
    metrics = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or str(settings.data_dir / "metrics")
    require_writable(settings, Path(metrics))


if __name__ == "__main__":
    main()
