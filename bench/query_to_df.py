#!/usr/bin/env python3
"""Query benchmark through the official apache-iotdb 2.0.x client (a benchmark, not a test).

Workload: one device of COLS DOUBLE series (default 4) with ROWS rows (default 2.5 M, so 10 M
points, times 0, 1, 2, ... ms), written as NumpyTablets and FLUSHed into TsFiles. The same arrays
are loaded into an in-memory DuckDB table, the baseline measured in the same run.

It prints, per query, the median wall time of REPEAT runs (client call to a finished pandas
DataFrame) for iotdb-rs and for DuckDB, the throughput, and the ratio iotdb-rs / DuckDB:

* ``raw to DataFrame``: ``SELECT s0..s3`` over a 1 M-row time range, ``SessionDataSet.todf()``
  against DuckDB's ``.df()`` of the same rows (points/s = rows x columns / time);
* ``aggregate``: count/avg/max/min of one series over all rows; iotdb-rs answers it from the
  flushed chunks' statistics. The same aggregate with a value filter that keeps every row
  (``WHERE s0 > -1e300``) must decode every point: printed as the ``decoded`` line, with the
  ratio statistics / decoded;
* ``aggregate, time range``: the same over the middle 80 % of the time range;
* ``GROUP BY time``: avg per window, 100 windows.

Results of both systems are compared (counts exactly, averages to 1e-9) so a wrong answer fails the
run. Run it with ``scripts/bench-query`` (starts a release server on a temporary data directory),
or against a running server with ``--host/--port``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
import time

import duckdb
import numpy as np
import pandas as pd
from benchutil import median_time
from iotdb.Session import Session
from iotdb.utils.IoTDBConstants import TSDataType
from iotdb.utils.NumpyTablet import NumpyTablet


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=6667)
    p.add_argument("--rows", type=int, default=2_500_000)
    p.add_argument("--cols", type=int, default=4)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--database", default="root.bench")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    a = parse_args(argv)
    device = f"{a.database}.q"
    names = [f"s{i}" for i in range(a.cols)]
    rng = np.random.default_rng(7)
    times = np.arange(a.rows, dtype=np.int64)
    cols = [np.sin(times / (5000.0 + 1000 * i)) * 20 + rng.normal(0, 0.5, a.rows) for i in range(a.cols)]

    s = Session(a.host, str(a.port), "root", "root")
    s.open(False)
    s.execute_non_query_statement(f"CREATE DATABASE {a.database}")
    t0 = time.perf_counter()
    step = 50_000
    for lo in range(0, a.rows, step):
        hi = min(lo + step, a.rows)
        tab = NumpyTablet(device, names, [TSDataType.DOUBLE] * a.cols, [c[lo:hi] for c in cols], times[lo:hi])
        s.insert_tablet(tab)
    s.execute_non_query_statement("FLUSH")
    load_s = time.perf_counter() - t0

    db = duckdb.connect()
    frame = pd.DataFrame({"time": times, **dict(zip(names, cols))})
    db.register("frame", frame)
    db.execute("CREATE TABLE q AS SELECT * FROM frame")
    db.unregister("frame")

    def ours(sql: str) -> pd.DataFrame:
        with s.execute_query_statement(sql) as ds:
            return ds.todf()

    def duck(sql: str) -> pd.DataFrame:
        return db.execute(sql).df()

    lo, hi = a.rows // 4, a.rows // 4 + min(1_000_000, a.rows // 2)
    r0, r1 = a.rows // 10, a.rows - a.rows // 10
    width = max(1, a.rows // 100)
    cases = [
        (
            "raw to DataFrame",
            f"select {', '.join(names)} from {device} where time >= {lo} and time < {hi}",
            f"SELECT time, {', '.join(names)} FROM q WHERE time >= {lo} AND time < {hi} ORDER BY time",
            (hi - lo) * a.cols,
        ),
        (
            "aggregate",
            f"select count(s0), avg(s0), max_value(s0), min_value(s0) from {device}",
            "SELECT count(s0), avg(s0), max(s0), min(s0) FROM q",
            a.rows,
        ),
        (
            "aggregate, decoded",
            f"select count(s0), avg(s0), max_value(s0), min_value(s0) from {device} where s0 > -1e300",
            "SELECT count(s0), avg(s0), max(s0), min(s0) FROM q WHERE s0 > -1e300",
            a.rows,
        ),
        (
            "aggregate, time range",
            f"select count(s0), avg(s0) from {device} where time >= {r0} and time < {r1}",
            f"SELECT count(s0), avg(s0) FROM q WHERE time >= {r0} AND time < {r1}",
            r1 - r0,
        ),
        (
            "GROUP BY time (100 windows)",
            f"select avg(s0) from {device} group by ([0, {a.rows}), {width}ms)",
            f"SELECT time // {width} AS w, avg(s0) FROM q GROUP BY w ORDER BY w",
            a.rows,
        ),
    ]
    print(
        f"iotdb-rs via apache-iotdb {importlib.metadata.version('apache-iotdb')}, DuckDB {duckdb.__version__}: "
        f"{a.rows:,} rows x {a.cols} DOUBLE ({a.rows * a.cols:,} points) written + FLUSHed in {load_s:.1f} s; "
        f"median of {a.repeat} runs"
    )
    print(f"{'query':<28} {'iotdb-rs':>10} {'DuckDB':>10} {'ratio':>7}   points/s (iotdb-rs)")
    results = {}
    for label, sql, dsql, points in cases:
        t_ours, df_ours = median_time(lambda sql=sql: ours(sql), a.repeat)
        t_duck, df_duck = median_time(lambda dsql=dsql: duck(dsql), a.repeat)
        check(label, df_ours, df_duck)
        results[label] = t_ours
        print(
            f"{label:<28} {t_ours * 1e3:>8.1f}ms {t_duck * 1e3:>8.1f}ms {t_ours / t_duck:>7.2f}   "
            f"{points / t_ours / 1e6:>8.1f} M"
        )
    stats, decoded = results["aggregate"], results["aggregate, decoded"]
    print(
        f"aggregate from chunk statistics vs decoding every point: {stats * 1e3:.1f} / {decoded * 1e3:.1f} ms "
        f"= {stats / decoded:.4f}"
    )
    s.close()
    return 0


def check(label: str, ours: pd.DataFrame, duck: pd.DataFrame) -> None:
    """Same answer from both systems (times, counts exactly; floating values to 1e-9)."""
    a = ours.drop(columns=[c for c in ours.columns if c == "Time"]).to_numpy(dtype=float)
    b = duck.drop(columns=[c for c in duck.columns if c in ("time", "w")]).to_numpy(dtype=float)
    if a.shape != b.shape or not np.allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True):
        raise SystemExit(f"{label}: iotdb-rs and DuckDB disagree:\n{ours.head()}\n{duck.head()}")
    if "Time" in ours.columns and "time" in duck.columns and not np.array_equal(ours["Time"], duck["time"]):
        raise SystemExit(f"{label}: different times")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
