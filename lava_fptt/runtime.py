"""Running Lava processes so that a failure, an interrupt or a kill leaves nothing behind.

Lava's CPU runtime forks one OS process ("actor") per Lava process, plus a manager
process that owns the shared memory (``/dev/shm/psm_*``) its channels use. Four things
can go wrong:

- the caller raises after a run (a bad read-out, a KeyboardInterrupt): the runtime is
  healthy and ``stop()`` ends it normally;
- a ProcessModel raises during a run: in lava-nc 0.10 the failing model reports the
  error and then waits for its ports, while its peers wait for its messages, so a
  blocking ``run()`` never returns and ``stop()`` would wait forever too; nothing the
  host can observe distinguishes this from a slow step. :func:`run_steps` therefore starts
  the run non-blocking and gives it a deadline. Past the deadline, or if an actor exits
  with an error, it terminates the actors and shuts down the shared-memory manager
  directly (what ``stop()`` would have done last) and raises :class:`LavaRunError`;
- the host process gets SIGTERM (``kill``, ``timeout``, a job scheduler): by default
  Python dies at once and no cleanup runs. Inside :func:`sigterm_raises` (which
  :func:`lava_session` and the command line use) SIGTERM raises :class:`Terminated`
  instead, so the same clean stop runs as for Ctrl-C;
- the host process is killed with SIGKILL: it cannot clean up at all. Each process Lava
  forks while :func:`run_steps` starts a runtime is bound to its parent when it starts
  (an ``os.register_at_fork`` hook): on Linux ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` makes
  the kernel kill it the moment its parent dies. With the host and all its Lava
  processes gone, Python's ``multiprocessing`` resource tracker (a separate process
  that every segment was registered with when it was created) sees its pipe close and
  unlinks the segments that were never freed, printing how many. The same hook makes
  Lava's processes ignore SIGINT and take SIGTERM's default action: a Ctrl-C to the
  whole process group reaches the host alone, which stops them in order.

The binding applies to processes forked by the thread that starts the run, which must
outlive the runtime (``PR_SET_PDEATHSIG`` fires when the forking *thread* ends);
:func:`lava_session` and :func:`run_steps` start and stop a runtime within one call.

This touches private attributes of Lava's ``Runtime`` (``service_to_runtime`` ports,
``_messaging_infrastructure``, ``_watchdog_manager``, ``_is_running`` / ``_is_started`` /
``_is_initialized``); tests/test_lava_cleanup.py checks that failures leave no processes
or segments, tests/test_lava_kill.py that SIGTERM and SIGKILL of the command line do not.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from typing import Any, Iterator, Optional

from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import RunConfig


class LavaRunError(RuntimeError):
    """A Lava ProcessModel raised during a run; the message carries its error."""


class Terminated(BaseException):
    """SIGTERM arrived while :func:`sigterm_raises` was active (a BaseException, like
    KeyboardInterrupt, so that only cleanup code catches it)."""


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_forking_parent: Optional[int] = None  # pid of the host while it starts a Lava runtime


def _bind_to_parent() -> None:
    """In a process just forked while a runtime starts: end with the parent, leave Ctrl-C to it."""
    parent = _forking_parent
    if parent is None:
        return
    with contextlib.suppress(ValueError):  # only possible in a process's main thread
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the binding took effect
        os._exit(1)


os.register_at_fork(after_in_child=_bind_to_parent)


@contextlib.contextmanager
def _binding_forks() -> Iterator[None]:
    """Processes forked within the block are bound to this one (:func:`_bind_to_parent`)."""
    global _forking_parent
    _forking_parent = os.getpid()
    try:
        yield
    finally:
        _forking_parent = None


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread.

    Without it Python ends at once on SIGTERM and no ``finally`` runs: Lava's processes
    and temporary files stay behind. Does nothing outside the main thread or when a
    handler other than the default one is installed (an outer block, or the caller's own).
    """
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def raise_terminated(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: let the cleanup it starts finish
        raise Terminated("terminated by SIGTERM")

    signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _model_errors(runtime: Any) -> list[str]:
    """The last line of each actor's traceback, where an actor failed."""
    errors = []
    for actor in runtime._messaging_infrastructure.actors:
        failure = actor.exception
        if failure:
            lines = [line for line in str(failure[1]).strip().splitlines() if line.strip()]
            errors.append(lines[-1] if lines else repr(failure[0]))
    return errors


def _force_stop(runtime: Any) -> None:
    """End a runtime whose actors may be dead, blocked or half started, without waiting for
    them to answer. Safe to call again."""
    infrastructure = runtime._messaging_infrastructure
    if infrastructure is not None:
        for actor in infrastructure.actors:
            if actor.is_alive():
                actor.terminate()
            actor.join()
        infrastructure.actors.clear()
        if infrastructure.smm is not None:
            infrastructure.stop()  # unlinks the shared memory
    if runtime._watchdog_manager is not None:
        runtime._watchdog_manager.stop()
    runtime._is_running = runtime._is_started = False


def stop_runtime(process: AbstractProcess, clean: bool = True) -> None:
    """End the runtime ``process`` started, whatever state it is in (no-op without one).

    A runtime that is paused or finished is stopped normally. With ``clean=False`` (after
    an exception, which may have struck inside Lava's own calls, so its flags cannot be
    trusted), or when it is mid-run or was interrupted while starting (its actors in an
    unknown state), it is ended by force.
    """
    runtime = process.runtime
    if runtime is None:
        return
    if not clean or runtime._is_running or not runtime._is_initialized:
        _force_stop(runtime)
    elif runtime._is_started:
        process.stop()


def _failed_actors(runtime: Any) -> list[Any]:
    return [actor for actor in runtime._messaging_infrastructure.actors if actor.exitcode not in (None, 0)]


def default_deadline(num_steps: int) -> float:
    """Seconds allowed for a run: start-up plus 20 steps/s, far below what any model here needs."""
    return 120.0 + num_steps / 20.0


def run_steps(process: AbstractProcess, num_steps: int, run_cfg: RunConfig,
              deadline_s: float | None = None, poll_s: float = 0.005) -> None:
    """Run ``num_steps`` like ``process.run``; raise LavaRunError (everything stopped) on failure.

    ``deadline_s`` defaults to :func:`default_deadline`. A run that has not finished by
    then is taken to be deadlocked by a failed model. The first call compiles and starts
    the runtime; the processes it forks are bound to this one (module docstring).
    """
    deadline_s = default_deadline(num_steps) if deadline_s is None else deadline_s
    with _binding_forks():
        process.run(condition=RunSteps(num_steps=num_steps, blocking=False), run_cfg=run_cfg)
    runtime = process.runtime
    started = time.monotonic()
    while not all(port.probe() for port in runtime.service_to_runtime):
        failed = bool(_failed_actors(runtime))
        if failed or time.monotonic() - started > deadline_s:
            errors = _model_errors(runtime) if failed else []
            _force_stop(runtime)
            reason = "; ".join(errors) or (
                "a process model exited" if failed else
                f"no result after {deadline_s:.0f} s; a process model probably raised "
                "(Lava 0.10 then deadlocks; its traceback is printed above)")
            raise LavaRunError(f"Lava run of {num_steps} steps failed: {reason}")
        time.sleep(poll_s)
    process.wait()


@contextlib.contextmanager
def lava_session(process: AbstractProcess) -> Iterator[AbstractProcess]:
    """Yield ``process``; on exit, always end the runtime it started, even after an error,
    Ctrl-C or SIGTERM (:func:`sigterm_raises` is active inside).

    Use :func:`run_steps` inside it (a plain blocking ``run`` cannot be interrupted when a
    model fails).
    """
    with sigterm_raises():
        try:
            yield process
        except BaseException:
            stop_runtime(process, clean=False)
            raise
        stop_runtime(process)
