"""Running Lava processes so that a failure leaves nothing behind.

Lava's CPU runtime starts one OS process per Lava process and talks to them through
shared memory. If a run raises and nobody calls ``stop()``, those processes and
segments outlive the caller. :func:`lava_session` stops the runtime whatever happens,
and if stopping itself fails (the runtime may be half-dead after an error), it
terminates the worker processes that Lava started.
"""
from __future__ import annotations

import contextlib
import logging
import multiprocessing
from typing import Iterator

from lava.magma.core.process.process import AbstractProcess

log = logging.getLogger(__name__)


def _terminate_children(before: set[int]) -> None:
    for child in multiprocessing.active_children():
        if child.pid not in before:
            child.terminate()
            child.join(timeout=5)


@contextlib.contextmanager
def lava_session(process: AbstractProcess) -> Iterator[AbstractProcess]:
    """Yield ``process``; on exit, stop the runtime it started (if any), even after an error."""
    before = {child.pid for child in multiprocessing.active_children()}
    try:
        yield process
    finally:
        try:
            process.stop()
        except Exception as err:  # a broken runtime may fail to stop cleanly
            log.warning("Lava runtime did not stop cleanly (%s); terminating its processes", err)
        _terminate_children(before)
