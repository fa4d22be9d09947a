#!/usr/bin/env python3
"""iotdb-rs against Apache IoTDB on the same data in the same run (a benchmark, not a test).

Both servers get the same arrays through the official apache-iotdb 2.0.x client, are FLUSHed,
and answer the same statements; every answer is compared between them (counts exactly, values
to 1e-9). DuckDB (in-memory table of the same arrays) is the third column where the statement
has an SQL equivalent. Printed per row: median wall time (client call to a finished pandas
DataFrame) of iotdb-rs, IoTDB and DuckDB, and the ratio IoTDB / iotdb-rs (how many times faster
iotdb-rs is). The last rows read the servers' resident memory (/proc/PID/status) while a client
pages through SELECT * of the whole series.

Workload: device root.vs.one, one DOUBLE series of ROWS points (default 10 M, a smooth signal
plus noise, times 0, 1, 2, ... ms); device root.vs.four, 1 M rows x 4 DOUBLE; 1,000 devices
root.vs.many.dK with one point each for SELECT LAST.

Run with scripts/bench-vs-iotdb (starts both servers); or point it at running ones with
--ours HOST:PORT:PID --theirs HOST:PORT:PID.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time

import duckdb
import numpy as np
import pandas as pd
from benchutil import median_time, wait_idle
from iotdb.Session import Session
from iotdb.utils.IoTDBConstants import TSDataType
from iotdb.utils.NumpyTablet import NumpyTablet


def endpoint(text: str) -> tuple[str, int, int]:
    host, port, pid = text.rsplit(":", 2)
    return host, int(port), int(pid)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ours", type=endpoint, required=True, help="iotdb-rs HOST:PORT:PID")
    p.add_argument("--theirs", type=endpoint, required=True, help="Apache IoTDB HOST:PORT:PID")
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument(
        "--package-python",
        help="a Python with our iotdb package: also time the statements through it on both servers",
    )
    return p.parse_args(argv)


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    def __init__(self, name: str, host: str, port: int, pid: int):
        self.name, self.pid = name, pid
        self.s = Session(host, port, "root", "root", fetch_size=10_000)
        self.s.open(False)

    def run(self, sql: str) -> None:
        self.s.execute_non_query_statement(sql)

    def df(self, sql: str) -> pd.DataFrame:
        with self.s.execute_query_statement(sql) as ds:
            return ds.todf()

    def load(self, rows: int, one: np.ndarray, four: list[np.ndarray]) -> float:
        try:
            self.run("DELETE DATABASE root.vs")
        except Exception:  # absent on a fresh server
            pass
        self.run("CREATE DATABASE root.vs")
        t0 = time.perf_counter()
        step = 100_000
        for lo in range(0, rows, step):
            hi = min(lo + step, rows)
            t = np.arange(lo, hi, dtype=np.int64)
            self.s.insert_tablet(NumpyTablet("root.vs.one", ["s0"], [TSDataType.DOUBLE], [one[lo:hi]], t))
        n4 = len(four[0])
        for lo in range(0, n4, step):
            hi = min(lo + step, n4)
            t = np.arange(lo, hi, dtype=np.int64)
            tab = NumpyTablet(
                "root.vs.four", ["a", "b", "c", "d"], [TSDataType.DOUBLE] * 4, [c[lo:hi] for c in four], t
            )
            self.s.insert_tablet(tab)
            # the same columns as an aligned device (IoTDB 2.x's model for tablets)
            tab = NumpyTablet(
                "root.vs.aligned", ["a", "b", "c", "d"], [TSDataType.DOUBLE] * 4, [c[lo:hi] for c in four], t
            )
            self.s.insert_aligned_tablet(tab)
        for k in range(1000):
            self.run(f"INSERT INTO root.vs.many.d{k}(time, v) VALUES ({k}, {k}.5)")
        self.run("FLUSH")
        return time.perf_counter() - t0

    def scan_rss(self, sql: str) -> tuple[float, float, int]:
        """Pages through `sql` while sampling RSS: (RSS before, peak RSS, rows)."""
        before, peak, done = rss_mib(self.pid), [0.0], threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss_mib(self.pid))
                time.sleep(0.02)

        th = threading.Thread(target=sample)
        th.start()
        rows = 0
        try:
            with self.s.execute_query_statement(sql) as ds:
                # page by page as DataFrames (row-by-row Python would outlast IoTDB's timeout)
                while ds.has_next_df():
                    rows += len(ds.next_df())
        finally:
            done.set()
            th.join()
        return before, max(peak[0], rss_mib(self.pid)), rows


def same(label: str, a: pd.DataFrame, b: pd.DataFrame) -> None:
    x = a.drop(columns=[c for c in a.columns if c in ("Time", "Timeseries", "DataType")], errors="ignore")
    y = b.drop(columns=[c for c in b.columns if c in ("Time", "Timeseries", "DataType")], errors="ignore")
    xv, yv = x.to_numpy(), y.to_numpy()
    if xv.shape != yv.shape:
        raise SystemExit(f"{label}: shapes differ: {xv.shape} vs {yv.shape}")
    try:
        ok = np.allclose(xv.astype(float), yv.astype(float), rtol=1e-9, atol=1e-9, equal_nan=True)
    except (TypeError, ValueError):
        ok = (xv == yv).all()
    if not ok:
        raise SystemExit(f"{label}: answers differ:\n{a.head()}\n{b.head()}")


def package_table(a: argparse.Namespace, cases: list) -> None:
    """The same statements through our package on both servers (bench/vs_iotdb_pkg.py)."""
    here = os.path.dirname(os.path.abspath(__file__))
    ours, theirs = (f"{host}:{port}" for host, port, _ in (a.ours, a.theirs))
    script = os.path.join(here, "vs_iotdb_pkg.py")
    run = subprocess.run(
        [a.package_python, script, "--ours", ours, "--theirs", theirs, "--repeat", str(a.repeat)],
        input=json.dumps([[label, sql] for label, sql, _ in cases]),
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        raise SystemExit(f"bench/vs_iotdb_pkg.py failed:\n{run.stderr}")
    times = json.loads(run.stdout)
    print("the same statements through our iotdb package (Rust client, todf()) on both servers:")
    print(f"{'statement':<44} {'iotdb-rs':>10} {'IoTDB':>10} {'IoTDB/ours':>11}")
    for label, (t_ours, t_theirs) in times.items():
        print(f"{label:<44} {t_ours * 1e3:>8.1f}ms {t_theirs * 1e3:>8.1f}ms {t_theirs / t_ours:>11.1f}")


def main(argv: list[str]) -> int:
    a = parse_args(argv)
    rng = np.random.default_rng(11)
    n = a.rows
    times = np.arange(n, dtype=np.int64)
    one = np.sin(times / 5000.0) * 20 + rng.normal(0, 0.5, n)
    four = [np.sin(np.arange(1_000_000) / (3000.0 + 500 * i)) * 10 + rng.normal(0, 0.2, 1_000_000) for i in range(4)]
    ours = Server("iotdb-rs", *a.ours)
    theirs = Server("IoTDB", *a.theirs)
    loads = {srv.name: srv.load(n, one, four) for srv in (ours, theirs)}
    # background work after the load (IoTDB compacts its fresh files) takes a core from
    # whichever server is being timed: start timing once both have been idle for a while
    waited = wait_idle([ours.pid, theirs.pid])

    db = duckdb.connect()
    db.register("f1", pd.DataFrame({"time": times, "s0": one}))
    db.execute("CREATE TABLE one AS SELECT * FROM f1")
    db.unregister("f1")

    r0, r1 = n // 10, n - n // 10
    cases = [
        (
            "count/avg/max/min, whole range",
            "select count(s0), avg(s0), max_value(s0), min_value(s0) from root.vs.one",
            "SELECT count(s0), avg(s0), max(s0), min(s0) FROM one",
        ),
        (
            "count/avg/max/min WHERE s0 > -1e300",
            "select count(s0), avg(s0), max_value(s0), min_value(s0) from root.vs.one where s0 > -1e300",
            "SELECT count(s0), avg(s0), max(s0), min(s0) FROM one WHERE s0 > -1e300",
        ),
        (
            "count/avg WHERE s0 > 0 (half the points)",
            "select count(s0), avg(s0) from root.vs.one where s0 > 0",
            "SELECT count(s0), avg(s0) FROM one WHERE s0 > 0",
        ),
        (
            "count/avg, 80 % time range",
            f"select count(s0), avg(s0) from root.vs.one where time >= {r0} and time < {r1}",
            f"SELECT count(s0), avg(s0) FROM one WHERE time >= {r0} AND time < {r1}",
        ),
        (
            "avg GROUP BY time, 100 windows",
            f"select avg(s0) from root.vs.one group by ([0, {n}), {n // 100}ms)",
            f"SELECT time // {n // 100} AS w, avg(s0) FROM one GROUP BY w ORDER BY w",
        ),
        (
            "avg GROUP BY time, 10,000 windows",
            f"select avg(s0) from root.vs.one group by ([0, {n}), {n // 10000}ms)",
            f"SELECT time // {n // 10000} AS w, avg(s0) FROM one GROUP BY w ORDER BY w",
        ),
        ("raw 1 M rows x 4 to DataFrame", "select a, b, c, d from root.vs.four", None),
        ("raw 1 M rows x 4, aligned device", "select a, b, c, d from root.vs.aligned", None),
        (
            "count/avg of 4 columns, aligned device",
            "select count(a), avg(b), count(c), avg(d) from root.vs.aligned",
            None,
        ),
        ("SELECT LAST of 1,000 series", "select last v from root.vs.many.**", None),
    ]
    print(
        f"{n:,} points (root.vs.one) + 1 M x 4 (non-aligned and aligned) + 1,000 series; written + FLUSHed in "
        f"{loads['iotdb-rs']:.1f} s (iotdb-rs) / {loads['IoTDB']:.1f} s (IoTDB); median of {a.repeat} runs "
        f"(after {waited:.1f} s waiting for both servers to go idle)"
    )
    print(f"{'statement':<44} {'iotdb-rs':>10} {'IoTDB':>10} {'DuckDB':>10} {'IoTDB/ours':>11} {'ours/DuckDB':>12}")
    for label, sql, dsql in cases:
        for srv in (ours, theirs):  # one untimed run each: caches warm on both sides
            srv.df(sql)
        t_ours, d_ours = median_time(lambda sql=sql: ours.df(sql), a.repeat)
        t_theirs, d_theirs = median_time(lambda sql=sql: theirs.df(sql), a.repeat)
        if "LAST" in label:
            d_ours = d_ours.sort_values("Timeseries").reset_index(drop=True)
            d_theirs = d_theirs.sort_values("Timeseries").reset_index(drop=True)
            d_ours["Value"] = d_ours["Value"].astype(float)
            d_theirs["Value"] = d_theirs["Value"].astype(float)
        same(label, d_ours, d_theirs)
        if dsql:
            t_duck, _ = median_time(lambda dsql=dsql: db.execute(dsql).df(), a.repeat)
            duck, vs_duck = f"{t_duck * 1e3:>8.1f}ms", f"{t_ours / t_duck:>12.2f}"
        else:
            duck, vs_duck = f"{'-':>10}", f"{'-':>12}"
        ours_ms, theirs_ms = f"{t_ours * 1e3:>8.1f}ms", f"{t_theirs * 1e3:>8.1f}ms"
        print(f"{label:<44} {ours_ms} {theirs_ms} {duck} {t_theirs / t_ours:>11.1f} {vs_duck}")
    if a.package_python:
        package_table(a, cases)
    for srv in (ours, theirs):
        before, peak, rows = srv.scan_rss("select s0 from root.vs.one")
        print(
            f"{srv.name:<9} paging SELECT s0 ({rows:,} rows): RSS {before:,.0f} MiB before, peak {peak:,.0f} MiB "
            f"(+{peak - before:,.0f} MiB)"
        )
    ours.s.close()
    theirs.s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
