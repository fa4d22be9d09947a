"""Core flow with the apache-iotdb 1.3.x client (V1 result sets, errors raised as RuntimeError)."""

from __future__ import annotations

import numpy as np
import pytest
from iotdb.Session import Session
from iotdb.template.MeasurementNode import MeasurementNode
from iotdb.template.Template import Template
from iotdb.utils.IoTDBConstants import Compressor, TSDataType, TSEncoding
from iotdb.utils.NumpyTablet import NumpyTablet
from iotdb.utils.Tablet import Tablet

from clientutil import df_records, dtype_name, expect_error, query_df, query_rows
from conftest import require_client
from seeddata import DATA_TYPES, MEASUREMENTS, SEED_VALUES, assert_seed_frame, select_all

require_client("1.3")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.mark.parametrize("compact", [False, True], ids=["binary", "compact"])
def test_core_flow(server, compact):
    session = Session(server.host, server.port, "root", "root", fetch_size=1000)
    session.open(compact)
    try:
        # DDL
        session.set_storage_group("root.sg_test_01")
        session.create_time_series(
            "root.sg_test_01.d_02.s_01",
            TSDataType.BOOLEAN,
            TSEncoding.PLAIN,
            Compressor.SNAPPY,
            None,
            {"tag1": "v1"},
            {"description": "v1"},
            "temperature",
        )
        session.create_aligned_time_series(
            "root.sg_test_01.d_03",
            ["a", "b"],
            [TSDataType.INT32, TSDataType.DOUBLE],
            [TSEncoding.RLE] * 2,
            [Compressor.SNAPPY] * 2,
        )
        df = query_df(session, "SHOW TIMESERIES root.sg_test_01.d_02.s_01")
        assert df_records(df)[0][:8] == [
            "root.sg_test_01.d_02.s_01",
            "temperature",
            "root.sg_test_01",
            "BOOLEAN",
            "PLAIN",
            "SNAPPY",
            '{"tag1":"v1"}',
            '{"description":"v1"}',
        ]
        assert session.check_time_series_exists("root.sg_test_01.d_03.b")
        expect_error(501, session.set_storage_group, "root.sg_test_01")

        # tablets with nulls, numpy tablets, records, string records
        rows = [
            [None, 10, 11, 1.1, 10011.1, "test01"],
            [True, None, 11111, 1.25, 101.0, "test02"],
            [False, 100, 1, None, 688.25, "test03"],
            [True, 0, 0, 0, None, None],
        ]
        session.insert_tablet(Tablet("root.sg_test_01.d_01", MEASUREMENTS, DATA_TYPES, rows, [1, 2, 3, 4]))
        assert_seed_frame(select_all(session, "root.sg_test_01.d_01"), "root.sg_test_01.d_01", [1, 2, 3, 4], rows)
        columns = [list(c) for c in zip(*SEED_VALUES)]
        np_values = [np.array(columns[i], DATA_TYPES[i].np_dtype()) for i in range(5)] + [np.array(columns[5])]
        session.insert_tablet(
            NumpyTablet("root.sg_test_01.d_04", MEASUREMENTS, DATA_TYPES, np_values, np.array([1, 2, 3, 4], ">i8"))
        )
        assert_seed_frame(
            select_all(session, "root.sg_test_01.d_04"), "root.sg_test_01.d_04", [1, 2, 3, 4], SEED_VALUES
        )
        session.insert_aligned_records(
            ["root.sg_test_01.d_03"] * 2,
            [1, 2],
            [["a", "b"]] * 2,
            [[TSDataType.INT32, TSDataType.DOUBLE]] * 2,
            [[1, 0.5], [2, 1.5]],
        )
        _, got = query_rows(session, "select a, b from root.sg_test_01.d_03")
        assert got == [[1, 1, 0.5], [2, 2, 1.5]]
        session.insert_str_record("root.infer.d1", 5, ["f", "t"], ["2.5", "x"])
        df = query_df(session, "SHOW TIMESERIES root.infer.d1.*")
        assert sorted((r[0], r[3]) for r in df_records(df)) == [
            ("root.infer.d1.f", "FLOAT"),
            ("root.infer.d1.t", "TEXT"),
        ]

        # paging: 2500 rows with fetch size 1000 (V1 fetchResults)
        n = 2500
        session.insert_tablet(
            NumpyTablet(
                "root.page.d1", ["v"], [TSDataType.INT64], [np.arange(n, dtype=">i8")], np.arange(n, dtype=">i8")
            )
        )
        df = query_df(session, "select v from root.page.d1")
        assert list(df["root.page.d1.v"]) == list(range(n))
        assert dtype_name(df["root.page.d1.v"]) == "int64"

        # raw / last / delete
        paths = ["root.sg_test_01.d_01.s_02", "root.sg_test_01.d_01.s_03"]
        assert df_records(session.execute_raw_data_query(paths, 2, 4).todf()) == [[2, None, 11111], [3, 100, 1]]
        df = session.execute_last_data_query(paths, 0).todf()
        assert sorted(df_records(df)) == [
            [4, "root.sg_test_01.d_01.s_02", "0", "INT32"],
            [4, "root.sg_test_01.d_01.s_03", "0", "INT64"],
        ]
        session.delete_data_in_range(paths, 1, 3)
        assert df_records(session.execute_raw_data_query(paths, 0, 10).todf()) == [[4, 0, 0]]

        # templates
        t = Template(name="tpl13", share_time=False)
        for m in ("s1", "s2", "s3"):
            t.add_template(MeasurementNode(m, TSDataType.INT64, TSEncoding.RLE, Compressor.SNAPPY))
        session.create_schema_template(t)
        assert session.show_measurements_in_template("tpl13") == ["s3", "s1", "s2"]
        assert session.count_measurements_in_template("tpl13") == 3
        session.set_schema_template("tpl13", "root.sg_test_01.tpl")
        assert session.show_paths_template_set_on("tpl13") == ["root.sg_test_01.tpl"]
        session.unset_schema_template("tpl13", "root.sg_test_01.tpl")
        session.drop_schema_template("tpl13")
        assert session.show_all_templates() == []

        # errors raise "<code>: <message>"
        expect_error(700, session.execute_non_query_statement, "selec nothing")
        expect_error(508, session.delete_time_series, ["root.nothing.here"])
    finally:
        session.close()


def test_dbapi(server):
    from iotdb.dbapi import connect

    conn = connect(server.host, server.port, "root", "root")
    cursor = conn.cursor()
    cursor.execute("create database root.cursor")
    cursor.execute("create timeseries root.cursor.temperature with datatype=FLOAT,encoding=RLE")
    cursor.executemany(
        "insert into root.cursor(timestamp,temperature) values(%(timestamp)s,%(temperature)s)",
        [{"timestamp": i, "temperature": i / 2} for i in range(1, 4)],
    )
    cursor.execute("select * from root.cursor")
    assert [list(r) for r in cursor.fetchall()] == [[1, 0.5], [2, 1.0], [3, 1.5]]
    assert [d[0] for d in cursor.description] == ["Time", "root.cursor.temperature"]
    cursor.close()
    conn.close()


def test_wrong_password(server):
    s = Session(server.host, server.port, "root", "nope")
    expect_error(801, s.open, False)
