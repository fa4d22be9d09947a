"""Import and export of 10 M points: the iotdb-rs data tools next to the official Python client.

Run through ``scripts/bench-tools`` (which starts a release server and passes --host/--port and
the binary in IOTDB_RS_BIN). The same CSV (``--rows`` rows x ``--columns`` DOUBLE columns, epoch
milliseconds, types in the header) is

* imported by ``iotdb-rs import-csv`` into ``root.bench_rs.d1``, and by the official
  ``apache-iotdb`` 2.0.x client into ``root.bench_py.d1`` the way a Python user would:
  ``pandas.read_csv`` then ``NumpyTablet`` batches of ``--batch`` rows;
* exported by ``iotdb-rs export-csv`` (one file, epoch-ms times) and by the client:
  ``execute_query_statement`` + ``todf()`` + ``DataFrame.to_csv``;
* exported by ``iotdb-rs export-tsfile`` (no client counterpart; for scale).

Every import is checked with ``count(*)`` and every export by its row count. Figures are wall
times of one run each, printed with points/s and the client / iotdb-rs ratio measured in the
same run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from benchutil import count_points
from iotdb.Session import Session
from iotdb.utils.IoTDBConstants import TSDataType
from iotdb.utils.NumpyTablet import NumpyTablet


def write_csv(path: Path, rows: int, columns: int, device: str) -> None:
    rng = np.random.default_rng(7)
    data = {"Time": np.arange(rows, dtype=np.int64) * 1000 + 1_700_000_000_000}
    for c in range(columns):
        data[f"{device}.s{c}(DOUBLE)"] = np.round(rng.normal(20.0, 5.0, rows), 3)
    pd.DataFrame(data).to_csv(path, index=False)


def tool(binary: str, args: list[str]) -> float:
    started = time.perf_counter()
    out = subprocess.run([binary, *args], capture_output=True, text=True)
    took = time.perf_counter() - started
    if out.returncode != 0:
        sys.exit(f"iotdb-rs {' '.join(args)} failed: {out.stderr}")
    return took


def client_import(session: Session, csv: Path, device: str, batch: int) -> float:
    started = time.perf_counter()
    df = pd.read_csv(csv)
    times = df["Time"].to_numpy(dtype=np.int64)
    names = [c.rsplit(".", 1)[1].split("(")[0] for c in df.columns[1:]]
    values = [df[c].to_numpy(dtype=np.float64) for c in df.columns[1:]]
    types = [TSDataType.DOUBLE] * len(names)
    for lo in range(0, len(times), batch):
        hi = min(lo + batch, len(times))
        session.insert_tablet(NumpyTablet(device, names, types, [v[lo:hi] for v in values], times[lo:hi]))
    return time.perf_counter() - started


def client_export(session: Session, query: str, out: Path) -> tuple[float, int]:
    started = time.perf_counter()
    ds = session.execute_query_statement(query)
    try:
        df = ds.todf()
    finally:
        ds.close_operation_handle()
    df.to_csv(out, index=False)
    return time.perf_counter() - started, len(df)


def lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=6667)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--columns", type=int, default=10)
    ap.add_argument("--batch", type=int, default=10_000)
    a = ap.parse_args()
    binary = os.environ["IOTDB_RS_BIN"]
    conn = ["-h", a.host, "-p", str(a.port)]
    points = a.rows * a.columns
    session = Session(a.host, a.port, "root", "root", fetch_size=10_000)
    session.open(False)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv = tmp / "in.csv"
        write_csv(csv, a.rows, a.columns, "root.bench_rs.d1")
        size = csv.stat().st_size
        print(f"{a.rows:,} rows x {a.columns} DOUBLE = {points:,} points, CSV {size / 1e6:.0f} MB")

        ours_in = tool(binary, ["import-csv", *conn, "-f", str(csv), "-batch", str(a.batch)])
        theirs_in = client_import(session, csv, "root.bench_py.d1", a.batch)
        for db in ("root.bench_rs", "root.bench_py"):
            got = count_points(session, f"{db}.**")
            assert got == points, f"{db}: {got} points, expected {points}"

        q = "select * from {}.d1"
        out_dir = tmp / "out"
        ours_out = tool(
            binary,
            [
                "export-csv",
                *conn,
                "-q",
                q.format("root.bench_rs"),
                "-td",
                str(out_dir),
                "-tf",
                "long",
                "-lpf",
                str(a.rows + 1),
            ],
        )
        exported = out_dir / "dump0_0.csv"
        assert lines(exported) == a.rows + 1, lines(exported)
        theirs_out, n = client_export(session, q.format("root.bench_py"), tmp / "client.csv")
        assert n == a.rows, n
        ours_ts = tool(
            binary,
            ["export-tsfile", *conn, "-q", q.format("root.bench_rs"), "-td", str(tmp / "ts")],
        )
    session.close()

    def line(what: str, ours: float, theirs: float | None) -> None:
        text = f"{what:<8} iotdb-rs {ours:6.2f} s ({points / ours / 1e6:5.2f} M points/s)"
        if theirs is not None:
            text += (
                f" | official client {theirs:6.2f} s ({points / theirs / 1e6:5.2f} M points/s)"
                f" | client/iotdb-rs {theirs / ours:4.1f}x"
            )
        print(text)

    line("import", ours_in, theirs_in)
    line("export", ours_out, theirs_out)
    line("tsfile", ours_ts, None)


if __name__ == "__main__":
    main()
