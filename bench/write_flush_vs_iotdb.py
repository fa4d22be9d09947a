#!/usr/bin/env python3
"""Write + FLUSH and bytes/point, iotdb-rs next to Apache IoTDB (a benchmark, not a test).

For each server given (``--target NAME,HOST,PORT,PID,DATADIR``), through the official
apache-iotdb 2.0.x client, in one run:

* **write + FLUSH**: ``NumpyTablet`` s of ROWS rows x COLS DOUBLE columns (GORILLA + SNAPPY) into
  one device until POINTS points (default 40 M) are written, then ``FLUSH``; prints the write
  time, the FLUSH time, their sum, and the server's resident memory (VmRSS of PID) before the
  writes and after the FLUSH. Every point is then counted back with ``count(*)``.
* **bytes/point**: one DOUBLE series (GORILLA + SNAPPY) of SERIES_POINTS points per signal,
  "smooth" (a sine with a small 7-step sawtooth, rounded to two decimals) and "random" (uniform
  in [0, 1000), full precision), each in its own database, flushed; bytes are the sizes of the
  ``.tsfile`` files under DATADIR of that database (times, values and metadata).

Run it with ``scripts/bench-write-flush`` (starts a release iotdb-rs and the reference IoTDB).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time

import numpy as np
from benchutil import count_points
from iotdb.Session import Session
from iotdb.utils.IoTDBConstants import Compressor, TSDataType, TSEncoding
from iotdb.utils.NumpyTablet import NumpyTablet


def rss_mib(pid: int) -> float:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def signals(n: int) -> dict[str, np.ndarray]:
    i = np.arange(n, dtype=np.float64)
    smooth = np.round(100 * np.sin(i / 500) + (np.arange(n) % 7) * 0.25, 2)
    random = np.random.default_rng(7).uniform(0, 1000, n)
    return {"smooth": smooth, "random": random}


def run(s: Session, sql: str) -> None:
    s.execute_non_query_statement(sql)


def recreate(s: Session, db: str) -> None:
    """Creates `db`, dropping what an earlier run left there first."""
    try:
        run(s, f"DELETE DATABASE {db}")
    except Exception:  # absent: nothing to drop
        pass
    run(s, f"CREATE DATABASE {db}")


def write_flush(s: Session, pid: int, rows: int, cols: int, points: int) -> dict[str, float]:
    db, dev = "root.wfbench", "root.wfbench.d"
    recreate(s, db)
    names = [f"v{c}" for c in range(cols)]
    s.create_multi_time_series(
        [f"{dev}.{m}" for m in names],
        [TSDataType.DOUBLE] * cols,
        [TSEncoding.GORILLA] * cols,
        [Compressor.SNAPPY] * cols,
    )
    rng = np.random.default_rng(42)
    values = [np.round(rng.uniform(0, 100, rows), 2).astype(">f8") for _ in range(cols)]
    base = np.arange(rows, dtype=">i8")
    tablets = -(-points // (rows * cols))
    before = rss_mib(pid)
    t0 = time.perf_counter()
    for k in range(tablets):
        ts = base + np.int64(k * rows)
        s.insert_tablet(NumpyTablet(dev, names, [TSDataType.DOUBLE] * cols, values, ts))
    t1 = time.perf_counter()
    run(s, "FLUSH")
    t2 = time.perf_counter()
    after = rss_mib(pid)
    n = count_points(s, dev)
    if n != tablets * rows * cols:
        raise RuntimeError(f"{dev} holds {n} points, expected {tablets * rows * cols}")
    return {"points": n, "write": t1 - t0, "flush": t2 - t1, "rss0": before, "rss1": after}


def bytes_per_point(s: Session, datadir: pathlib.Path, n: int) -> dict[str, float]:
    out = {}
    for name, v in signals(n).items():
        db = f"root.bpp{name}"
        recreate(s, db)
        s.create_time_series(f"{db}.d.v", TSDataType.DOUBLE, TSEncoding.GORILLA, Compressor.SNAPPY)
        rows = 100_000
        for lo in range(0, n, rows):
            ts = np.arange(lo, min(lo + rows, n), dtype=">i8") * 1000 + np.int64(1_700_000_000_000)
            vals = v[lo : lo + len(ts)].astype(">f8")
            s.insert_tablet(NumpyTablet(f"{db}.d", ["v"], [TSDataType.DOUBLE], [vals], ts))
        run(s, "FLUSH")
        if count_points(s, f"{db}.d") != n:
            raise RuntimeError(f"{db}.d lost points")
        size = sum(f.stat().st_size for f in datadir.rglob("*.tsfile") if db in f.parts)
        out[name] = size / n
    return out


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", help="iotdb-rs host (scripts/bench-server passes it)")
    p.add_argument("--port", type=int, help="iotdb-rs port (PID, data dir: $IOTDB_RS_BENCH_PID, $IOTDB_RS_BENCH_DATA)")
    p.add_argument("--target", action="append", default=[], help="NAME,HOST,PORT,PID,DATADIR (repeatable)")
    p.add_argument("--points", type=int, default=40_000_000)
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--cols", type=int, default=10)
    p.add_argument("--series-points", type=int, default=2_000_000)
    args = p.parse_args(argv)
    targets = list(args.target)
    if args.port:
        env = os.environ
        targets.insert(0, f"iotdb-rs,{args.host},{args.port},{env['IOTDB_RS_BENCH_PID']},{env['IOTDB_RS_BENCH_DATA']}")
    results = {}
    for t in targets:
        name, host, port, pid, datadir = t.split(",", 4)
        s = Session(host, int(port), "root", "root")
        s.open(False)
        try:
            wf = write_flush(s, int(pid), args.rows, args.cols, args.points)
            bpp = bytes_per_point(s, pathlib.Path(datadir), args.series_points)
        finally:
            s.close()
        results[name] = (wf, bpp)
        print(f"{name}: done", file=sys.stderr, flush=True)
    print(
        f"write + FLUSH of {args.points:,} points ({args.rows:,}-row NumpyTablets x {args.cols} DOUBLE, "
        f"GORILLA + SNAPPY); bytes/point of {args.series_points:,} points of one series"
    )
    print(
        f"{'server':14}{'write s':>9}{'FLUSH s':>9}{'total s':>9}{'RSS before':>12}{'RSS after':>11}"
        f"{'B/pt smooth':>13}{'B/pt random':>13}"
    )
    for name, (wf, bpp) in results.items():
        print(
            f"{name:14}{wf['write']:9.2f}{wf['flush']:9.2f}{wf['write'] + wf['flush']:9.2f}"
            f"{wf['rss0']:9.0f} MiB{wf['rss1']:7.0f} MiB{bpp['smooth']:13.3f}{bpp['random']:13.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
