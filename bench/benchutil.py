"""Helpers shared by the Python benchmarks in this folder."""

from __future__ import annotations

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
