"""CPU accounting of a scenario (Linux /proc; None elsewhere).

Two figures per scenario:

- the server's own CPU time per request (gunicorn master and workers): what a request
  costs, and much less moved by other work on the machine than req/s (not immune: a busy
  machine still inflates it through shared caches);
- the share of all CPUs that processes outside the benchmark took meanwhile. The machine has
  2 cores and is shared (test suites of other work may run alongside); CPU another process
  takes is missing from the servers under load, so a high figure flags low, noisy req/s.
"""

from __future__ import annotations

import dataclasses
import os
import resource
import time
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclasses.dataclass(frozen=True)
class CpuUsage:
    """What `CpuSampler.stop()` measured."""

    server_seconds: dict[int, float]  # CPU seconds per server (by master pid), workers included
    other_share: float  # others' CPU as a fraction of every core's time, 0..1


@dataclasses.dataclass(frozen=True)
class _Sample:
    at: float
    busy: int
    trees: dict[int, int]
    children: float


def _busy_ticks() -> int:
    # First line of /proc/stat: cpu user nice system idle iowait irq softirq steal ...
    # Interrupt time is left out: the loopback traffic of the benchmark itself is mostly
    # softirq work that no process is charged for, so it would read as someone else's.
    # Steal stays in: a hypervisor neighbour taking the CPU is exactly what to report.
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = (
        int(x) for x in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return user + nice + system + steal


def _stat(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces or parentheses: split after its closing one.
    return text[text.rindex(")") + 2 :].split()


def _tree_ticks(roots: set[int]) -> dict[int, int]:
    """utime + stime of each root plus its direct children (a gunicorn master's workers)."""
    totals = dict.fromkeys(roots, 0)
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        fields = _stat(pid)
        if not fields:
            continue
        # After the name: state(0) ppid(1) ... utime(11) stime(12).
        owner = pid if pid in roots else int(fields[1])
        if owner in roots:
            totals[owner] += int(fields[11]) + int(fields[12])
    return totals


def _children_ticks() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # reaped children, e.g. wrk
    return (usage.ru_utime + usage.ru_stime) * TICKS


class CpuSampler:
    """Sample CPU use between `start()` and `stop()` for the servers and everyone else."""

    def __init__(self, server_pids: Iterable[int]):
        self._servers = set(server_pids)
        # This process too: its direct children (the servers' masters, wrk) are ours.
        self._roots = {*self._servers, os.getpid()}
        self._start: _Sample | None = None

    def _sample(self) -> _Sample | None:
        try:
            return _Sample(
                time.monotonic(), _busy_ticks(), _tree_ticks(self._roots), _children_ticks()
            )
        except (OSError, ValueError, IndexError):
            return None

    def start(self) -> None:
        """Take the first sample."""
        self._start = self._sample()

    def stop(self) -> CpuUsage | None:
        """What was used since `start()`, or None where /proc cannot tell."""
        end = self._sample()
        begin = self._start
        if begin is None or end is None:
            return None
        capacity = (end.at - begin.at) * TICKS * (os.cpu_count() or 1)
        if capacity <= 0:
            return None
        trees = {pid: end.trees[pid] - begin.trees[pid] for pid in self._roots}
        ours = sum(trees.values()) + (end.children - begin.children)
        other = ((end.busy - begin.busy) - ours) / capacity
        return CpuUsage(
            server_seconds={pid: trees[pid] / TICKS for pid in self._servers},
            other_share=max(0.0, min(1.0, other)),
        )
