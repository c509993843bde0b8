"""Glassbox engine: NumPy-only layers, networks, optimizers, data and the trace.

Imports only NumPy and the standard library, so it can be used from a notebook
without the web app.
"""

__version__ = "0.1.0"
