"""The folder where several workers keep their metric values (prometheus-client's
multiprocess mode), and its bookkeeping.

prometheus-client picks its mode when it is first imported: with
``PROMETHEUS_MULTIPROC_DIR`` set, every process writes its values to files named after
its pid in that folder, and an exposition adds them up. Counters of stopped processes
keep counting (their totals stay true); live gauges (``livesum``) of stopped or crashed
processes must be removed, which :func:`prune_dead_workers` and :func:`worker_stopped`
do. The folder must start empty for a new server: :func:`reset_multiprocess_dir`.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from prometheus_client import multiprocess

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

_LIVE_GAUGE_FILE = re.compile(r"^gauge_live\w+?_(\d+)\.db$")
_ANY_VALUE_FILE = re.compile(r"^\w+?_(\d+)\.db$")


def multiprocess_dir() -> Path | None:
    """The folder of the workers' values when several workers share them, else ``None``."""
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


def _pid_alive(pid: int) -> bool:
    """True while a process ``pid`` exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _mark_dead(pid: int, directory: Path) -> None:
    """Remove the live-gauge files of process ``pid`` (prometheus-client's bookkeeping)."""
    multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]


def prune_dead_workers(directory: Path) -> None:
    """Drop the live gauges of workers that are gone (a crash leaves them behind)."""
    for path in directory.glob("gauge_live*.db"):
        match = _LIVE_GAUGE_FILE.match(path.name)
        if match and not _pid_alive(int(match.group(1))):
            _mark_dead(int(match.group(1)), directory)


def reset_multiprocess_dir(directory: Path) -> None:
    """Prepare ``directory`` for a new server: create it, drop values of dead processes.

    Values of processes still alive (this one, or another server sharing the folder)
    are kept; everything a stopped server left is removed, so counts start at zero.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob("*.db"):
        match = _ANY_VALUE_FILE.match(path.name)
        if match and not _pid_alive(int(match.group(1))):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def worker_stopped() -> None:
    """Called when this worker shuts down: its live gauges stop counting."""
    directory = multiprocess_dir()
    if directory is not None:
        _mark_dead(os.getpid(), directory)
