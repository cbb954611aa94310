"""Resident memory of this process: current, and peak since the last reset (Linux /proc)."""
from __future__ import annotations

import pathlib
import resource

STATUS = pathlib.Path("/proc/self/status")


def _status_kb(field: str) -> int:
    for line in STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in {STATUS}")


def rss_mb() -> float:
    """Resident set size now."""
    return _status_kb("VmRSS") / 1024


def reset_peak() -> bool:
    """Restart the peak (VmHWM) at the current size; False where the kernel does not allow it."""
    try:
        pathlib.Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_mb(reset_worked: bool) -> float:
    """Peak resident size since :func:`reset_peak` (or since start, via getrusage, if it failed)."""
    if reset_worked:
        return _status_kb("VmHWM") / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
