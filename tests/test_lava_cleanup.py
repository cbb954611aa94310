"""A Lava run that raises leaves no worker processes and no shared-memory segments behind."""
from __future__ import annotations

import multiprocessing
import os
import pathlib
import sys

import pytest

from lava_fptt.runtime import LavaRunError, lava_session, run_steps

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def shared_memory_segments() -> set[str]:
    return set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()


def mapped_by_other_processes(names: set[str]) -> set[str]:
    """Those of ``names`` that a process other than this one has mapped (from /proc/*/maps).

    Another Lava run on the same machine (a second test session, a benchmark) creates and
    maps segments of its own while this test runs; they are not this test's leaks.
    """
    mapped: set[str] = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid():
            continue
        try:
            maps = pathlib.Path(f"/proc/{pid}/maps").read_text()
        except OSError:  # the process ended, or is not ours to read
            continue
        mapped.update(name for name in names if f"/dev/shm/{name}" in maps)
    return mapped


def leaked_segments(before: set[str]) -> set[str]:
    """Segments created since ``before`` that are still there and held by no other process."""
    new = shared_memory_segments() - before
    return new - mapped_by_other_processes(new)


@pytest.fixture
def failing_process_class():
    sys.path.insert(0, str(FIXTURES))
    try:
        from failing_process import FailAt
        yield FailAt
    finally:
        sys.path.remove(str(FIXTURES))


def test_model_exception_is_raised_and_everything_is_stopped(failing_process_class) -> None:
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.sink import RingBuffer

    children_before, segments_before = set(multiprocessing.active_children()), shared_memory_segments()
    process = failing_process_class(shape=(3,), fail_step=4)
    sink = RingBuffer(shape=(3,), buffer=10)
    process.s_out.connect(sink.a_in)
    with pytest.raises(LavaRunError, match="a process model probably raised"):
        with lava_session(process):
            run_steps(process, 10, Loihi2SimCfg(select_tag="fixed_pt"), deadline_s=15)
    assert set(multiprocessing.active_children()) == children_before
    assert leaked_segments(segments_before) == set()


def test_error_in_host_code_after_a_run_still_stops_lava() -> None:
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.sink import RingBuffer
    from lava.proc.io.source import RingBuffer as Source
    import numpy as np

    children_before, segments_before = set(multiprocessing.active_children()), shared_memory_segments()
    source = Source(data=np.ones((2, 5)))
    sink = RingBuffer(shape=(2,), buffer=5)
    source.s_out.connect(sink.a_in)
    with pytest.raises(KeyError):
        with lava_session(source):
            run_steps(source, 5, Loihi2SimCfg())
            assert sink.data.get().sum() == 10
            raise KeyError("host-side failure")
    assert source.runtime is not None and not source.runtime._is_started
    assert set(multiprocessing.active_children()) == children_before
    assert leaked_segments(segments_before) == set()
