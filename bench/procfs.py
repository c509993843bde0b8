"""Reading a process tree's memory from Linux /proc (the benchmarks and the abuse tests
measure the server this way, its training processes included)."""

from __future__ import annotations

from pathlib import Path


def children(pid: int) -> list[int]:
    """The process ids whose parent is `pid` (from every thread's children list)."""
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
    return kids


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children(p)
    return out


def field_kb(path: str | Path, field: str) -> int:
    """The kB of `field` in a /proc file of "Name:  value kB" lines (status,
    smaps_rollup); 0 if the file or the field is not there (a process that ended)."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def status_kb(pid: int, field: str) -> int:
    """A field of /proc/PID/status in kB: VmRSS (resident now), VmHWM (its peak)."""
    return field_kb(f"/proc/{pid}/status", field)
