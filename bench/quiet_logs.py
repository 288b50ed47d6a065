"""Benchmark helper (no __main__: `make bench` does not run it): the connector's log lines are
formatted as usual (their cost stays in the figures) but written to /dev/null."""

from __future__ import annotations

import logging
import os


def silence_connector_logs() -> None:
    from chalicelib.observability import logger

    logger()
    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    for handler in logging.getLogger("connector").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sink)
