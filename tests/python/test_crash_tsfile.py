"""Crash test of the TsFile engine through the official 2.0.x client.

A writer ingests continuously (in-order tablets plus out-of-order rewrites, so that flushes
produce sequence and unsequence files and compaction has work) into a server configured to
flush and compact often, while the server is killed with ``kill -9`` at random moments — so
kills land during flushes and compactions too. After every restart all acknowledged points
must be there with the right values, no point may appear that was never sent, and counts
must equal the number of distinct timestamps (nothing duplicated).

``IOTDB_RS_CRASH_CYCLES`` (default 20) and ``IOTDB_RS_CRASH_SEED`` tune the run; it is sized to
finish in well under three minutes.
"""

from __future__ import annotations

import os
import random
import threading
import time

import pytest
from iotdb.Session import Session
from iotdb.utils.IoTDBConstants import TSDataType
from iotdb.utils.Tablet import Tablet

from conftest import require_client
from server import IoTDBServer

require_client("2.0")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CYCLES = int(os.environ.get("IOTDB_RS_CRASH_CYCLES", "20"))
SEED = int(os.environ.get("IOTDB_RS_CRASH_SEED", str(int(time.time()))))
DEVICES = ["root.crash.d0", "root.crash.d1"]
ROWS = 500
THROTTLE_S = 0.004


def value(dev: int, t: int) -> int:
    """The value every write of (device, time) carries, so rewrites are idempotent."""
    return t * 7 + dev


class Writer(threading.Thread):
    """Writes tablets until stopped or the server dies; records what was acknowledged."""

    def __init__(self, srv: IoTDBServer, next_time: list[int], rng: random.Random):
        super().__init__(daemon=True)
        self.srv = srv
        self.next_time = next_time
        self.rng = rng
        self.acked: list[set[int]] = [set() for _ in DEVICES]
        self.sent: list[set[int]] = [set() for _ in DEVICES]
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            s = Session(self.srv.host, self.srv.port, "root", "root")
            s.open(False)
        except Exception:
            return
        try:
            while not self.stop.is_set():
                d = self.rng.randrange(len(DEVICES))
                if self.rng.random() < 0.2 and self.next_time[d] > ROWS:
                    # out of order: rewrite an earlier stretch
                    t0 = self.rng.randrange(0, self.next_time[d] - ROWS)
                else:
                    t0 = self.next_time[d]
                    self.next_time[d] += ROWS
                times = list(range(t0, t0 + ROWS))
                tab = Tablet(DEVICES[d], ["v"], [TSDataType.INT64], [[value(d, t)] for t in times], times)
                self.sent[d].update(times)
                s.insert_tablet(tab)
                self.acked[d].update(times)
                # a steady pace keeps the point count (and the run time) bounded on fast
                # machines while still flushing several times per cycle
                time.sleep(THROTTLE_S)
        except Exception:
            return
        finally:
            try:
                s.close()
            except Exception:
                pass


def _verify(srv: IoTDBServer, acked: list[set[int]], sent: list[set[int]]) -> int:
    s = Session(srv.host, srv.port, "root", "root")
    s.open(False)
    total = 0
    try:
        for d, dev in enumerate(DEVICES):
            if not sent[d]:
                continue
            ds = s.execute_query_statement(f"select v from {dev}")
            df = ds.todf()
            ds.close_operation_handle()
            times = df["Time"].tolist()
            vals = df[f"{dev}.v"].tolist()
            got = set(times)
            assert len(got) == len(times), f"{dev}: duplicated timestamps"
            missing = acked[d] - got
            assert not missing, f"{dev}: {len(missing)} acknowledged points lost, e.g. {sorted(missing)[:5]}"
            phantom = got - sent[d]
            assert not phantom, f"{dev}: {len(phantom)} points never sent, e.g. {sorted(phantom)[:5]}"
            bad = [(t, v) for t, v in zip(times, vals) if v != value(d, t)]
            assert not bad, f"{dev}: wrong values {bad[:5]}"
            ds = s.execute_query_statement(f"select count(v) from {dev}")
            cnt = ds.todf().iloc[0, 0]
            ds.close_operation_handle()
            assert cnt == len(got), f"{dev}: count {cnt} != {len(got)} distinct points"
            total += len(got)
    finally:
        s.close()
    return total


def test_kill_9_during_ingest_flush_and_compaction(tmp_path):
    rng = random.Random(SEED)
    conf = tmp_path / "iotdb-rs.properties"
    conf.write_text(
        "wal_mode=SYNC\n"
        "memtable_size_threshold=160000\n"
        "compaction_schedule_interval_in_ms=150\n"
        "max_inner_compaction_candidate_file_num=3\n"
    )
    srv = IoTDBServer(data_dir=tmp_path / "data", log_dir=tmp_path, extra_args=["--config", str(conf)])
    next_time = [0 for _ in DEVICES]
    acked: list[set[int]] = [set() for _ in DEVICES]
    sent: list[set[int]] = [set() for _ in DEVICES]
    started = time.monotonic()
    try:
        for cycle in range(CYCLES):
            srv.start()
            if cycle % 5 == 0 or cycle == CYCLES - 1:
                _verify(srv, acked, sent)
            w = Writer(srv, next_time, rng)
            w.start()
            time.sleep(rng.uniform(0.3, 2.0))
            srv.kill()
            w.stop.set()
            w.join(timeout=10)
            for d in range(len(DEVICES)):
                acked[d] |= w.acked[d]
                sent[d] |= w.sent[d]
        srv.start()
        total = _verify(srv, acked, sent)
        log = srv.log_path.read_text(errors="replace")
        print(
            f"crash test (seed {SEED}): {CYCLES} kills, {total} points verified, "
            f"{log.count('flushed ')} flushes and {log.count('compacted ')} compactions logged, "
            f"{time.monotonic() - started:.0f}s"
        )
        assert total > 0
    finally:
        srv.cleanup()
