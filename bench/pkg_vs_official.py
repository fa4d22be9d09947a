#!/usr/bin/env python3
"""Our ``iotdb`` package next to the official apache-iotdb 2.0.x client and DuckDB (a benchmark,
not a test). Run it with ``scripts/bench-pkg``.

In one run, against one release iotdb-rs server (remote) and on a temporary data directory
(embedded):

* ingest: TABLETS ``NumpyTablet``s of 10,000 rows x 10 DOUBLE (default 100: 10 M points),
  end to end (tablet built from the arrays, sent, acknowledged): our package remote vs the
  official client (a subprocess in the 2.0.x venv, same arrays), and our package embedded vs
  DuckDB appending the same arrays to a table (``DuckDBPyConnection.append`` of a DataFrame
  per tablet);
* query to pandas: 1 M rows x 4 DOUBLE (written and FLUSHed first): our ``todf()`` remote vs
  the official ``todf()``, and our ``todf()`` embedded vs DuckDB's ``.df()`` of the same rows.

Figures are medians of REPEAT ingest rounds (one per repeat into a fresh device) and of
QUERY_REPEAT queries (default 15, after one untimed run each: the first queries of a process
take 2-3x as long as later ones); every answer is checked (point counts, frame shapes and column
sums), and the ratios are printed.
The official client runs ``--worker`` mode of this file in its own venv (the two packages
share the import name ``iotdb``), seeing the same arrays (same generator seed). The two remote
``todf()`` series are taken in alternating blocks of QUERY_BLOCK queries (default 5, each after
one untimed query; who goes first alternates), so that a slow spell of the machine falls on
both clients alike instead of on whichever ran in it, while each block runs warm as a client
querying in a loop does.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from benchutil import wait_idle

ROWS_PER_TABLET = 10_000
INGEST_COLS = 10
QUERY_ROWS = 1_000_000
QUERY_COLS = 4


def ingest_arrays(tablets: int):
    rng = np.random.default_rng(11)
    names = [f"s{i}" for i in range(INGEST_COLS)]
    values = [rng.normal(0, 1, tablets * ROWS_PER_TABLET) for _ in range(INGEST_COLS)]
    times = np.arange(tablets * ROWS_PER_TABLET, dtype=np.int64)
    return names, times, values


QUERY_NAMES = [f"q{i}" for i in range(QUERY_COLS)]


def query_arrays():
    rng = np.random.default_rng(12)
    return QUERY_NAMES, np.arange(QUERY_ROWS, dtype=np.int64), [rng.normal(0, 1, QUERY_ROWS) for _ in range(QUERY_COLS)]


def quiet_server() -> float:
    """Waits until the benchmark's server (``IOTDB_RS_BENCH_PID``, set by scripts/bench-server)
    has been idle for a second, so that no measured client or engine shares the cores with
    the server's flushes and compactions of an earlier phase; seconds waited."""
    pid = os.environ.get("IOTDB_RS_BENCH_PID")
    return wait_idle([int(pid)]) if pid else 0.0


def ingest(session, device, tablets):
    """Seconds to write every tablet through ``session`` (any client with the official API)."""
    from iotdb.utils.IoTDBConstants import TSDataType
    from iotdb.utils.NumpyTablet import NumpyTablet

    names, times, values = ingest_arrays(tablets)
    types = [TSDataType.DOUBLE] * INGEST_COLS
    t0 = time.perf_counter()
    for k in range(tablets):
        lo, hi = k * ROWS_PER_TABLET, (k + 1) * ROWS_PER_TABLET
        session.insert_tablet(NumpyTablet(device, names, types, [v[lo:hi] for v in values], times[lo:hi]))
    return time.perf_counter() - t0


def write_query_data(session, device):
    from iotdb.utils.IoTDBConstants import TSDataType
    from iotdb.utils.NumpyTablet import NumpyTablet

    names, times, values = query_arrays()
    step = 50_000
    for lo in range(0, QUERY_ROWS, step):
        tab = NumpyTablet(
            device, names, [TSDataType.DOUBLE] * QUERY_COLS, [v[lo : lo + step] for v in values], times[lo : lo + step]
        )
        session.insert_tablet(tab)
    session.execute_non_query_statement("FLUSH")


QUERY_DEVICE = "root.ours.q"


def todf_once(session, device=QUERY_DEVICE):
    """Seconds of one ``SELECT q0..q3`` to a DataFrame, and the frame."""
    sql = f"select {', '.join(QUERY_NAMES)} from {device}"
    t0 = time.perf_counter()
    ds = session.execute_query_statement(sql)
    df = ds.todf()
    ds.close_operation_handle()
    return time.perf_counter() - t0, df


def frame_check(df):
    """Shape and column sum of a result frame, to compare the clients' answers."""
    return [list(df.shape), float(df.iloc[:, 1:].to_numpy().sum())]


def todf_times(session, repeat):
    """Median seconds of ``SELECT q0..q3`` to a DataFrame (after one untimed run, as every
    client and DuckDB get here: the first run of a process pays for faulting in its buffers)
    and the check of the last frame."""
    times, df = todf_block(session, repeat)
    return statistics.median(times), frame_check(df)


def count(session, path):
    ds = session.execute_query_statement(f"select count(*) from {path}")
    df = ds.todf()
    ds.close_operation_handle()
    return int(df.iloc[0].sum())


def ingest_rounds(session, prefix, tablets, repeat):
    """Seconds of each of ``repeat`` rounds writing every tablet into a fresh device, and the
    points each device holds afterwards (none when ``tablets`` is 0). Ends with a FLUSH, so
    that the next client (or the embedded rounds) does not share the 2 cores with the
    server's background flush of these rounds' points."""
    seconds, points = [], []
    for r in range(repeat if tablets else 0):
        device = f"{prefix}.i{r}"
        seconds.append(ingest(session, device, tablets))
        points.append(count(session, device))
    if tablets:
        session.execute_non_query_statement("FLUSH")
    return seconds, points


def ours_rounds(session, a, query=True):
    """Our package's ingest rounds, then the query data written (and with ``query``, read back
    to pandas: the embedded rounds; the remote queries alternate with the official client's)."""
    seconds, points = ingest_rounds(session, "root.ours", a.tablets, a.repeat)
    if a.only == "ingest":
        return seconds, points, None, None
    write_query_data(session, QUERY_DEVICE)
    quiet_server()
    return seconds, points, *(todf_times(session, a.query_repeat) if query else (None, None))


def say(obj):
    """One line of the worker's answers to the main process (tagged: the client may print)."""
    print(TAG + json.dumps(obj), flush=True)


def hear(pipe):
    """The next tagged line from the worker, decoded."""
    for line in pipe:
        if line.startswith(TAG):
            return json.loads(line[len(TAG) :])
    raise RuntimeError("the official client's worker ended early")


TAG = "@@bench "


def todf_block(session, n):
    """Seconds of ``n`` queries to a DataFrame back to back, after one untimed query (the
    first after the other client's block pays for the caches that block took), and the
    last frame."""
    todf_once(session)
    times, df = [], None
    for _ in range(n):
        t, df = todf_once(session)
        times.append(t)
    return times, df


def worker(a) -> int:
    """The official client's half (runs in its venv): its ingest rounds, then a block of N
    timed queries per ``N`` line on stdin until ``end``; answers as tagged JSON lines."""
    from iotdb.Session import Session

    s = Session(a.host, str(a.port), "root", "root")
    s.open(False)
    ingest, points = ingest_rounds(s, "root.official", a.tablets, a.repeat)
    client = __import__("importlib.metadata").metadata.version("apache-iotdb")
    say({"client": client, "ingest": ingest, "points": points})
    if a.only != "ingest":
        quiet_server()
        say("ready")
        df = None
        for line in sys.stdin:
            if not line.strip().isdigit():
                break
            times, df = todf_block(s, int(line))
            say(times)
        say(frame_check(df))
    s.close()
    return 0


def interleaved_queries(session, official, repeat, block, warmup=1, times_out=None):
    """Remote ``todf()`` of our package and of the official client in alternating blocks of
    ``block`` timed queries each (who goes first alternates), ``repeat`` per client in all,
    so that both meet the machine's slow spells alike while each block runs warm, as a
    client querying in a loop does: the medians of each and the check of our last frame.
    ``warmup`` blocks per client go first, untimed: each process's first queries grow its
    allocator's arenas and the server's (thousands of page faults each)."""
    assert hear(official.stdout) == "ready"
    ours, theirs, df = [], [], None
    k = 0
    while len(ours) < repeat + warmup * block:
        n = min(block, repeat + warmup * block - len(ours))
        for who in ("ours", "official") if k % 2 == 0 else ("official", "ours"):
            if who == "ours":
                times, df = todf_block(session, n)
                ours += times
            else:
                official.stdin.write(f"{n}\n")
                official.stdin.flush()
                theirs += hear(official.stdout)
        k += 1
    ours, theirs = ours[warmup * block :], theirs[warmup * block :]
    if times_out:
        for who, ts in (("ours", ours), ("official", theirs)):
            print(f"remote todf() ms, {who}, in order:", " ".join(f"{x * 1e3:.1f}" for x in ts), file=times_out)
    return statistics.median(ours), statistics.median(theirs), frame_check(df)


def main(a) -> int:
    import duckdb
    import pandas as pd
    from iotdb.Session import Session

    if a.only == "query":
        a.tablets = 0
    points = a.tablets * ROWS_PER_TABLET * INGEST_COLS
    expected = [points] * (a.repeat if a.tablets else 0)
    print(
        f"ingest: {a.tablets} NumpyTablets of {ROWS_PER_TABLET:,} rows x {INGEST_COLS} DOUBLE = {points:,} points; "
        f"query: {QUERY_ROWS:,} rows x {QUERY_COLS} DOUBLE to pandas; medians of {a.repeat} ingest rounds, "
        f"{a.query_repeat} queries"
    )
    waited = quiet_server()
    remote = Session(a.host, str(a.port), "root", "root")
    remote.open(False)
    ours_remote, counts, _, _ = ours_rounds(remote, a, query=False)
    assert counts == expected, "remote ingest lost points"
    ours_remote_q = ours_check = None
    waited += quiet_server()
    cmd = [a.official_python, __file__, "--worker", "--host", a.host, "--port", str(a.port)]
    cmd += ["--tablets", str(a.tablets), "--repeat", str(a.repeat), "--only", a.only]
    with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as worker_proc:
        official = hear(worker_proc.stdout)
        if a.only != "ingest":
            ours_remote_q, official["todf"], ours_check = interleaved_queries(
                remote,
                worker_proc,
                a.query_repeat,
                a.query_block,
                a.query_warmup,
                sys.stdout if a.all_times else None,
            )
            worker_proc.stdin.write("end\n")
            worker_proc.stdin.flush()
            official["check"] = hear(worker_proc.stdout)
        worker_proc.stdin.close()
    assert worker_proc.returncode == 0, "the official client's worker failed"
    remote.close()
    assert official["points"] == expected, "official client's ingest lost points"
    if a.only != "ingest":
        assert official["check"][0] == ours_check[0] and abs(official["check"][1] - ours_check[1]) < 1e-6, (
            official["check"],
            ours_check,
        )

    waited += quiet_server()
    tmp = tempfile.mkdtemp(prefix="iotdb-rs-bench-pkg-")
    try:
        emb = Session.embedded(f"{tmp}/data")
        emb.open()
        ours_emb, counts, ours_emb_q, emb_check = ours_rounds(emb, a)
        emb.close()
        assert counts == expected, "embedded ingest lost points"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if a.only != "ingest":
        assert emb_check[0] == ours_check[0] and abs(emb_check[1] - ours_check[1]) < 1e-6

    waited += quiet_server()
    names, times, values = ingest_arrays(a.tablets)
    duck_ingest = []
    for _ in range(a.repeat if a.tablets else 0):
        db = duckdb.connect()
        db.execute(f"CREATE TABLE t (time BIGINT, {', '.join(n + ' DOUBLE' for n in names)})")
        t0 = time.perf_counter()
        for k in range(a.tablets):
            lo, hi = k * ROWS_PER_TABLET, (k + 1) * ROWS_PER_TABLET
            db.append("t", pd.DataFrame({"time": times[lo:hi], **{n: v[lo:hi] for n, v in zip(names, values)}}))
        duck_ingest.append(time.perf_counter() - t0)
        assert db.execute("select count(*) from t").fetchone()[0] == a.tablets * ROWS_PER_TABLET
        db.close()
    med = statistics.median
    rows = []
    if a.tablets:
        name = "ingest remote: ours vs official " + official["client"]
        rows += [
            (name, med(ours_remote), med(official["ingest"]), points),
            ("ingest embedded: ours vs DuckDB append", med(ours_emb), med(duck_ingest), points),
        ]
    if a.only != "ingest":
        rows += query_rows(a, official, ours_remote_q, ours_emb_q, ours_check)
    print(f"(waited {waited:.1f} s in all for the server to go idle before each phase)")
    print(f"{'':52} {'ours':>20} {'baseline':>20} {'speed-up':>9}")
    for name, ours_s, base_s, n in rows:
        ours = f"{ours_s * 1e3:8.1f} ms {n / ours_s / 1e6:6.1f} M/s"
        base = f"{base_s * 1e3:8.1f} ms {n / base_s / 1e6:6.1f} M/s"
        print(f"{name:52} {ours} {base} {base_s / ours_s:8.2f}x")
    return 0


def query_rows(a, official, ours_remote_q, ours_emb_q, ours_check):
    """DuckDB's ``.df()`` of the query rows, and the two query rows of the table."""
    import duckdb
    import pandas as pd

    qnames, qtimes, qvalues = query_arrays()
    db = duckdb.connect()
    frame = pd.DataFrame({"time": qtimes, **dict(zip(qnames, qvalues))})
    db.register("frame", frame)
    db.execute("CREATE TABLE q AS SELECT * FROM frame")
    db.unregister("frame")
    duck_q = []
    db.execute(f"SELECT time, {', '.join(qnames)} FROM q ORDER BY time").df()
    for _ in range(a.query_repeat):
        t0 = time.perf_counter()
        df = db.execute(f"SELECT time, {', '.join(qnames)} FROM q ORDER BY time").df()
        duck_q.append(time.perf_counter() - t0)
    assert list(df.shape) == ours_check[0]
    n = QUERY_ROWS * QUERY_COLS
    return [
        ("query to pandas remote: ours vs official todf()", ours_remote_q, official["todf"], n),
        ("query to pandas embedded: ours vs DuckDB .df()", ours_emb_q, statistics.median(duck_q), n),
    ]


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=6667)
    p.add_argument("--tablets", type=int, default=100)
    p.add_argument("--repeat", type=int, default=3, help="ingest rounds")
    p.add_argument(
        "--query-repeat",
        type=int,
        default=15,
        help="timed queries (milliseconds each: their first runs in a process are slower, so more of them)",
    )
    p.add_argument(
        "--query-block",
        type=int,
        default=5,
        help="remote queries per client in a row (the clients alternate block by block)",
    )
    p.add_argument(
        "--query-warmup",
        type=int,
        default=1,
        help="untimed blocks of remote queries per client before the timed ones",
    )
    p.add_argument("--official-python", help="python of the venv with apache-iotdb 2.0.x")
    p.add_argument("--only", choices=["ingest", "query", "all"], default="all", help="run only these rows")
    p.add_argument("--all-times", action="store_true", help="also print every timed remote todf(), in order")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    sys.exit(worker(args) if args.worker else main(args))
