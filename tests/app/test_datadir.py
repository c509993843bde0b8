"""A data folder the server cannot write stops its start at once, saying why
(app/datadir.py): no server that looks up while its workers crash-loop on "unable to
open database file".

The servers here run as uid 4242 gid 0, as `docker run --user 4242:0` would, on
folders root owns. The tests run as root, whose own Python lives under /root (mode
0700): the server process keeps one capability, CAP_DAC_READ_SEARCH (read any file,
enter any folder), so it can load Python and the app, and nothing else: what it may
write is decided by the folder's owner and mode as for any user.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.processes import ROOT, free_port

UID, GID = 4242, 0
CAP_DAC_READ_SEARCH = 2
PR_SET_KEEPCAPS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE = 8, 47, 2
CAP_VERSION_3 = 0x20080522

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become uid 4242")


def as_user(uid: int = UID, gid: int = GID) -> Callable[[], None]:
    """A preexec_fn: become uid:gid (no other groups) keeping only CAP_DAC_READ_SEARCH,
    also across exec (an ambient capability)."""

    def drop() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_KEEPCAPS)")
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        bit = 1 << CAP_DAC_READ_SEARCH
        header = (ctypes.c_uint32 * 2)(CAP_VERSION_3, 0)
        data = (ctypes.c_uint32 * 6)(bit, bit, bit, 0, 0, 0)  # effective, permitted, inheritable
        if libc.capset(header, data) != 0:
            raise OSError(ctypes.get_errno(), "capset")
        if libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_DAC_READ_SEARCH, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAP_AMBIENT_RAISE)")

    return drop


def run_as_user(
    cmd: list[str], data: Path, timeout: float = 60, uid: int = UID
) -> tuple[int, str, float]:
    """Run `cmd` in the repository as `uid` (4242) gid 0 with GLASSBOX_DATA_DIR=data; its
    exit code, its output (stdout and stderr) and the seconds it took."""
    skip = ("GLASSBOX_", "PROMETHEUS_MULTIPROC_DIR")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    env.update(GLASSBOX_DATA_DIR=str(data), GLASSBOX_PORT=str(free_port()),
               GLASSBOX_HOST="127.0.0.1", OPENBLAS_NUM_THREADS="1")  # fmt: skip
    t0 = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=as_user(uid))  # fmt: skip
    return done.returncode, done.stdout + done.stderr, time.monotonic() - t0


def root_owned(folder: Path, mode: int) -> Path:
    folder.mkdir(parents=True)
    os.chown(folder, 0, 0)
    folder.chmod(mode)
    return folder


def test_plain_uvicorn_on_a_root_owned_folder_stops_at_once_naming_path_uid_and_fix(tmp_path):
    data = root_owned(tmp_path / "data", 0o755)  # a host folder as root made it
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)]
    code, out, took = run_as_user(cmd, data)

    assert code == 3, out  # uvicorn's "the app could not start"
    assert f"GLASSBOX_DATA_DIR {data} is not writable by uid {UID} gid {GID}" in out, out
    assert "Permission denied" in out and "belongs to uid 0 gid 0, mode 0755" in out
    assert f"chown -R {UID}:0 <host folder>" in out and "--user <uid>:0" in out
    assert "unable to open database file" not in out
    assert "Application startup complete" not in out
    assert took < 20


def test_glassbox_with_two_workers_on_a_read_only_folder_stops_before_any_worker(tmp_path):
    data = root_owned(tmp_path / "data", 0o555)
    glassbox = Path(sys.executable).parent / "glassbox"
    code, out, took = run_as_user([str(glassbox), "--workers", "2"], data)

    assert code == 3, out
    assert f"GLASSBOX_DATA_DIR {data} is not writable by uid {UID} gid {GID}" in out, out
    assert "mode 0555" in out
    # the check ran before uvicorn: no supervisor, no worker started (and died)
    assert "Started parent process" not in out and "Started server process" not in out
    assert took < 10


def test_a_group_0_folder_serves_any_uid_of_group_0_if_its_files_are_group_writable(tmp_path):
    """OpenShift style: the folder belongs to 10001:0, mode 2775 (as the image makes
    /app/data); uid 4242 of group 0 may use it, unless a store file another uid left
    is not group-writable (SQLite makes its files 0644): then the start stops, saying
    so, until `chmod -R g+rwX` makes it so."""
    data = tmp_path / "data"
    data.mkdir()
    os.chown(data, 10001, 0)
    data.chmod(0o2775)
    check = [sys.executable, "-m", "app.datadir"]

    code, out, _ = run_as_user(check, data)
    assert (code, out) == (0, ""), out

    db = data / "sessions.db"
    db.write_bytes(b"")
    os.chown(db, 10001, 0)
    db.chmod(0o644)  # made by uid 10001 with umask 0022
    code, out, _ = run_as_user(check, data)
    assert code == 3
    assert f"GLASSBOX_DATA_DIR {db} is not writable by uid {UID} gid {GID}" in out, out
    assert "belongs to uid 10001 gid 0, mode 0644" in out

    db.chmod(0o664)  # the fix the message gives: chmod -R g+rwX
    code, out, _ = run_as_user(check, data)
    assert (code, out) == (0, ""), out


def test_what_glassbox_writes_as_one_uid_of_group_0_another_can_take_over(tmp_path):
    """The image's user (10001:0) starts glassbox on a fresh 2775 folder: the metrics
    folder (umask 002) and the database (made group-writable: SQLite ignores the umask;
    its -wal and -shm take its mode) are then writable by any uid of group 0, so a
    later run as 4242:0 starts without a chmod."""
    data = tmp_path / "data"
    data.mkdir()
    os.chown(data, 10001, 0)
    data.chmod(0o2775)
    first = ("from app.cli import uvicorn_args; from app.settings import Settings; "
             "from app.store import open_store; uvicorn_args([]); s = Settings(); "
             "open_store(s.store_url(), 60, 10)")  # fmt: skip
    code, out, _ = run_as_user([sys.executable, "-c", first], data, uid=10001)
    assert code == 0, out
    made = {p.name: p.stat() for p in [data / "metrics", *data.glob("sessions.db*")]}
    assert {"metrics", "sessions.db"} <= set(made), made  # (-wal, -shm go with the last close)
    for name, st in made.items():
        assert st.st_uid == 10001 and st.st_mode & 0o060 == 0o060, (name, oct(st.st_mode))

    code, out, _ = run_as_user([sys.executable, "-m", "app.datadir"], data)  # uid 4242
    assert (code, out) == (0, ""), out
