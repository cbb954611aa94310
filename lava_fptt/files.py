"""Writing results so that nothing is half-written and no work is lost to a bad output path.

- :func:`atomic_path` gives a temporary name beside the destination and renames it into
  place only when the writing succeeded: readers never see half a file, an interrupted
  write never replaces a good one, and a failed one leaves no temporary file behind.
  Temporary files are named ``.NAME.*.tmp``; one left by a process killed with SIGKILL
  (which runs no cleanup) is removed by :func:`remove_stale_temporaries`.
- :func:`writable_dir` checks an output directory before long work starts, so a
  read-only place or a file in the way is reported at once, not after the work.
"""
from __future__ import annotations

import contextlib
import os
import pathlib
import tempfile
from typing import Iterator


@contextlib.contextmanager
def atomic_path(path: str | pathlib.Path, fsync: bool = False) -> Iterator[pathlib.Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``.

    ``fsync`` flushes the file to disk before the rename (for checkpoints, whose loss
    costs work). On any exception, KeyboardInterrupt included, the temporary file is
    removed and the exception propagates (an ``OSError`` naming ``path``); ``path`` is
    left as it was.
    """
    path = pathlib.Path(path)
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:  # a missing or read-only directory: name the file that was to be written
        raise OSError(err.errno, err.strerror, str(path)) from None
    os.close(handle)
    tmp = pathlib.Path(name)
    try:
        tmp.chmod(0o666 & ~_umask())  # mkstemp makes it private; the result gets a new file's usual mode
        yield tmp
        if fsync:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:  # a full disk or I/O error while writing: name the file being written
        tmp.unlink(missing_ok=True)
        if err.filename is None or str(err.filename) == str(tmp):
            raise OSError(err.errno, err.strerror or str(err), str(path)) from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it
    os.umask(mask)
    return mask


def write_text_atomic(text: str, path: str | pathlib.Path) -> None:
    """Write a small text file (config, metrics, results) so readers never see half of it."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def remove_stale_temporaries(directory: str | pathlib.Path, name: str) -> list[pathlib.Path]:
    """Remove the temporary files :func:`atomic_path` left for ``directory/name`` when a
    process writing it was killed; return them. Only for a directory that no other
    process is writing to."""
    stale = sorted(pathlib.Path(directory).glob(f".{name}.*.tmp"))
    for tmp in stale:
        tmp.unlink(missing_ok=True)
    return stale


def writable_dir(path: str | pathlib.Path) -> pathlib.Path:
    """Create ``path`` if needed and check that files can be written in it; return it.

    Raises ``NotADirectoryError`` when a file is in the way, and the ``OSError`` of the
    failed attempt (read-only, no permission, disk full) otherwise; both name the path.
    """
    path = pathlib.Path(path)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(20, "exists and is not a directory", str(path))
    path.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=path):
        pass
    return path
