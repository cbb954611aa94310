"""Running Lava processes so that a failure leaves nothing behind.

Lava's CPU runtime starts one OS process ("actor") per Lava process and passes data
through shared memory owned by a manager process. Two things can go wrong:

- the caller raises after a run (a bad read-out, a KeyboardInterrupt): the runtime is
  healthy and ``stop()`` ends it normally;
- a ProcessModel raises during a run: in lava-nc 0.10 the failing model reports the
  error and then waits for its ports, while its peers wait for its messages, so a
  blocking ``run()`` never returns and ``stop()`` would wait forever too; nothing the
  host can observe distinguishes this from a slow step. :func:`run_steps` therefore starts
  the run non-blocking and gives it a deadline. Past the deadline, or if an actor exits
  with an error, it terminates the actors and shuts down the shared-memory manager
  directly (what ``stop()`` would have done last) and raises :class:`LavaRunError`.

This touches private attributes of Lava's ``Runtime`` (``service_to_runtime`` ports,
``_messaging_infrastructure``, ``_watchdog_manager``, ``_is_running`` / ``_is_started``);
tests/test_lava_cleanup.py checks that either failure leaves no processes or segments.
"""
from __future__ import annotations

import contextlib
import time
from typing import Any, Iterator

from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import RunConfig


class LavaRunError(RuntimeError):
    """A Lava ProcessModel raised during a run; the message carries its error."""


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
    """End a runtime whose actors may be dead or blocked, without waiting for them to answer."""
    infrastructure = runtime._messaging_infrastructure
    for actor in infrastructure.actors:
        if actor.is_alive():
            actor.terminate()
        actor.join()
    infrastructure.stop()  # joins the (now ended) actors and unlinks the shared memory
    runtime._watchdog_manager.stop()
    runtime._is_running = runtime._is_started = False


def _failed_actors(runtime: Any) -> list[Any]:
    return [actor for actor in runtime._messaging_infrastructure.actors if actor.exitcode not in (None, 0)]


def default_deadline(num_steps: int) -> float:
    """Seconds allowed for a run: start-up plus 20 steps/s, far below what any model here needs."""
    return 120.0 + num_steps / 20.0


def run_steps(process: AbstractProcess, num_steps: int, run_cfg: RunConfig,
              deadline_s: float | None = None, poll_s: float = 0.005) -> None:
    """Run ``num_steps`` like ``process.run``; raise LavaRunError (everything stopped) on failure.

    ``deadline_s`` defaults to :func:`default_deadline`. A run that has not finished by
    then is taken to be deadlocked by a failed model.
    """
    deadline_s = default_deadline(num_steps) if deadline_s is None else deadline_s
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
    """Yield ``process``; on exit, always end the runtime it started, even after an error.

    Use :func:`run_steps` inside it (a plain blocking ``run`` cannot be interrupted when a
    model fails).
    """
    try:
        yield process
    except BaseException:
        runtime = process.runtime
        if runtime is not None and runtime._is_running:  # interrupted mid-run: actors in unknown state
            _force_stop(runtime)
        elif runtime is not None and runtime._is_started:
            process.stop()
        raise
    else:
        process.stop()
