"""Helpers shared by the Python benchmarks in this folder."""

from __future__ import annotations

import os
import statistics
import time


def median_time(fn, repeat: int):
    """Calls ``fn`` ``repeat`` times; returns (median wall time in seconds, last result)."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def count_points(session, path: str) -> int:
    """Number of points under ``path`` (``select count(*)``, summed over its series)."""
    ds = session.execute_query_statement(f"select count(*) from {path}")
    try:
        df = ds.todf()
    finally:
        ds.close_operation_handle()
    return int(df.iloc[0].sum())


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(pids: list[int], quiet: float = 0.05, most: float = 120.0) -> float:
    """Waits until every process used under `quiet` of a core over a whole second (at most
    `most` seconds); returns how long it waited."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < most:
        before = [cpu_seconds(p) for p in pids]
        time.sleep(1.0)
        if all(cpu_seconds(p) - b < quiet for p, b in zip(pids, before)):
            break
    return time.perf_counter() - t0
