"""The scheduled functions' work on AWS: one sync of a platform or named connection (app.sync_<name>)
and the expiry sweep (app.expiry_sweep). Each stops before its function's time is up and leaves
the rest to its next run; each run is recorded (runs.py) for `status`.

The log, the sweep and the puller are looked up when a run starts, not when this module is
imported: whatever stands in for them then (a test's recorder) is what the run uses.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from . import metrics, observability
from .delivery import expiry
from .errors import OutsideFailure
from .queue import Queue
from .runs import recorded
from .settings import Settings
from .store import Store

# What the sweep keeps back from its function's time: a queue send takes well under that.
SWEEP_MARGIN_SECONDS = 10.0


def sync(settings: Settings, store: Store, queue: Queue, platform: str, seconds_left: float) -> dict:
    """One scheduled sync: pages until the function's time runs short, the rest next time."""
    # Here, not at the top: the sweep's function never loads the platform registry or the pull runner.
    from .platforms import puller
    from .pull.runner import PullLimits, PullRunner, request_seconds, scheduled_settings

    # Tries cut so that a page timing out on every one still ends before the function does.
    scheduled = scheduled_settings(settings)
    deadline = time.monotonic() + max(0.0, seconds_left - request_seconds(scheduled))
    source = puller(platform, scheduled, "sync")
    runner = PullRunner(store, queue, PullLimits.from_settings(settings))
    try:
        with recorded(store, platform, "scheduled-sync") as tally:
            report = runner.run(platform, "sync", source, deadline=deadline)
            tally.records, tally.finished = report.records, report.finished
    except OutsideFailure as error:
        # Logged, not raised: Lambda would run a failed scheduled call again at once, into the
        # same endless pages or the same unreachable platform. The next scheduled run resumes.
        observability.log("scheduled_sync_stopped", level=logging.ERROR, platform=platform, reason=str(error))
        return {"platform": platform, "mode": "sync", "finished": False, "stopped": str(error)}
    observability.log("scheduled_sync", **report.as_dict())
    metrics.count("scheduled_sync_succeeded", source=platform)  # its alarm fires when this goes missing
    return report.as_dict()


def expiry_sweep(store: Store, queue: Queue, seconds_left: float) -> dict:
    """Queue the expired statements now due; what is left when time runs short, next time."""
    deadline = time.monotonic() + max(0.0, seconds_left - SWEEP_MARGIN_SECONDS)
    with recorded(store, "expiry", "scheduled-expire") as tally:
        report = expiry.sweep(store, queue, datetime.now(UTC), deadline)
        tally.records, tally.finished = report.expired, report.finished
    observability.log("expiry_sweep", expired=report.expired, finished=report.finished)
    return {"expired": report.expired, "finished": report.finished}
