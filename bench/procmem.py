"""A process's memory as Linux reports it in /proc/<pid>/status: VmRSS now, VmHWM its peak.

The benches read the peak here, not from getrusage or wait4 (`ru_maxrss`): Linux carries that
figure across exec, so a worker started by a large bench process would report the bench's size."""

from __future__ import annotations

import contextlib
from pathlib import Path


def status_mb(key: str, pid: int | str = "self") -> float:
    """`VmRSS` or `VmHWM` of a process in MB; 0 when it is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return 0.0
