#!/usr/bin/env python3
"""The statements of bench/vs_iotdb.py timed through our own `iotdb` package on both servers.

Run by bench/vs_iotdb.py in the venv that holds our package (the official client of the main
table has the same import name, so the two cannot share a process). It reads a JSON list of
[label, statement] pairs on stdin, times each statement on iotdb-rs and on Apache IoTDB (the
same client, our package's Rust-decoded `todf()`, on both), checks that both servers give the
same frame, and prints one JSON object: label -> [median seconds on iotdb-rs, on IoTDB].

A thinner client than the official one shows more of the servers' own difference: the official
client spends about 0.3 ms of Python per statement whatever the server does.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
from benchutil import median_time
from iotdb.Session import Session


def endpoint(text: str) -> tuple[str, int]:
    host, port = text.rsplit(":", 1)
    return host, int(port)


def df(session: Session, sql: str):
    with session.execute_query_statement(sql) as ds:
        return ds.todf()


def values(frame) -> np.ndarray:
    keep = [c for c in frame.columns if c not in ("Time", "Timeseries", "DataType")]
    if "Timeseries" in frame.columns:
        frame = frame.sort_values("Timeseries")
    return frame[keep].to_numpy().astype(float)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ours", type=endpoint, required=True, help="iotdb-rs HOST:PORT")
    p.add_argument("--theirs", type=endpoint, required=True, help="Apache IoTDB HOST:PORT")
    p.add_argument("--repeat", type=int, default=15)
    a = p.parse_args(argv)
    sessions = []
    for host, port in (a.ours, a.theirs):
        s = Session(host, port, "root", "root", fetch_size=10_000)
        s.open(False)
        sessions.append(s)
    out = {}
    for label, sql in json.load(sys.stdin):
        for s in sessions:  # one untimed run each, as in the main table
            df(s, sql)
        timed = [median_time(lambda s=s, sql=sql: df(s, sql), a.repeat) for s in sessions]
        x, y = (values(f) for _, f in timed)
        if x.shape != y.shape or not np.allclose(x, y, rtol=1e-9, atol=1e-9, equal_nan=True):
            raise SystemExit(f"{label}: the servers' answers differ through our package")
        out[label] = [t for t, _ in timed]
    for s in sessions:
        s.close()
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
