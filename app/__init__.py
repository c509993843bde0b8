"""Glassbox web app: FastAPI routes, settings and the UI string catalog."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("glassbox")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

# Before NumPy loads its BLAS: one thread per worker process (small tensors get
# slower with more threads; see engine.runtime).
from engine.runtime import pin_blas_threads  # noqa: E402

pin_blas_threads()
