"""Durability through the official 2.0.x client: write, ``kill -9`` the server, start it again on the
same data directory, and every acknowledged point and all schema must be back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from iotdb.Session import Session
from iotdb.template.MeasurementNode import MeasurementNode
from iotdb.template.Template import Template
from iotdb.utils.IoTDBConstants import Compressor, TSDataType, TSEncoding
from iotdb.utils.NumpyTablet import NumpyTablet
from iotdb.utils.Tablet import Tablet

from clientutil import df_records, expect_error, query_df
from conftest import require_client
from seeddata import DATA_TYPES, MEASUREMENTS, SEED_VALUES
from server import IoTDBServer

require_client("2.0")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

#: Queries whose answers must be identical before the crash and after the restart.
DATA_QUERIES = [
    "select s_01, s_02, s_03, s_04, s_05, s_06 from root.r.d1",
    "select v0, v1, v2 from root.r.big",
    "select a, b from root.r.aligned",
    "select x, y from root.auto.d1",
    "select s1, s2 from root.r.tpl_dev",
    "select temperature from root.r.d2",
]
SCHEMA_QUERIES = [
    "SHOW DATABASES",
    "SHOW TIMESERIES root.**",
    "SHOW DEVICES root.** WITH DATABASE",
    "SHOW SCHEMA TEMPLATES",
    "SHOW PATHS SET SCHEMA TEMPLATE tpl",
    "SHOW PATHS USING SCHEMA TEMPLATE tpl",
    "COUNT TIMESERIES root.**",
]


def _open(srv: IoTDBServer) -> Session:
    s = Session(srv.host, srv.port, "root", "root")
    s.open(False)
    return s


def _write_everything(s: Session) -> None:
    s.set_storage_group("root.r")
    s.create_time_series(
        "root.r.d2.s1",
        TSDataType.DOUBLE,
        TSEncoding.GORILLA,
        Compressor.SNAPPY,
        None,
        {"unit": "c"},
        {"by": "me"},
        "temperature",
    )
    s.create_time_series("root.r.gone.s1", TSDataType.INT32, TSEncoding.RLE, Compressor.SNAPPY)
    s.create_aligned_time_series(
        "root.r.aligned",
        ["a", "b"],
        [TSDataType.INT64, TSDataType.TEXT],
        [TSEncoding.RLE, TSEncoding.PLAIN],
        [Compressor.SNAPPY] * 2,
    )
    tpl = Template(name="tpl", share_time=False)
    for m in ("s1", "s2"):
        tpl.add_template(MeasurementNode(m, TSDataType.INT32, TSEncoding.RLE, Compressor.SNAPPY))
    s.create_schema_template(tpl)
    s.set_schema_template("tpl", "root.r.tpl_dev")
    s.execute_non_query_statement("create timeseries of schema template on root.r.tpl_dev")

    rows = [
        [None, 10, 11, 1.1, 10011.1, "test01"],
        [True, None, 11111, 1.25, 101.0, "test02"],
        [False, 100, 1, None, 688.25, "test03"],
        [True, 0, 0, 0, None, None],
    ]
    s.insert_tablet(Tablet("root.r.d1", MEASUREMENTS, DATA_TYPES, rows, [1, 2, 3, 4]))
    s.insert_tablets([Tablet("root.r.d1", MEASUREMENTS, DATA_TYPES, SEED_VALUES, [5, 6, 7, 8])])
    n = 20000
    ts = np.arange(n, dtype=">i8") * 10
    vals = [np.arange(n, dtype=">f8") * (k + 1) for k in range(3)]
    s.insert_tablet(NumpyTablet("root.r.big", ["v0", "v1", "v2"], [TSDataType.DOUBLE] * 3, vals, ts))
    s.insert_aligned_records(
        ["root.r.aligned"] * 2,
        [1, 2],
        [["a", "b"]] * 2,
        [[TSDataType.INT64, TSDataType.TEXT]] * 2,
        [[1, "x"], [2, "y"]],
    )
    s.insert_str_record("root.auto.d1", 7, ["x", "y"], ["1.5", "hello"])
    s.insert_record("root.r.tpl_dev", 3, ["s1", "s2"], [TSDataType.INT32] * 2, [30, 31])
    s.execute_non_query_statement("insert into root.r.d2(timestamp, temperature) values(1, 20.5), (2, 21.5), (3, 22.5)")
    # an overwrite, deletions of data and of a series: the restart must replay them too
    s.insert_record("root.r.d1", 8, ["s_02"], [TSDataType.INT32], [-1])
    s.delete_data(["root.r.big.v2"], 99)
    s.delete_data_in_range(["root.r.d2.s1"], 2, 2)
    s.delete_time_series(["root.r.gone.s1"])


def _snapshot(s: Session) -> dict[str, object]:
    snap: dict[str, object] = {}
    for q in DATA_QUERIES:
        snap[q] = query_df(s, q)
    for q in SCHEMA_QUERIES:
        snap[q] = sorted(df_records(query_df(s, q)), key=repr)
    return snap


def _assert_same(before: dict[str, object], after: dict[str, object]) -> None:
    for q, want in before.items():
        got = after[q]
        if isinstance(want, pd.DataFrame):
            pd.testing.assert_frame_equal(got, want, obj=q)
        else:
            assert got == want, q


@pytest.mark.parametrize("wal_mode", ["SYNC", "default"])
def test_kill_9_then_restart_keeps_data_and_schema(tmp_path, wal_mode):
    extra = ["--wal-mode", wal_mode] if wal_mode != "default" else []
    srv = IoTDBServer(data_dir=tmp_path / "data", log_dir=tmp_path, extra_args=extra)
    srv.start()
    try:
        s = _open(srv)
        _write_everything(s)
        before = _snapshot(s)
        # sanity: the snapshot holds what was written
        assert len(before[DATA_QUERIES[0]]) == 8
        assert len(before[DATA_QUERIES[1]]) == 20000
        assert before[DATA_QUERIES[1]]["root.r.big.v2"].isna().sum() == 10  # times 0..90 deleted
        assert ["root.r.gone.s1"] not in [r[:1] for r in before["SHOW TIMESERIES root.**"]]

        srv.kill()  # SIGKILL: nothing gets flushed or closed
        srv.start()
        s = _open(srv)
        _assert_same(before, _snapshot(s))

        # recovery is repeatable: write more, crash again, everything is still there
        s.insert_record("root.r.d2", 10, ["temperature"], [TSDataType.DOUBLE], [99.5])
        s.execute_non_query_statement("CREATE DATABASE root.second")
        before = _snapshot(s)
        srv.kill()
        srv.start()
        s = _open(srv)
        _assert_same(before, _snapshot(s))
        assert "root.second" in list(query_df(s, "SHOW DATABASES")["Database"])
        assert srv.starts == 3
        s.close()
    finally:
        srv.cleanup()


def test_sigterm_stops_cleanly_and_data_survives(tmp_path):
    srv = IoTDBServer(data_dir=tmp_path / "data", log_dir=tmp_path)
    srv.start()
    try:
        s = _open(srv)
        s.insert_record("root.clean.d1", 1, ["v"], [TSDataType.INT64], [42])
        s.close()
        assert srv.stop() == 0, srv.log_tail()
        srv.start()
        s = _open(srv)
        assert df_records(query_df(s, "select v from root.clean.d1")) == [[1, 42]]
        s.close()
    finally:
        srv.cleanup()


def test_users_survive_restart(tmp_path):
    srv = IoTDBServer(data_dir=tmp_path / "data", log_dir=tmp_path)
    srv.start()
    try:
        s = _open(srv)
        s.execute_non_query_statement("CREATE USER tommy 'pw123456'")
        s.close()
        srv.kill()
        srv.start()
        tommy = Session(srv.host, srv.port, "tommy", "pw123456")
        tommy.open(False)
        tommy.close()
        expect_error(801, Session(srv.host, srv.port, "tommy", "wrong").open, False)
    finally:
        srv.cleanup()
