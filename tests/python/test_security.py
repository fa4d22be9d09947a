"""One process per data directory, users/roles/privileges and operations, through the official
2.0.x client against real ``iotdb-rs serve`` processes (each test starts its own)."""

from __future__ import annotations

import subprocess
import time

import pytest
from iotdb.Session import Session

from clientutil import query_rows
from conftest import require_client
from server import IoTDBServer, free_port

require_client("2.0")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _open(srv: IoTDBServer, user: str = "root", password: str = "root") -> Session:
    s = Session(srv.host, srv.port, user, password)
    s.open(False)
    return s


@pytest.fixture
def srv():
    server = IoTDBServer()
    server.start()
    yield server
    server.cleanup()


# --------------------------------------------------------------------------- data directory lock


def test_second_server_on_same_directory_fails_at_once_and_changes_nothing(srv):
    s = _open(srv)
    s.execute_non_query_statement("insert into root.lk.d1(time, s1) values (1, 1.5)")
    s.execute_non_query_statement("delete from root.lk.d1.s1 where time <= 1")
    s.execute_non_query_statement("insert into root.lk.d1(time, s1) values (2, 2.5)")
    before = sorted(p.name for p in srv.data_dir.rglob("*"))

    started = time.monotonic()
    second = subprocess.run(
        [str(srv.binary), "serve", "--host", "127.0.0.1", "--port", str(free_port()), "--data-dir", str(srv.data_dir)],
        capture_output=True,
        text=True,
        timeout=30,
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
    )
    elapsed = time.monotonic() - started
    assert second.returncode != 0
    assert elapsed < 10, f"the second server took {elapsed:.1f}s to give up"
    out = second.stdout + second.stderr
    assert str(srv.data_dir) in out, out
    assert f"pid {srv.proc.pid}" in out, out
    assert sorted(p.name for p in srv.data_dir.rglob("*")) == before

    # the first server still serves, with its data intact
    assert query_rows(s, "select s1 from root.lk.d1")[1] == [[2, 2.5]]
    s.close()

    # a killed holder leaves its lock file behind; a restart must not be blocked by it
    srv.kill()
    assert (srv.data_dir / "lock").exists()
    srv.start()
    s = _open(srv)
    assert query_rows(s, "select s1 from root.lk.d1")[1] == [[2, 2.5]]
    s.close()
