"""The local worker process: drains the local outbox beside `chalice local`, in a process of its own.

A drainer in a thread of the web process shares one interpreter lock with the routes, so under
load the two slow each other down (and the POSTs to the LRS wait for the lock between their
reads and writes); in a process of its own it does not. `chalice local` (LOCAL_WORKER=true)
starts it on its first request, from a supervising thread that waits for it and starts it again
should it end; it stops when `chalice local` goes, however that goes (Ctrl-C, SIGTERM, SIGKILL):
it watches its parent. What it leased and had
not settled is leased again later, as after any crash.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..localserver import tune_gc
from ..observability import log

# How often the worker looks for its parent: the bound on how long it outlives a killed one.
PARENT_CHECK_SECONDS = 0.5
# How long the supervisor waits before starting an ended worker again (a worker that cannot
# start at all is then retried once a second, each failure in the log, not in a tight loop).
RESTART_SECONDS = 1.0
PROJECT_DIR = Path(__file__).resolve().parents[2]  # where `python -m chalicelib` finds the package

_supervisor_lock = threading.Lock()
_supervisor: threading.Thread | None = None


def spawn() -> subprocess.Popen:
    """Start `python -m chalicelib worker --parent <this process>` with this process's settings."""
    command = [sys.executable, "-m", "chalicelib", "worker", "--parent", str(os.getpid())]
    process = subprocess.Popen(command, cwd=PROJECT_DIR, env=dict(os.environ), stdin=subprocess.DEVNULL)
    log("local_worker_started", pid=process.pid)
    return process


def supervise() -> threading.Thread:
    """A daemon thread that starts the worker process and, whenever it ends, starts it again. The
    thread that starts a process waits for it: a child is reliably reaped by its own creator."""
    thread = threading.Thread(target=_keep_running, name="local-worker-supervisor", daemon=True)
    thread.start()
    return thread


def ensure_supervised() -> None:
    """Start the supervisor (and so the worker process) once per process: `chalice local`'s first
    request that asks does; concurrent first requests start one, not one each."""
    global _supervisor
    with _supervisor_lock:
        if _supervisor is None:
            _supervisor = supervise()


def _keep_running() -> None:
    while True:
        process = spawn()
        code = process.wait()
        log("local_worker_ended", pid=process.pid, code=code)
        time.sleep(RESTART_SECONDS)


def serve(run: Callable[[threading.Event], None], parent: int | None) -> None:
    """Run the drain loop `run(stop)` until SIGINT/SIGTERM or, with `parent`, until that process is gone."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    if parent is not None:
        threading.Thread(target=_watch_parent, args=(parent, stop), name="parent-watch", daemon=True).start()
    log("local_worker_serving", pid=os.getpid())
    tune_gc()
    run(stop)
    log("local_worker_stopped", pid=os.getpid())


def _watch_parent(parent: int, stop: threading.Event) -> None:
    # Re-parented (to init or a subreaper) once the parent died: getppid() no longer names it.
    while not stop.wait(PARENT_CHECK_SECONDS):
        if os.getppid() != parent:
            stop.set()
