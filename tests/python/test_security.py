"""One process per data directory, users/roles/privileges and operations, through the official
2.0.x client against real ``iotdb-rs serve`` processes (each test starts its own)."""

from __future__ import annotations

import re
import socket
import subprocess
import threading
import time
import urllib.request

import numpy as np
import pytest
from iotdb.Session import Session
from iotdb.thrift.rpc.ttypes import TSCancelOperationReq
from iotdb.utils.IoTDBConstants import Compressor, TSDataType, TSEncoding
from iotdb.utils.NumpyTablet import NumpyTablet
from iotdb.utils.Tablet import Tablet

from clientutil import error_code, expect_error, query_rows
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


# --------------------------------------------------------------------------- users, roles, privileges

NO_PERMISSION = 803


def _seed(root: Session) -> None:
    for d in ("d1", "d2"):
        root.execute_non_query_statement(f"insert into root.sec.{d}(time, s1, s2) values (1, 10, 20)")
    root.execute_non_query_statement("CREATE USER alice 'alicepw1'")
    root.execute_non_query_statement("CREATE USER bobby 'bobbypw1'")


def _refused(fn, *args, privilege: str | None = None, path: str | None = None) -> None:
    err = expect_error(NO_PERMISSION, fn, *args)
    if privilege:
        assert privilege in str(err), err
    if path:
        assert path in str(err), err


def _tablet(device: str, measurement: str = "s1") -> Tablet:
    return Tablet(device, [measurement], [TSDataType.FLOAT], [[1.5]], [100])


def _read(s: Session, sql: str) -> list:
    return query_rows(s, sql)[1]


def test_user_without_privileges_is_refused_every_kind_of_operation(srv):
    root = _open(srv)
    _seed(root)
    root.execute_non_query_statement("CREATE SCHEMA TEMPLATE tpl (t1 INT32)")
    a = _open(srv, "alice", "alicepw1")

    # reads
    _refused(
        a.execute_query_statement, "select s1 from root.sec.d1", privilege="READ_TIMESERIES", path="root.sec.d1.s1"
    )
    _refused(a.execute_query_statement, "select count(s1) from root.sec.**")
    _refused(a.execute_query_statement, "select last s1 from root.sec.d1")
    _refused(a.execute_raw_data_query, ["root.sec.d1.s1"], 0, 10)
    _refused(a.execute_last_data_query, ["root.sec.d1.s1"], 0)
    _refused(a.execute_query_statement, "show timeseries root.sec.**")
    _refused(a.execute_query_statement, "show databases")
    _refused(a.execute_query_statement, "count devices")
    # writes, through SQL and every insert RPC
    _refused(
        a.execute_non_query_statement, "insert into root.sec.d1(time, s1) values (5, 1)", privilege="INSERT_TIMESERIES"
    )
    _refused(a.insert_record, "root.sec.d1", 5, ["s1"], [TSDataType.DOUBLE], [1.0])
    _refused(a.insert_str_record, "root.sec.d1", 5, ["s1"], ["1.0"])
    _refused(a.insert_records, ["root.sec.d1"], [5], [["s1"]], [[TSDataType.DOUBLE]], [[1.0]])
    _refused(a.insert_tablet, _tablet("root.sec.d1"))
    _refused(a.insert_tablets, [_tablet("root.sec.d1"), _tablet("root.sec.d2")])
    # deletes
    _refused(a.delete_data, ["root.sec.d1.s1"], 10, privilege="DELETE_TIMESERIES")
    _refused(a.execute_non_query_statement, "delete from root.sec.d1.s1 where time < 10")
    _refused(a.delete_time_series, ["root.sec.d1.s1"])
    _refused(a.delete_storage_group, "root.sec", privilege="DELETE_DATABASE")
    # DDL
    _refused(a.set_storage_group, "root.other", privilege="CREATE_DATABASE", path="root.other")
    _refused(a.create_time_series, "root.sec.d1.s9", TSDataType.INT32, TSEncoding.RLE, Compressor.SNAPPY)
    _refused(a.execute_non_query_statement, "alter timeseries root.sec.d1.s1 add tags a=b")
    _refused(a.execute_non_query_statement, "set ttl to root.sec 1000")
    # templates
    _refused(a.execute_non_query_statement, "CREATE SCHEMA TEMPLATE t2 (t1 INT32)", privilege="UPDATE_TEMPLATE")
    _refused(a.execute_non_query_statement, "SET SCHEMA TEMPLATE tpl TO root.sec.d3", privilege="APPLY_TEMPLATE")
    _refused(a.execute_query_statement, "SHOW SCHEMA TEMPLATES", privilege="READ_TEMPLATE")
    _refused(a.drop_schema_template, "tpl")
    # LOAD and maintenance
    _refused(a.execute_non_query_statement, "LOAD '/nonexistent/file.tsfile'", privilege="INSERT_TIMESERIES")
    _refused(a.execute_non_query_statement, "FLUSH")
    _refused(a.execute_non_query_statement, "MERGE")
    _refused(a.execute_non_query_statement, "SET SYSTEM TO READONLY")
    # user management
    _refused(a.execute_non_query_statement, "CREATE USER carol 'carolpw1'", privilege="CREATE_USER")
    _refused(a.execute_non_query_statement, "DROP USER bobby", privilege="DELETE_USER")
    _refused(a.execute_non_query_statement, "ALTER USER bobby SET PASSWORD 'changed1'", privilege="MODIFY_PASSWORD")
    _refused(a.execute_non_query_statement, "CREATE ROLE somerole", privilege="CREATE_ROLE")
    _refused(a.execute_non_query_statement, "GRANT USER alice PRIVILEGES READ_TIMESERIES ON root.**")
    _refused(a.execute_query_statement, "LIST USER", privilege="LIST_USER")
    _refused(a.execute_query_statement, "LIST ROLE", privilege="LIST_ROLE")

    # nothing of that happened
    assert _read(root, "select s1 from root.sec.d1") == [[1, 10.0]]
    assert _read(root, "show databases")[0][1] == "root.sec"
    # a user may change their own password and list their own privileges
    a.execute_non_query_statement("ALTER USER alice SET PASSWORD 'alicepw2'")
    assert _read(a, "LIST PRIVILEGES USER alice") == []
    a.close()
    expect_error(None, _open, srv, "alice", "alicepw1")
    _open(srv, "alice", "alicepw2").close()
    root.close()


def test_granted_privileges_open_exactly_the_granted_paths(srv):
    root = _open(srv)
    _seed(root)
    root.execute_non_query_statement("GRANT USER alice PRIVILEGES READ_TIMESERIES ON root.sec.d1.**")
    a = _open(srv, "alice", "alicepw1")
    assert _read(a, "select s1, s2 from root.sec.d1") == [[1, 10.0, 20.0]]
    assert _read(a, "select s1 from root.sec.d1 where s2 > 0") == [[1, 10.0]]
    assert len(a.execute_raw_data_query(["root.sec.d1.s1"], 0, 10).todf()) == 1
    _refused(a.execute_query_statement, "select s1 from root.sec.d2", path="root.sec.d2.s1")
    _refused(a.execute_query_statement, "select s1 from root.sec.d1, root.sec.d2")
    _refused(a.execute_query_statement, "select s1 from root.sec.**")
    _refused(a.execute_query_statement, "select s1 from root.sec.d1 where root.sec.d2.s1 > 0")
    _refused(a.insert_tablet, _tablet("root.sec.d1"))

    # through a role: INSERT on d2 only
    root.execute_non_query_statement("CREATE ROLE writer")
    root.execute_non_query_statement("GRANT ROLE writer PRIVILEGES INSERT_TIMESERIES ON root.sec.d2.**")
    _refused(a.insert_tablet, _tablet("root.sec.d2"))
    root.execute_non_query_statement("GRANT writer TO alice")
    a.insert_tablet(_tablet("root.sec.d2"))
    a.insert_record("root.sec.d2", 101, ["s1"], [TSDataType.FLOAT], [2.5])
    _refused(a.insert_tablet, _tablet("root.sec.d1"))
    _refused(a.execute_query_statement, "select s1 from root.sec.d2")
    assert _read(root, "select s1 from root.sec.d2") == [[1, 10.0], [100, 1.5], [101, 2.5]]
    assert sorted(_read(root, "LIST PRIVILEGES USER alice")) == [
        [0, "", "root.sec.d1.** : READ_TIMESERIES"],
        [0, "writer", "root.sec.d2.** : INSERT_TIMESERIES"],
    ]
    assert _read(root, "LIST ROLE OF USER alice") == [[0, "writer"]]
    assert _read(root, "LIST USER OF ROLE writer") == [[0, "alice"]]

    # user-management privileges are granted on root.** only
    expect_error(700, root.execute_non_query_statement, "GRANT USER alice PRIVILEGES CREATE_USER ON root.sec.**")
    root.execute_non_query_statement("GRANT USER alice PRIVILEGES CREATE_USER")
    a.execute_non_query_statement("CREATE USER carol 'carolpw1'")
    expect_error(810, root.execute_non_query_statement, "GRANT USER alice PRIVILEGES CREATE_USER")

    # revoking closes the paths again
    root.execute_non_query_statement("REVOKE writer FROM alice")
    _refused(a.insert_tablet, _tablet("root.sec.d2"))
    root.execute_non_query_statement("REVOKE USER alice PRIVILEGES READ_TIMESERIES ON root.sec.d1.**")
    _refused(a.execute_query_statement, "select s1 from root.sec.d1")
    expect_error(
        811, root.execute_non_query_statement, "REVOKE USER alice PRIVILEGES READ_TIMESERIES ON root.sec.d1.**"
    )
    expect_error(808, root.execute_non_query_statement, "GRANT nosuchrole TO alice")
    expect_error(804, root.execute_non_query_statement, "GRANT writer TO nobody")
    a.close()
    root.close()


def test_user_and_role_changes_and_root_password_survive_restart(srv):
    root = _open(srv)
    _seed(root)
    root.execute_non_query_statement("CREATE ROLE reader")
    root.execute_non_query_statement("GRANT ROLE reader PRIVILEGES READ_TIMESERIES ON root.sec.**")
    root.execute_non_query_statement("GRANT reader TO alice")
    root.execute_non_query_statement("GRANT USER bobby PRIVILEGES INSERT_TIMESERIES ON root.sec.d2.*")
    root.execute_non_query_statement("DROP USER bobby")
    root.execute_non_query_statement("CREATE USER bobby 'bobbypw2'")
    root.execute_non_query_statement("ALTER USER root SET PASSWORD 'newroot1'")
    root.close()

    srv.stop()
    srv.start()
    expect_error(None, _open, srv)  # root/root no longer works
    root = _open(srv, "root", "newroot1")
    assert sorted(r[1] for r in _read(root, "LIST USER")) == ["alice", "bobby", "root"]
    assert _read(root, "LIST ROLE") == [[0, "reader"]]
    a = _open(srv, "alice", "alicepw1")
    assert _read(a, "select s1 from root.sec.d2") == [[1, 10.0]]
    _refused(a.insert_tablet, _tablet("root.sec.d1"))
    b = _open(srv, "bobby", "bobbypw2")
    # the re-created user does not inherit the dropped one's privileges
    _refused(b.insert_tablet, _tablet("root.sec.d2"))
    expect_error(None, _open, srv, "bobby", "bobbypw1")
    for s in (a, b, root):
        s.close()


# --------------------------------------------------------------------------- operations


def _config_server(tmp_path, **props) -> IoTDBServer:
    conf = tmp_path / "iotdb.properties"
    conf.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    return IoTDBServer(extra_args=["--config", str(conf)])


def _fill(s: Session, rows: int = 20_000) -> None:
    times = np.arange(rows, dtype=np.int64)
    values = np.arange(rows, dtype=np.float64)
    s.insert_tablet(NumpyTablet("root.q.d1", ["s1"], [TSDataType.DOUBLE], [values], times))


def _drain(ds) -> int:
    n = 0
    while ds.has_next():
        ds.next()
        n += 1
    return n


def _queries(s: Session) -> list:
    return _read(s, "SHOW QUERIES")


def _reader(srv: IoTDBServer) -> Session:
    """A root session paging results 100 rows at a time (a query stays in flight)."""
    s = Session(srv.host, srv.port, "root", "root", fetch_size=100)
    s.open(False)
    return s


def _started(reader: Session, timeout: int = 0):
    """Starts the long query and reads its first batch."""
    ds = reader.execute_query_statement("select s1 from root.q.d1", timeout)
    assert ds.has_next()
    return ds


def test_long_query_is_listed_and_stopped_by_kill_query(srv):
    root = _open(srv)
    _fill(root)
    reader = _reader(srv)
    ds = _started(reader)
    listed = [r for r in _queries(root) if r[4] == "select s1 from root.q.d1"]
    assert len(listed) == 1, _queries(root)
    _, query_id, node, elapsed, _ = listed[0]
    assert node == 1 and elapsed >= 0
    expect_error(305, root.execute_non_query_statement, "KILL QUERY 'no_such_query'")
    expect_error(714, root.execute_non_query_statement, "KILL QUERY '20200101_000000_99999_1'")
    root.execute_non_query_statement(f"KILL QUERY '{query_id}'")
    expect_error(715, _drain, ds)
    assert not [r for r in _queries(root) if r[4].startswith("select s1")]

    # KILL ALL QUERIES stops every query in flight
    ds = _started(reader)
    root.execute_non_query_statement("KILL ALL QUERIES")
    expect_error(715, _drain, ds)

    # a user sees and kills only their own queries
    root.execute_non_query_statement("CREATE USER alice 'alicepw1'")
    ds = _started(reader)
    a = _open(srv, "alice", "alicepw1")
    assert _queries(a) == []
    qid = next(r for r in _queries(root) if r[4].startswith("select s1"))[1]
    expect_error(NO_PERMISSION, a.execute_non_query_statement, f"KILL QUERY '{qid}'")
    a.execute_non_query_statement("KILL ALL QUERIES")
    assert _drain(ds) > 0  # untouched by alice's KILL ALL
    for s in (a, reader, root):
        s.close()


def test_log_lines_carry_the_show_queries_id_one_per_statement(monkeypatch):
    monkeypatch.setenv("RUST_LOG", "server=debug")
    srv = IoTDBServer()
    srv.start()
    try:
        root = _open(srv)
        _fill(root)
        reader = _reader(srv)
        ds = _started(reader)
        for _ in range(250):  # past the first answer: two fetches
            ds.next()
        (listed,) = [r for r in _queries(root) if r[4] == "select s1 from root.q.d1"]
        qid = listed[1]
        root.execute_non_query_statement(f"KILL QUERY '{qid}'")
        expect_error(715, _drain, ds)
        for s in (reader, root):
            s.close()
        log = srv.log_path.read_text()
        mine = [ln for ln in log.splitlines() if f"query_id={qid}}}" in ln]
        started = [ln for ln in mine if "statement started" in ln]
        assert len(started) == 1 and "select s1 from root.q.d1" in started[0], mine
        assert any(ln.split("query_id=")[0].endswith("fetch{") for ln in mine), mine
        assert any("fetch failed" in ln and "killed" in ln for ln in mine), mine
        # every statement has an id of its own (the SHOW QUERIES and KILL statements too)
        ids = re.findall(r"statement\{query_id=([0-9_]+)[} ].*statement started", log)
        assert len(ids) == len(set(ids)) and len(ids) >= 4, ids
        assert all(re.fullmatch(r"\d{8}_\d{6}_\d{5,}_1", i) for i in ids), ids
    finally:
        srv.cleanup()


def _count(s: Session) -> int:
    return query_rows(s, "select count(s1) from root.mem.d1")[1][0][1]


def test_write_blocked_by_a_stalled_flush_gets_606_then_recovers(tmp_path, monkeypatch):
    # a tiny budget (memtables get a third of 1 MiB) and flushes held back by the storage
    # engine's fault hook: the memtables cannot shrink, so a write waits for
    # max_waiting_time_when_insert_blocked and is refused with 606
    stall = tmp_path / "stall-flush"
    monkeypatch.setenv("IOTDB_RS_FAULT_STALL_FLUSH", str(stall))
    srv = _config_server(tmp_path, memory_budget_mb=1, max_waiting_time_when_insert_blocked=300)
    srv.start()
    try:
        s = _open(srv)
        rows = 1000

        def write(k: int) -> None:
            times = np.arange(k * rows, (k + 1) * rows, dtype=np.int64)
            values = times.astype(np.float64)
            s.insert_tablet(NumpyTablet("root.mem.d1", ["s1"], [TSDataType.DOUBLE], [values], times))

        stall.touch()
        written = 0
        refused = None
        for k in range(200):  # 16 KB a tablet: the 341 KiB budget is used up long before
            try:
                write(k)
                written += 1
            except Exception as e:  # the refusal is checked below
                refused = e
                break
        assert refused is not None, f"{written} tablets written without a refusal"
        assert error_code(refused) == 606, repr(refused)
        assert "not enough memory" in str(refused), repr(refused)
        assert written >= 5, written
        # still refused while the flush is stalled; reads go on
        started = time.monotonic()
        expect_error(606, write, written)
        assert time.monotonic() - started >= 0.25  # it waited for a flush first
        assert _count(s) == written * rows
        # the flush goes on: writes are admitted again and nothing acknowledged is lost
        stall.unlink()
        for k in range(written, written + 5):
            write(k)
        assert _count(s) == (written + 5) * rows
        s.close()
    finally:
        if stall.exists():
            stall.unlink()
        srv.cleanup()


def test_request_frames_and_replies_are_counted_in_the_memory_budget(tmp_path):
    # memory_budget_mb=3: a third, 1 MiB, for request frames and replies in flight
    metrics_port = free_port()
    srv = _config_server(
        tmp_path,
        memory_budget_mb=3,
        max_waiting_time_when_insert_blocked=200,
        dn_metric_reporter_list="PROMETHEUS",
        dn_metric_prometheus_reporter_port=metrics_port,
    )
    srv.start()
    try:
        s = _open(srv)

        def tablet(k: int, rows: int) -> NumpyTablet:
            times = np.arange(k, k + rows, dtype=np.int64)
            return NumpyTablet("root.buf.d1", ["s1"], [TSDataType.DOUBLE], [times * 0.5], times)

        # a request of 1.6 MB cannot fit: refused with 606 before its payload is buffered,
        # and the connection goes on serving the session
        err = expect_error(606, s.insert_tablet, tablet(0, 100_000))
        assert "request frame" in str(err) and "not enough memory" in str(err), repr(err)
        with urllib.request.urlopen(f"http://{srv.host}:{metrics_port}/metrics", timeout=10) as r:
            scraped = r.read().decode()
        assert "iotdb_memory_rejections_total 1" in scraped, scraped
        assert "iotdb_request_buffer_bytes " in scraped, scraped
        rows = 0
        for _ in range(20):
            s.insert_tablet(tablet(rows, 10_000))
            rows += 10_000
        # asking for 100,000 rows a fetch (1.6 MB a reply) still reads every row: pages are
        # cut to an eighth of the buffer budget, so each reply fits
        s.fetch_size = 100_000
        ds = s.execute_query_statement("select s1 from root.buf.d1")
        ds.set_fetch_size(100_000)
        n, total = 0, 0.0
        while ds.has_next():
            total += ds.next().get_fields()[0].get_double_value()
            n += 1
        ds.close_operation_handle()
        assert n == rows
        assert total == sum(range(rows)) * 0.5
        s.close()
    finally:
        srv.cleanup()


def test_cancel_operation_stops_the_query(srv):
    root = _open(srv)
    _fill(root)
    reader = _reader(srv)
    ds = _started(reader)
    assert len([r for r in _queries(root) if r[4].startswith("select s1")]) == 1
    client = reader._Session__client
    status = client.cancelOperation(
        TSCancelOperationReq(reader._Session__session_id, ds.iotdb_rpc_data_set._IoTDBRpcDataSet__query_id)
    )
    assert status.code == 200
    assert not [r for r in _queries(root) if r[4].startswith("select s1")]
    reader.close()
    root.close()


# HAVING drops every window, so the server computes all of them for the first batch: about
# 40 s of work in a release build unless the per-window check stops it.
ENDLESS = "select count(s1) from root.q.d1 group by ([0, 1000000000), 1ms) having count(s1) > 1"


def test_kill_query_and_timeout_stop_a_long_single_batch_aggregate(srv):
    root = _open(srv)
    _fill(root)
    reader = _reader(srv)
    # a request timeout stops the aggregate while its first batch is computed
    started = time.monotonic()
    expect_error(712, reader.execute_query_statement, ENDLESS, 300)
    assert time.monotonic() - started < 3
    # so does KILL QUERY from another session
    outcome = {}

    def run():
        try:
            reader.execute_query_statement(ENDLESS)
        except Exception as e:  # the status is checked below
            outcome["error"] = e
        outcome["end"] = time.monotonic()

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 30
    while not (listed := [r for r in _queries(root) if r[4] == ENDLESS]):
        assert time.monotonic() < deadline, _queries(root)
        time.sleep(0.05)
    time.sleep(0.5)
    assert worker.is_alive(), outcome
    killed_at = time.monotonic()
    root.execute_non_query_statement(f"KILL QUERY '{listed[0][1]}'")
    worker.join(30)
    assert not worker.is_alive()
    assert error_code(outcome["error"]) == 715, outcome
    assert outcome["end"] - killed_at < 1.0, outcome["end"] - killed_at
    assert not [r for r in _queries(root) if r[4] == ENDLESS]
    # the session goes on
    assert _drain(reader.execute_query_statement("select count(s1) from root.q.d1")) == 1
    reader.close()
    root.close()


def test_request_timeout_and_query_timeout_threshold(srv, tmp_path):
    root = _open(srv)
    _fill(root)
    reader = _reader(srv)
    ds = _started(reader, 300)
    time.sleep(0.6)
    err = expect_error(712, _drain, ds)
    assert "time out" in str(err)
    # without a request timeout the default threshold (60 s) leaves it alone
    ds = reader.execute_query_statement("select s1 from root.q.d1")
    time.sleep(0.6)
    assert _drain(ds) == 20_000
    reader.close()
    root.close()

    # the server-wide query_timeout_threshold
    other = _config_server(tmp_path, query_timeout_threshold=300)
    try:
        other.start()
        s = _open(other)
        _fill(s)
        r = _reader(other)
        ds = _started(r)
        time.sleep(0.6)
        expect_error(712, _drain, ds)
        r.close()
        s.close()
    finally:
        other.cleanup()


def test_connection_limit_refuses_clearly_and_idle_sessions_time_out(tmp_path):
    srv = _config_server(tmp_path, rpc_max_concurrent_client_num=2, dn_session_timeout_threshold=800)
    try:
        srv.start()
        s1 = _open(srv)
        s2 = _open(srv)
        err = expect_error(None, _open, srv)
        assert "Too many connections" in str(err) and "rpc_max_concurrent_client_num" in str(err), err
        # existing sessions keep working
        s1.execute_non_query_statement("insert into root.c.d1(time, s1) values (1, 1)")
        assert _read(s2, "select s1 from root.c.d1") == [[1, 1.0]]
        s2.close()
        deadline = time.monotonic() + 5
        while True:
            try:
                s3 = _open(srv)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        s3.close()
        s1.close()

        # an idle connection is closed after dn_session_timeout_threshold
        with socket.create_connection(srv.address, timeout=5) as sock:
            started = time.monotonic()
            assert sock.recv(16) == b""
            assert 0.5 < time.monotonic() - started < 4
    finally:
        srv.cleanup()


def test_start_up_log_names_data_dir_wal_mode_and_config_and_has_no_colour(srv):
    log = srv.log_path.read_text()
    line = next(ln for ln in log.splitlines() if "listening on" in ln)
    assert f"data directory {srv.data_dir}" in line, line
    assert "WAL mode ASYNC" in line and "config file" in line, line
    # a process writing its log to a pipe (no NO_COLOR set) writes no colour codes
    out = subprocess.run(
        [str(srv.binary), "serve", "--port", str(free_port()), "--data-dir", str(srv.data_dir)],
        capture_output=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert out.returncode != 0
    assert b"\x1b[" not in out.stdout + out.stderr
    assert b"in use by" in out.stdout + out.stderr
