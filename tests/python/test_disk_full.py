"""A full disk under a running server, through the official 2.0.x client.

Two ways to fill the disk:

* ``hook``: the server runs with ``IOTDB_RS_SIMULATE_ENOSPC=<file>``; while that file exists,
  every write under its data directory fails with ENOSPC (TsFiles, checksums, WAL, schema log,
  mods, compaction log, the write probe). Runs everywhere.
* ``tmpfs``: the data directory is a small tmpfs that the writes really fill. Needs root (to
  mount); skipped otherwise.

Either way: once the disk is full, writes are refused at once with status 600 (read-only)
and a message naming the cause, reads keep working and see every acknowledged point, the
server's memory stays bounded while clients keep trying, SIGTERM stops it on its own, and
after the space is freed and a restart every acknowledged point is there and writes work.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from iotdb.Session import Session
from iotdb.utils.IoTDBConstants import TSDataType
from iotdb.utils.NumpyTablet import NumpyTablet

from clientutil import error_code, query_df
from conftest import require_client
from server import IoTDBServer

require_client("2.0")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

DEVICE = "root.full.d"
ROWS = 2000
#: RSS growth allowed while clients keep sending refused writes for a few seconds.
RSS_GROWTH_LIMIT_KB = 64 * 1024


def _tablet(k: int, rng: np.random.Generator) -> NumpyTablet:
    times = np.arange(k * ROWS, (k + 1) * ROWS, dtype=">i8")
    # random doubles: they do not compress, so they fill a small disk
    vals = [rng.standard_normal(ROWS).astype(">f8"), (times * 3).astype(">i8")]
    return NumpyTablet(DEVICE, ["v", "w"], [TSDataType.DOUBLE, TSDataType.INT64], vals, times)


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _assert_all_acked(s: Session, acked: int) -> None:
    """Every acknowledged point is there with its value; nothing else but (perhaps) points
    of the one tablet whose write failed (a failed write may have been applied, as in IoTDB)."""
    df = query_df(s, f"select w from {DEVICE}")
    times = df["Time"].to_numpy()
    assert len(times) >= acked * ROWS, f"{len(times)} rows, {acked * ROWS} acknowledged"
    assert times.max(initial=0) < (acked + 1) * ROWS
    np.testing.assert_array_equal(times[: acked * ROWS], np.arange(acked * ROWS))
    np.testing.assert_array_equal(df[f"{DEVICE}.w"].to_numpy(), times * 3)


class _Disk:
    """Fills and frees the disk under a data directory (see the module docstring)."""

    def __init__(self, mode: str, tmp_path: Path, monkeypatch):
        self.mode = mode
        self.trigger = tmp_path / "disk-full"
        self.volume = tmp_path / "volume"
        self.mounted = False
        if mode == "hook":
            monkeypatch.setenv("IOTDB_RS_SIMULATE_ENOSPC", str(self.trigger))
            self.data_dir = tmp_path / "data"
        else:
            if os.geteuid() != 0:
                pytest.skip("mounting a small tmpfs needs root")
            self.volume.mkdir()
            r = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(self.volume)],
                capture_output=True,
                text=True,
            )
            if r.returncode != 0:
                pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
            self.mounted = True
            self.data_dir = self.volume / "data"

    def fill(self) -> None:
        if self.mode == "hook":
            self.trigger.touch()
        # a tmpfs fills by itself under the writes

    def free(self) -> None:
        if self.mode == "hook":
            self.trigger.unlink()
        else:
            subprocess.run(["mount", "-o", "remount,size=512m", str(self.volume)], check=True)

    def release(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.volume)], check=False)


@pytest.mark.parametrize("mode", ["hook", "tmpfs"])
def test_full_disk_refuses_writes_keeps_reads_and_loses_nothing(tmp_path, monkeypatch, mode):
    disk = _Disk(mode, tmp_path, monkeypatch)
    conf = tmp_path / "iotdb.properties"
    # small memtables: flushes (which hit the full disk too) come every few tablets
    conf.write_text("memtable_size_threshold=400000\nwal_mode=SYNC\ncompaction_schedule_interval_in_ms=500\n")
    srv = IoTDBServer(data_dir=disk.data_dir, log_dir=tmp_path, extra_args=["--config", str(conf)])
    rng = np.random.default_rng(7)
    try:
        srv.start()
        s = Session(srv.host, srv.port, "root", "root")
        s.open(False)
        acked = 0
        for _ in range(10):
            s.insert_tablet(_tablet(acked, rng))
            acked += 1
        disk.fill()
        # write until refused (at once with the hook; when the volume is full with a tmpfs)
        first_error = None
        for _ in range(2000):
            try:
                s.insert_tablet(_tablet(acked, rng))
                acked += 1
            except Exception as e:  # the client raises on an error status
                first_error = e
                break
        assert first_error is not None, "writes were never refused"
        failed_at = time.monotonic()
        # from now on refusals are immediate, with status 600 and the cause (until the first
        # probe of the disk, 1 s later). Every retry re-sends the next tablet, so an error
        # can only ever concern that one.
        refusals = 0
        while refusals < 20 and time.monotonic() - failed_at < 0.8:
            with pytest.raises(Exception) as info:
                s.insert_tablet(_tablet(acked, rng))
            assert error_code(info.value) == 600, repr(info.value)
            assert "No space left on device" in str(info.value), repr(info.value)
            refusals += 1
        refusal_s = time.monotonic() - failed_at
        assert refusals >= 5, f"only {refusals} refusals in 0.8 s: not immediate"
        with pytest.raises(Exception) as info:
            s.execute_non_query_statement(f"insert into {DEVICE}(time, w) values({acked * ROWS}, 1)")
        assert error_code(info.value) == 600, repr(info.value)
        # reads go on and see every acknowledged point
        _assert_all_acked(s, acked)
        # memory stays bounded while clients keep trying. On a real volume the disk may take
        # writes again in between (a failed write or compaction freed space, the probe passed):
        # those are acknowledged and must survive too
        rss0 = _rss_kb(srv.proc.pid)
        t_end = time.monotonic() + 3.0
        tries = 0
        accepted = 0
        while time.monotonic() < t_end:
            try:
                s.insert_tablet(_tablet(acked, rng))
                acked += 1
                accepted += 1
            except Exception as e:
                assert "No space left on device" in str(e), repr(e)
            tries += 1
        growth = _rss_kb(srv.proc.pid) - rss0
        assert growth < RSS_GROWTH_LIMIT_KB, f"RSS grew by {growth} KiB over {tries} writes ({accepted} accepted)"
        if mode == "hook":
            assert accepted == 0, "a write was accepted while the disk was full"
        print(
            f"\n{mode}: {acked} tablets acknowledged; {refusals} refusals in "
            f"{refusal_s:.3f} s after the first failure; then {tries} writes in 3 s "
            f"({accepted} accepted), RSS {rss0} KiB -> +{growth} KiB"
        )
        s.close()
        # SIGTERM: the server stops by itself (not killed by the harness after 20 s)
        t0 = time.monotonic()
        code = srv.stop(timeout=20)
        assert code is not None and code >= 0, srv.log_tail()
        assert time.monotonic() - t0 < 15, srv.log_tail()
        assert "did not stop" not in srv.log_path.read_text(), srv.log_tail()
        # space freed: after a restart every acknowledged point is there, writes work
        disk.free()
        srv.start()
        s = Session(srv.host, srv.port, "root", "root")
        s.open(False)
        _assert_all_acked(s, acked)
        s.insert_tablet(_tablet(acked, rng))
        s.execute_non_query_statement("flush")
        _assert_all_acked(s, acked + 1)
        s.close()
    finally:
        srv.cleanup()
        disk.release()
