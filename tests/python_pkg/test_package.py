"""The seed page's examples with OUR ``iotdb`` package, remote (against ``iotdb-rs serve``) and
embedded; values, types, nulls, headers, ``todf()`` dtypes, and errors on bad input."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest
from iotdb.Session import Session
from iotdb.template.InternalNode import InternalNode
from iotdb.template.MeasurementNode import MeasurementNode
from iotdb.template.Template import Template
from iotdb.utils.BitMap import BitMap
from iotdb.utils.exception import IoTDBConnectionException, StatementExecutionException
from iotdb.utils.IoTDBConstants import Compressor, TSDataType, TSEncoding
from iotdb.utils.NumpyTablet import NumpyTablet
from iotdb.utils.Tablet import Tablet

# the seed's six-column example, shared with the official-client suites (tests/python/seeddata.py)
from seeddata import DATA_TYPES, MEASUREMENTS, SEED_VALUES
from seeddata import HASHMAP_ORDER_S01_S06 as HASHMAP_ORDER


def df_of(session, sql):
    ds = session.execute_query_statement(sql)
    try:
        return ds.todf()
    finally:
        ds.close_operation_handle()


def rows_of(session, sql):
    ds = session.execute_query_statement(sql)
    out = []
    while ds.has_next():
        r = ds.next()
        out.append([r.get_timestamp()] + [f.get_object_value(f.get_data_type()) for f in r.get_fields()])
    ds.close_operation_handle()
    return ds.get_column_names(), out


def records(df):
    return [
        [
            None if (not isinstance(v, (bytes, str)) and pd.isna(v)) else (v.item() if isinstance(v, np.generic) else v)
            for v in row
        ]
        for row in df.itertuples(index=False)
    ]


def dtypes(df):
    """dtype names; text columns are ``object`` (pandas < 3) or pandas' ``str`` (pandas >= 3): "text"."""
    return ["text" if (getattr(t, "kind", "") == "O" or pd.api.types.is_string_dtype(t)) else str(t) for t in df.dtypes]


def assert_seed(df, device, times, rows):
    assert list(df.columns) == ["Time"] + [f"{device}.{m}" for m in MEASUREMENTS]
    assert list(df["Time"]) == times
    for j, m in enumerate(MEASUREMENTS):
        got = list(df[f"{device}.{m}"])
        for g, row in zip(got, rows):
            want = row[j]
            if want is None:
                assert g is None or pd.isna(g), (m, got)
            elif j == 3:
                assert np.float32(g) == np.float32(want), (m, got)
            else:
                assert g == want, (m, got)


# ----------------------------------------------------------------------------- sessions


def test_open_time_zone_close(make_session):
    s = make_session()
    assert s.is_open()
    assert s.get_time_zone() == Session.DEFAULT_ZONE_ID
    s.set_time_zone("UTC+8")
    assert s.get_time_zone() == "UTC+8"
    s.close()
    assert not s.is_open()
    with pytest.raises(IoTDBConnectionException):
        s.set_storage_group("root.closed")
    with pytest.raises(IoTDBConnectionException):
        s.execute_query_statement("SHOW DATABASES")


def test_fetch_size_zone_and_paging(make_session):
    s = make_session(fetch_size=1024, zone_id="UTC+8")
    assert s.get_time_zone() == "UTC+8"
    n = 3000
    ts = np.arange(n, dtype=">i8")
    vals = np.arange(n, dtype=">f8") * 0.5
    s.insert_tablet(NumpyTablet("root.page.d1", ["v"], [TSDataType.DOUBLE], [vals], ts))
    df = df_of(s, "select v from root.page.d1")
    assert list(df["Time"]) == list(range(n))
    np.testing.assert_array_equal(df["root.page.d1.v"].to_numpy(), vals.astype(np.float64))
    _, rows = rows_of(s, "select v from root.page.d1")
    assert [r[0] for r in rows] == list(range(n)) and rows[2999][1] == 1499.5
    # a datetime literal is read in the session zone (UTC+8)
    s.insert_record("root.page.d2", 1509465600000, ["v"], [TSDataType.INT64], [1])
    assert rows_of(s, "select v from root.page.d2 where time = 2017-11-01T00:00:00")[1] == [[1509465600000, 1]]


# ----------------------------------------------------------------------------- schema


def test_databases(session, mode):
    for g in ["root.sg_test_01", "root.sg_test_02", "root.sg_test_03", "root.sg_test_04"]:
        session.set_storage_group(g)
    session.delete_storage_group("root.sg_test_02")
    session.delete_storage_groups(["root.sg_test_03", "root.sg_test_04"])
    df = df_of(session, "SHOW DATABASES root.sg_test_0*")
    if mode == "reference":
        # Apache IoTDB 2.0's header (iotdb-rs answers with 1.0's, the seed page's version)
        assert list(df.columns) == [
            "Database",
            "SchemaReplicationFactor",
            "DataReplicationFactor",
            "TimePartitionOrigin",
            "TimePartitionInterval",
        ]
        assert records(df) == [["root.sg_test_01", 1, 1, 0, 604800000]]
    else:
        assert list(df.columns) == [
            "Database",
            "TTL(ms)",
            "SchemaReplicationFactor",
            "DataReplicationFactor",
            "TimePartitionInterval",
            "SchemaRegionNum",
            "DataRegionNum",
        ]
        assert records(df) == [["root.sg_test_01", None, 1, 1, 604800000, 1, 1]]
    with pytest.raises(StatementExecutionException) as e:
        session.set_storage_group("root.sg_test_01")
    assert e.value.code == 501 and str(e.value).startswith("501: ")
    with pytest.raises(StatementExecutionException) as e:
        session.delete_storage_group("root.nothing_here")
    assert e.value.code == 508


def test_timeseries_ddl(session, mode):
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
    session.create_time_series(
        "root.sg_test_01.d_02.s_02",
        TSDataType.FLOAT,
        TSEncoding.GORILLA,
        Compressor.UNCOMPRESSED,
        props={"loss": "sdt", "compdev": "0.01"},
    )
    df = df_of(session, "SHOW TIMESERIES root.sg_test_01.d_02.s_01")
    assert list(df.columns) == [
        "Timeseries",
        "Alias",
        "Database",
        "DataType",
        "Encoding",
        "Compression",
        "Tags",
        "Attributes",
        "Deadband",
        "DeadbandParameters",
        # Apache IoTDB 2.0 adds the view type (iotdb-rs answers with 1.0's header)
        *(["ViewType"] if mode == "reference" else []),
    ]
    assert records(df) == [
        [
            "root.sg_test_01.d_02.s_01",
            "temperature",
            "root.sg_test_01",
            "BOOLEAN",
            "PLAIN",
            "SNAPPY",
            '{"tag1":"v1"}',
            '{"description":"v1"}',
            None,
            None,
            *(["BASE"] if mode == "reference" else []),
        ]
    ]
    assert records(df_of(session, "SHOW TIMESERIES root.sg_test_01.d_02.s_02"))[0][3:10] == [
        "FLOAT",
        "GORILLA",
        "UNCOMPRESSED",
        None,
        None,
        "SDT",
        "{compdev=0.01}",
    ]
    paths = [f"root.sg_test_01.d_02.s_0{i}" for i in range(4, 10)]
    types = [TSDataType.FLOAT, TSDataType.DOUBLE, TSDataType.TEXT] * 2
    session.create_multi_time_series(
        paths,
        types,
        [TSEncoding.PLAIN] * 6,
        [Compressor.SNAPPY] * 6,
        None,
        [{"tag2": "v2"}] * 6,
        [{"description": "v2"}] * 6,
        [f"a{i}" for i in range(4, 10)],
    )
    got = {r[0]: r for r in records(df_of(session, "SHOW TIMESERIES root.sg_test_01.d_02.*"))}
    assert sorted(got) == sorted([*paths, "root.sg_test_01.d_02.s_01", "root.sg_test_01.d_02.s_02"])
    assert got["root.sg_test_01.d_02.s_06"][1:6] == ["a6", "root.sg_test_01", "TEXT", "PLAIN", "SNAPPY"]
    session.create_aligned_time_series(
        "root.sg_test_01.d_03",
        ["s_01", "s_02", "s_03"],
        [TSDataType.BOOLEAN, TSDataType.INT32, TSDataType.INT64],
        [TSEncoding.PLAIN] * 3,
        [Compressor.SNAPPY] * 3,
    )
    # Apache IoTDB 2.0 adds template and TTL columns
    devices = [r[:2] for r in records(df_of(session, "SHOW DEVICES root.sg_test_01.**"))]
    assert sorted(devices) == [["root.sg_test_01.d_02", "false"], ["root.sg_test_01.d_03", "true"]]
    session.delete_time_series(paths[3:])
    assert not session.check_time_series_exists("root.sg_test_01.d_02.s_07")
    assert session.check_time_series_exists("root.sg_test_01.d_02.s_04")
    assert not session.check_time_series_exists("root.nowhere.**")
    with pytest.raises(StatementExecutionException) as e:
        session.create_time_series("root.sg_test_01.d_02.s_01", TSDataType.INT32, TSEncoding.RLE, Compressor.SNAPPY)
    assert e.value.code == 503


# ----------------------------------------------------------------------------- inserts


def test_insert_tablet_seed(session):
    session.insert_tablet(Tablet("root.sg_test_01.d_01", MEASUREMENTS, DATA_TYPES, SEED_VALUES, [1, 2, 3, 4]))
    df = df_of(session, f"select {', '.join(MEASUREMENTS)} from root.sg_test_01.d_01")
    assert_seed(df, "root.sg_test_01.d_01", [1, 2, 3, 4], SEED_VALUES)
    # the seed's (1.0.x) dtypes: plain numpy dtypes without nulls
    assert dtypes(df) == ["int64", "bool", "int32", "int64", "float32", "float64", "text"]
    df = df_of(session, "select * from root.sg_test_01.d_01")
    assert list(df.columns) == ["Time"] + [f"root.sg_test_01.d_01.{m}" for m in HASHMAP_ORDER]
    names, rows = rows_of(session, f"select {', '.join(MEASUREMENTS)} from root.sg_test_01.d_01")
    assert names == ["Time"] + [f"root.sg_test_01.d_01.{m}" for m in MEASUREMENTS]
    assert rows[1] == [2, True, 100, 11111, 1.25, 101.0, "test02"]
    auto = {r[0].rsplit(".", 1)[1]: r[3:6] for r in records(df_of(session, "SHOW TIMESERIES root.sg_test_01.d_01.*"))}
    assert auto["s_04"] == ["FLOAT", "GORILLA", "SNAPPY"] and auto["s_06"] == ["TEXT", "PLAIN", "SNAPPY"]


def test_tablet_with_nulls(session):
    rows = [
        [None, 10, 11, 1.1, 10011.1, "test01"],
        [True, None, 11111, 1.25, 101.0, None],
        [False, 100, None, None, 688.25, "test03"],
    ]
    session.insert_tablet(
        Tablet("root.sg.n1", MEASUREMENTS, DATA_TYPES, rows, [3, 1, 2])
    )  # unsorted: sorted by the client
    df = df_of(session, f"select {', '.join(MEASUREMENTS)} from root.sg.n1")
    ordered = [rows[1], rows[2], rows[0]]
    assert_seed(df, "root.sg.n1", [1, 2, 3], ordered)
    assert dtypes(df) == ["int64", "boolean", "Int32", "Int64", "float32", "float64", "text"]
    assert pd.isna(df["root.sg.n1.s_06"][0])
    _, it = rows_of(session, f"select {', '.join(MEASUREMENTS)} from root.sg.n1")
    assert it[0] == [1, True, None, 11111, 1.25, 101.0, None]


def test_numpy_tablet_seed_and_bitmaps(session):
    np_values = [
        np.array([False, True, False, True], TSDataType.BOOLEAN.np_dtype()),
        np.array([10, 100, 100, 0], TSDataType.INT32.np_dtype()),
        np.array([11, 11111, 1, 0], TSDataType.INT64.np_dtype()),
        np.array([1.1, 1.25, 188.1, 0], TSDataType.FLOAT.np_dtype()),
        np.array([10011.1, 101.0, 688.25, 6.25], TSDataType.DOUBLE.np_dtype()),
        np.array(["test01", "test02", "test03", "test04"]),
    ]
    ts = np.array([1, 2, 3, 4], TSDataType.INT64.np_dtype())
    session.insert_tablet(NumpyTablet("root.sg_test_01.d_02", MEASUREMENTS, DATA_TYPES, np_values, ts))
    assert_seed(
        df_of(session, f"select {', '.join(MEASUREMENTS)} from root.sg_test_01.d_02"),
        "root.sg_test_01.d_02",
        [1, 2, 3, 4],
        SEED_VALUES,
    )
    # default (native) dtypes are fine too; bitmaps mark nulls
    bms = [None, BitMap(3)]
    bms[1].mark(1)
    t = NumpyTablet(
        "root.sg.np2",
        ["a", "b"],
        [TSDataType.INT64, TSDataType.DOUBLE],
        [np.array([1, 2, 3]), np.array([0.5, 1.5, 2.5])],
        np.array([10, 20, 30]),
        bms,
    )
    session.insert_tablet(t)
    df = df_of(session, "select a, b from root.sg.np2")
    assert records(df) == [[10, 1, 0.5], [20, 2, None], [30, 3, 2.5]]
    assert dtypes(df) == ["int64", "int64", "float64"]


def test_tablet_buffers_match_between_tablet_kinds(session):
    t = Tablet("root.sg.b", MEASUREMENTS, DATA_TYPES, SEED_VALUES, [1, 2, 3, 4])
    cols = [np.array(c, dtype=dt.np_dtype()) for c, dt in zip(zip(*SEED_VALUES), DATA_TYPES)]
    nt = NumpyTablet("root.sg.b", MEASUREMENTS, DATA_TYPES, cols, np.array([1, 2, 3, 4], ">i8"))
    assert t.get_binary_timestamps() == nt.get_binary_timestamps() == np.arange(1, 5, dtype=">i8").tobytes()
    assert t.get_binary_values() == nt.get_binary_values()
    assert t.get_binary_values()[:4] == b"\x00\x01\x00\x01"  # BOOLEAN column, 1 byte per row
    assert session.insert_tablet(t) == 0


def test_insert_tablets_and_aligned(session):
    t1 = Tablet("root.sg.t1", MEASUREMENTS, DATA_TYPES, SEED_VALUES, [1, 2, 3, 4])
    t2 = Tablet("root.sg.t2", MEASUREMENTS, DATA_TYPES, SEED_VALUES, [5, 6, 7, 8])
    session.insert_tablets([t1, t2])
    assert list(df_of(session, "select s_02 from root.sg.t2")["root.sg.t2.s_02"]) == [10, 100, 100, 0]
    session.insert_aligned_tablet(Tablet("root.sg.al1", MEASUREMENTS, DATA_TYPES, SEED_VALUES, [1, 2, 3, 4]))
    session.insert_aligned_tablets([Tablet("root.sg.al2", MEASUREMENTS, DATA_TYPES, SEED_VALUES, [1, 2, 3, 4])])
    devices = {r[0]: r[1] for r in records(df_of(session, "SHOW DEVICES root.sg.**"))}
    assert devices == {"root.sg.t1": "false", "root.sg.t2": "false", "root.sg.al1": "true", "root.sg.al2": "true"}
    assert_seed(
        df_of(session, f"select {', '.join(MEASUREMENTS)} from root.sg.al2"), "root.sg.al2", [1, 2, 3, 4], SEED_VALUES
    )


def test_records(session):
    session.insert_record(
        "root.sg.r1", 1, ["s1", "s2", "s3"], [TSDataType.INT32, TSDataType.DOUBLE, TSDataType.TEXT], [1, 2.5, "x"]
    )
    session.insert_records(
        ["root.sg.r1", "root.sg.r2"],
        [2, 3],
        [["s1", "s2"], ["s1"]],
        [[TSDataType.INT32, TSDataType.DOUBLE], [TSDataType.BOOLEAN]],
        [[2, None], [True]],
    )
    session.insert_records_of_one_device(
        "root.sg.r1",
        [5, 4],
        [["s1"], ["s1", "s3"]],
        [[TSDataType.INT32], [TSDataType.INT32, TSDataType.TEXT]],
        [[5], [4, "y"]],
    )
    df = df_of(session, "select s1, s2, s3 from root.sg.r1")
    assert records(df) == [[1, 1, 2.5, "x"], [2, 2, None, None], [4, 4, None, "y"], [5, 5, None, None]]
    assert dtypes(df) == ["int64", "int32", "float64", "text"]
    session.insert_str_record("root.sg.str", 1, ["b", "i", "f", "t"], ["true", "3", "3.2", "hello"])
    session.insert_aligned_record("root.sg.ar", 1, ["a"], [TSDataType.INT64], [7])
    session.insert_aligned_records(["root.sg.ar"], [2], [["a"]], [[TSDataType.INT64]], [[8]])
    types = {r[0].rsplit(".", 1)[1]: r[3] for r in records(df_of(session, "SHOW TIMESERIES root.sg.str.*"))}
    assert types == {"b": "BOOLEAN", "i": "FLOAT", "f": "FLOAT", "t": "TEXT"}
    assert rows_of(session, "select a from root.sg.ar")[1] == [[1, 7], [2, 8]]


def test_new_types_roundtrip(session):
    dts = [TSDataType.DATE, TSDataType.TIMESTAMP, TSDataType.BLOB, TSDataType.STRING]
    vals = [[datetime.date(2024, 2, 29), 1700000000000, b"\x00\x01", "s1"], [None, 5, None, None]]
    session.insert_tablet(Tablet("root.nt.d1", ["d", "ts", "b", "s"], dts, vals, [1, 2]))
    df = df_of(session, "select d, ts, b, s from root.nt.d1")
    assert records(df) == [[1, datetime.date(2024, 2, 29), 1700000000000, b"\x00\x01", "s1"], [2, None, 5, None, None]]
    assert [r[1] for r in records(df_of(session, "SHOW TIMESERIES root.nt.d1.*"))] != []
    _, rows = rows_of(session, "select d, b from root.nt.d1")
    assert rows[0] == [1, datetime.date(2024, 2, 29), b"\x00\x01"]


# ----------------------------------------------------------------------------- SQL


def test_sql_interfaces(session):
    session.execute_non_query_statement("CREATE DATABASE root.sql")
    session.execute_non_query_statement("INSERT INTO root.sql.d1(time, s1) VALUES (1, 10), (2, 20)")
    assert session.execute_statement("INSERT INTO root.sql.d1(time, s1) VALUES (3, 30)") is None
    ds = session.execute_statement("select s1 from root.sql.d1")
    assert records(ds.todf()) == [[1, 10.0], [2, 20.0], [3, 30.0]]
    df = df_of(session, "select count(s1), max_value(s1) from root.sql.d1")
    assert list(df.columns) == ["count(root.sql.d1.s1)", "max_value(root.sql.d1.s1)"]
    # integers in SQL INSERT are inferred as FLOAT (IoTDB 1.0 default): max_value keeps FLOAT
    assert records(df) == [[3, 30.0]] and dtypes(df) == ["int64", "float32"]
    df = df_of(session, "select s1, s1 from root.sql.d1 where time > 1")
    assert list(df.columns) == ["Time", "root.sql.d1.s1", "root.sql.d1.s1"] and len(df) == 2
    assert records(session.execute_raw_data_query(["root.sql.d1.s1"], 2, 4).todf()) == [[2, 20.0], [3, 30.0]]
    last = session.execute_last_data_query(["root.sql.d1.s1"], 0).todf()
    assert list(last.columns) == ["Time", "Timeseries", "Value", "DataType"]
    assert records(last) == [[3, "root.sql.d1.s1", "30.0", "FLOAT"]]
    session.delete_data(["root.sql.d1.s1"], 1)
    session.delete_data_in_range(["root.sql.d1.s1"], 3, 3)
    assert rows_of(session, "select s1 from root.sql.d1")[1] == [[2, 20.0]]
    with pytest.raises(StatementExecutionException) as e:
        session.execute_query_statement("selec wrong")
    assert e.value.code == 700
    empty = df_of(session, "select s1 from root.sql.d1 where time > 100")
    assert list(empty.columns) == ["Time", "root.sql.d1.s1"] and len(empty) == 0


def test_templates(session, mode):
    template = Template(name="template_python", share_time=False)
    i_node_gps = InternalNode(name="GPS", share_time=False)
    i_node_v = InternalNode(name="vehicle", share_time=True)
    m_node_x = MeasurementNode("x", TSDataType.FLOAT, TSEncoding.RLE, Compressor.SNAPPY)
    i_node_gps.add_child(m_node_x)
    i_node_v.add_child(m_node_x)
    template.add_template(i_node_gps)
    template.add_template(i_node_v)
    template.add_template(m_node_x)
    session.create_schema_template(template)
    assert session.show_all_templates() == ["template_python"]
    if mode == "reference":
        # Apache IoTDB 2.0 refuses these template queries and changes (300); iotdb-rs answers
        # them as the seed page shows
        for call in [
            lambda: session.count_measurements_in_template("template_python"),
            lambda: session.is_measurement_in_template("template_python", "GPS.x"),
            lambda: session.is_path_exist_in_template("template_python", "GPS"),
            lambda: session.add_measurements_in_template(
                "template_python", ["speed"], [TSDataType.INT64], [TSEncoding.RLE], [Compressor.SNAPPY]
            ),
            lambda: session.delete_node_in_template("template_python", "x"),
        ]:
            with pytest.raises(StatementExecutionException) as e:
                call()
            assert e.value.code == 300
        assert sorted(session.show_measurements_in_template("template_python")) == ["GPS.x", "vehicle.x", "x"]
    else:
        assert session.count_measurements_in_template("template_python") == 3
        assert session.is_measurement_in_template("template_python", "GPS.x") is True
        assert session.is_path_exist_in_template("template_python", "GPS") is True
        assert session.is_path_exist_in_template("template_python", "nope") is False
        session.add_measurements_in_template(
            "template_python", ["speed"], [TSDataType.INT64], [TSEncoding.RLE], [Compressor.SNAPPY]
        )
        assert sorted(session.show_measurements_in_template("template_python")) == ["GPS.x", "speed", "vehicle.x", "x"]
        session.delete_node_in_template("template_python", "speed")
    session.set_storage_group("root.tpl")
    session.set_schema_template("template_python", "root.tpl.d1")
    assert session.show_paths_template_set_on("template_python") == ["root.tpl.d1"]
    session.create_timeseries_using_schema_template(["root.tpl.d1"])
    assert session.show_paths_template_using_on("template_python") == ["root.tpl.d1"]
    session.execute_non_query_statement("DEACTIVATE SCHEMA TEMPLATE template_python FROM root.tpl.d1")
    session.unset_schema_template("template_python", "root.tpl.d1")
    session.drop_schema_template("template_python")
    assert session.show_all_templates() == []


# ----------------------------------------------------------------------------- bad input


def test_bad_input_raises(session):
    with pytest.raises(TypeError):
        session.insert_tablet(
            NumpyTablet("root.bad.d1", ["a"], [TSDataType.INT32], [np.array([1.5, 2.5])], np.array([1, 2]))
        )
    with pytest.raises(TypeError):
        session.insert_tablet(
            NumpyTablet("root.bad.d1", ["a"], [TSDataType.DOUBLE], [np.array(["x", "y"])], np.array([1, 2]))
        )
    with pytest.raises(ValueError):
        NumpyTablet("root.bad.d1", ["a"], [TSDataType.INT32], [np.array([1, 2, 3])], np.array([1, 2]))
    with pytest.raises(ValueError):
        session.insert_tablet(
            NumpyTablet("root.bad.d1", ["a"], [TSDataType.INT32], [np.array([2**40, 1])], np.array([1, 2]))
        )
    with pytest.raises(ValueError):
        Tablet("root.bad.d1", ["a", "b"], [TSDataType.INT32], [[1, 2]], [1])
    with pytest.raises(TypeError):
        session.insert_tablet(Tablet("root.bad.d1", ["a"], [TSDataType.INT32], [["x"]], [1]))
    with pytest.raises(ValueError):
        session.insert_records(["root.bad.d1"], [1, 2], [["a"]], [[TSDataType.INT32]], [[1]])
    with pytest.raises(StatementExecutionException):
        session.insert_tablet(Tablet("root", ["a"], [TSDataType.INT32], [[1]], [1]))
    assert not session.check_time_series_exists("root.bad.**")


# ----------------------------------------------------------------------------- mode specific


def test_remote_compact_protocol_and_node_urls(mode, iotdb_server):
    if mode != "remote":
        pytest.skip("remote only")
    from server import free_port

    dead = f"127.0.0.1:{free_port()}"
    s = Session.init_from_node_urls([dead, f"{iotdb_server.host}:{iotdb_server.port}"], "root", "root")
    s.open(True)  # compact protocol, failing over from the dead node
    try:
        s.set_storage_group("root.compact")
        s.insert_tablet(Tablet("root.compact.d1", MEASUREMENTS, DATA_TYPES, SEED_VALUES, [1, 2, 3, 4]))
        assert_seed(
            df_of(s, f"select {', '.join(MEASUREMENTS)} from root.compact.d1"),
            "root.compact.d1",
            [1, 2, 3, 4],
            SEED_VALUES,
        )
    finally:
        s.delete_storage_group("root.compact")
        s.close()
    bad = Session(iotdb_server.host, iotdb_server.port, "root", "wrong")
    with pytest.raises(StatementExecutionException) as e:
        bad.open(False)
    assert e.value.code == 801
    with pytest.raises(IoTDBConnectionException):
        Session("127.0.0.1", free_port(), "root", "root").open(False)


def test_embedded_data_reopens_in_embedded_and_server(mode, tmp_path):
    if mode != "embedded":
        pytest.skip("embedded only")
    from server import IoTDBServer

    data = tmp_path / "shared"
    s = Session.embedded(data, wal_mode="SYNC")
    s.open()
    s.insert_tablet(Tablet("root.emb.d1", MEASUREMENTS, DATA_TYPES, SEED_VALUES, [1, 2, 3, 4]))
    s.close()
    s = Session.embedded(data)
    s.open()
    assert_seed(
        df_of(s, f"select {', '.join(MEASUREMENTS)} from root.emb.d1"), "root.emb.d1", [1, 2, 3, 4], SEED_VALUES
    )
    s.close()
    srv = IoTDBServer(data_dir=data)
    srv.start()
    try:
        r = Session(srv.host, srv.port, "root", "root")
        r.open(False)
        assert_seed(
            df_of(r, f"select {', '.join(MEASUREMENTS)} from root.emb.d1"), "root.emb.d1", [1, 2, 3, 4], SEED_VALUES
        )
        r.close()
    finally:
        srv.stop()


def test_embedded_memory_budget(mode, tmp_path):
    """A tiny budget makes writers wait for the background flushes; nothing is lost."""
    if mode != "embedded":
        pytest.skip("embedded only")
    rows, tablets = 5_000, 40
    for budget in (1, 0):  # 1 MiB: memtables of ~350 KB; 0: no budget (writers flush themselves)
        s = Session.embedded(tmp_path / f"budget{budget}", memory_budget_mb=budget)
        s.open()
        values = np.arange(rows * tablets, dtype=np.float64)
        for k in range(tablets):
            lo, hi = k * rows, (k + 1) * rows
            s.insert_tablet(
                NumpyTablet(
                    "root.budget.d",
                    ["a", "b"],
                    [TSDataType.DOUBLE] * 2,
                    [values[lo:hi], -values[lo:hi]],
                    np.arange(lo, hi, dtype=np.int64),
                )
            )
        df = df_of(s, "select count(a), sum(b) from root.budget.d")
        assert df.iloc[0].tolist() == [rows * tablets, -float(values.sum())]
        s.close()
    with pytest.raises(OverflowError):
        Session.embedded(tmp_path / "negative", memory_budget_mb=-1).open()


def test_iotdb_container_starts_a_real_server(mode):
    if mode != "remote":
        pytest.skip("remote only")
    from iotdb.IoTDBContainer import IoTDBContainer

    with IoTDBContainer("iotdb:dev") as db:
        s = Session(db.get_container_host_ip(), db.get_exposed_port(6667), "root", "root")
        s.open(False)
        s.insert_str_record("root.c.d1", 1, ["a"], ["1"])
        assert records(df_of(s, "SHOW TIMESERIES"))[0][0] == "root.c.d1.a"
        s.close()


def test_session_pool(mode, iotdb_server):
    if mode != "remote":
        pytest.skip("remote only")
    from iotdb.SessionPool import PoolConfig, create_session_pool

    iotdb_server.reset()
    pool = create_session_pool(PoolConfig(iotdb_server.host, str(iotdb_server.port), "root", "root"), 2, 200)
    a, b = pool.get_session(), pool.get_session()
    with pytest.raises(TimeoutError):
        pool.get_session()
    a.insert_str_record("root.pool.d1", 1, ["v"], ["1"])
    pool.put_back(a)
    c = pool.get_session()
    assert c is a and c.check_time_series_exists("root.pool.d1.v")
    pool.put_back(b)
    pool.put_back(c)
    pool.close()
    assert not a.is_open() and not b.is_open()


def test_tablets_are_sent_again_after_a_reconnect(mode, tmp_path):
    """A tablet whose request meets a dead connection (the server was restarted, with kill -9)
    is sent again on a new one: the buffers that moved into the first request are encoded
    again, and every point reads back equal."""
    if mode != "remote":
        pytest.skip("remote only")
    from server import IoTDBServer

    data = tmp_path / "restarted"
    first = IoTDBServer(data_dir=data, log_dir=tmp_path)
    first.start()
    second = None
    try:
        s = Session(first.host, first.port, "root", "root")
        s.open(False)
        rng = np.random.default_rng(5)
        n = 3000
        times = np.arange(n, dtype=np.int64)
        cols = [rng.normal(size=n), rng.integers(-(2**40), 2**40, size=n)]
        kinds = [TSDataType.DOUBLE, TSDataType.INT64]

        def tablet(lo, hi):
            return NumpyTablet("root.re.d1", ["x", "y"], kinds, [c[lo:hi] for c in cols], times[lo:hi])

        s.insert_tablet(tablet(0, 1000))
        first.kill()
        second = IoTDBServer(data_dir=data, port=first.port, log_dir=tmp_path / "second")
        second.start()
        s.insert_tablet(tablet(1000, 2000))  # one insertTablet request
        second.kill()
        third = IoTDBServer(data_dir=data, port=first.port, log_dir=tmp_path / "third")
        second = third
        third.start()
        s.insert_tablets([tablet(2000, 2500), tablet(2500, n)])  # one insertTablets request
        df = s.execute_query_statement("select x, y from root.re.d1").todf()
        s.close()
        assert df["Time"].tolist() == times.tolist()
        assert np.array_equal(df["root.re.d1.x"].to_numpy(), cols[0])
        assert np.array_equal(df["root.re.d1.y"].to_numpy(), cols[1])
    finally:
        first.cleanup()
        if second is not None:
            second.cleanup()


def test_server_dying_mid_query_raises(mode, tmp_path):
    if mode != "remote":
        pytest.skip("remote only")
    from server import IoTDBServer

    srv = IoTDBServer(data_dir=tmp_path / "dying")
    srv.start()
    try:
        s = Session(srv.host, srv.port, "root", "root", fetch_size=100)
        s.open(False)
        n = 1000
        s.insert_tablet(NumpyTablet("root.die.d1", ["v"], [TSDataType.INT64], [np.arange(n)], np.arange(n)))
        ds = s.execute_query_statement("select v from root.die.d1")
        whole = s.execute_query_statement("select v from root.die.d1")
        assert ds.has_next()
        srv.kill()
        with pytest.raises(IoTDBConnectionException):
            while ds.has_next():
                ds.next()
        # todf() reads the rest in bulk pages on a helper thread: the failure still surfaces
        with pytest.raises(IoTDBConnectionException):
            whole.todf()
        with pytest.raises(IoTDBConnectionException):
            s.execute_query_statement("show databases")
        s.close()
    finally:
        srv.cleanup()
