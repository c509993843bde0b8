"""Training away from the steps: a fair queue per worker and low-priority processes.

Training moves out of the worker that steps sessions: each uvicorn worker keeps
`train_workers` training processes (child.py, started by process.py) at a lower
CPU priority with one BLAS thread, and a fair queue (queue.py) that runs one
training per session at a time, first come first served across sessions. A
training that must wait says so in its stream ("queued" events with its place
and an expected start, estimate.py). A compare of learning rates
(POST /api/bp/compare) is a job of the same queue (compare_job.py). When the server
is told to stop (signals.py), every stream ends with a "stopping" event. Nothing here is
imported by the child but child.py and compare_job.py, so a training process loads
only NumPy and the engine.
"""
