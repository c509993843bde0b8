"""Process-level settings that make small-tensor NumPy work fast.

Called explicitly by the web app and the benchmark at start-up; importing the
engine changes nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_allocator(mmap_threshold: int = 64 << 20, trim_threshold: int = 256 << 20) -> bool:
    """Keep freed tensor memory in the heap instead of returning it to the OS.

    By default glibc serves every block over ~128 KB with a fresh mmap and unmaps
    it on free, so each pass pays a page fault per 4 KB of every new tensor; at
    batch 32 that was a third of the classroom CNN's time. Returns False where
    there is no glibc (the setting is then simply not applied).
    """
    if os.name != "posix":
        return False
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = mallopt(_M_MMAP_THRESHOLD, mmap_threshold) == 1
    return mallopt(_M_TRIM_THRESHOLD, trim_threshold) == 1 and ok


def pin_blas_threads(n: int = 1) -> None:
    """One BLAS thread per worker: small tensors get slower with more (measured
    1.3-4x), and tail latency collapses when another process holds a core.
    Effective for libraries loaded after this call; threadpoolctl covers the rest."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(n))
