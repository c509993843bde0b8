"""Training away from the steps: a fair queue per worker and low-priority processes.

Training moves out of the worker that steps sessions: each uvicorn worker keeps
`train_workers` training processes (child.py, started by process.py) at a lower
CPU priority with one BLAS thread, and a fair queue (queue.py) that runs one
training per session at a time, first come first served across sessions. A
training that must wait says so in its stream ("queued" events with its place
and an expected start, estimate.py). Nothing here is imported by the child
but child.py itself, so a training process loads only NumPy and the engine.
"""
