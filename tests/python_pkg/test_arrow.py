"""Results through the Arrow PyCapsule interface (``SessionDataSet.__arrow_c_stream__``, built in
Rust), ``to_arrow()`` and ``to_polars()``, read by pyarrow, polars and duckdb, remote (paged
with a small fetch size) and embedded: values, types, nulls, and no pyarrow needed."""

from __future__ import annotations

import datetime
import sys

import pytest
from iotdb.utils.IoTDBConstants import TSDataType
from iotdb.utils.Tablet import Tablet

from seeddata import DATA_TYPES  # BOOLEAN, INT32, INT64, FLOAT, DOUBLE, TEXT

pa = pytest.importorskip("pyarrow")

TYPES = [*DATA_TYPES, TSDataType.DATE, TSDataType.TIMESTAMP, TSDataType.BLOB, TSDataType.STRING]
NAMES = ["b", "i", "l", "f", "d", "t", "dt", "ts", "bl", "s"]
ROWS = [
    [True, 1, 10, 1.5, 2.25, "x", datetime.date(2024, 2, 29), 1700000000000, b"\x00\x01", "s1"],
    [None, None, None, None, None, None, None, None, None, None],  # only nulls: not stored
    [False, None, 30, None, 6.5, None, datetime.date(1969, 12, 31), None, None, "s3"],
    [None, 4, None, 4.5, None, "yz", None, 4, b"", None],
    [True, 5, 50, 5.5, 10.5, "w", datetime.date(2000, 1, 1), 5, b"\xff", "s5"],
]
TIMES = [1, 2, 3, 4, 5]
ARROW_TYPES = ["bool", "int32", "int64", "float", "double", "string", "date32[day]", "int64", "binary", "string"]
DEVICE = "root.arrow.d1"
SQL = f"select {', '.join(NAMES)} from {DEVICE}"


def expected_rows():
    return [[t, *r] for t, r in zip(TIMES, ROWS) if any(v is not None for v in r)]


@pytest.fixture
def session(make_session):
    s = make_session(fetch_size=2)  # remote: several pages
    s.insert_tablet(Tablet(DEVICE, NAMES, TYPES, ROWS, TIMES))
    return s


def rows_of_table(table):
    return [list(r.values()) for r in table.to_pylist()]


def test_pyarrow_values_types_nulls(session):
    table = session.execute_query_statement(SQL).to_arrow()
    assert table.column_names == ["Time"] + [f"{DEVICE}.{n}" for n in NAMES]
    assert [str(f.type) for f in table.schema] == ["int64", *ARROW_TYPES]
    assert table.schema.field("Time").nullable is False
    assert [f.metadata[b"iotdb.type"].decode() for f in table.schema][1:] == [t.name for t in TYPES]
    got = rows_of_table(table)
    assert got == expected_rows()
    assert table.column(f"{DEVICE}.i").null_count == 1


def test_polars(session):
    pl = pytest.importorskip("polars")
    df = session.execute_query_statement(SQL).to_polars()
    assert isinstance(df, pl.DataFrame)
    assert df.columns[0] == "Time"
    assert [str(t) for t in df.dtypes] == [
        "Int64",
        "Boolean",
        "Int32",
        "Int64",
        "Float32",
        "Float64",
        "String",
        "Date",
        "Int64",
        "Binary",
        "String",
    ]
    assert [list(r) for r in df.rows()] == expected_rows()


def test_duckdb(session):
    duckdb = pytest.importorskip("duckdb")
    ds = session.execute_query_statement(f"select d, i, t from {DEVICE}")
    con = duckdb.connect()
    con.register("reader", pa.RecordBatchReader.from_stream(ds))  # duckdb scans the stream
    rows = con.execute(f'select "Time", "{DEVICE}.d", "{DEVICE}.i", "{DEVICE}.t" from reader order by 1').fetchall()
    assert [list(r) for r in rows] == [[1, 2.25, 1, "x"], [3, 6.5, None, None], [4, None, 4, "yz"], [5, 10.5, 5, "w"]]
    # and a table made by to_arrow()
    con.register("tbl", session.execute_query_statement(f"select l from {DEVICE}").to_arrow())
    assert con.execute(f'select sum("{DEVICE}.l"), count(*) from tbl').fetchall() == [(90, 3)]


def test_after_partial_iteration_and_no_time(session):
    ds = session.execute_query_statement(SQL)
    first = ds.next()
    assert first.get_timestamp() == 1
    rest = ds.to_arrow()
    assert rows_of_table(rest) == expected_rows()[1:]
    assert not ds.has_next()  # the stream consumed the data set
    agg = session.execute_query_statement(f"select count(l), max_value(d) from {DEVICE}").to_arrow()
    assert agg.column_names == [f"count({DEVICE}.l)", f"max_value({DEVICE}.d)"]
    assert rows_of_table(agg) == [[3, 10.5]]
    empty = session.execute_query_statement(f"{SQL} where time > 100").to_arrow()
    assert empty.num_rows == 0 and [str(f.type) for f in empty.schema] == ["int64", *ARROW_TYPES]
    dup = session.execute_query_statement(f"select i, i from {DEVICE}").to_arrow()
    assert dup.num_columns == 3 and dup.column(1).to_pylist() == dup.column(2).to_pylist() == [1, 4, 5]


def test_no_pyarrow_needed(session, monkeypatch):
    pl = pytest.importorskip("polars")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now fails
    ds = session.execute_query_statement(SQL)
    with pytest.raises(ImportError, match="pyarrow"):
        ds.to_arrow()
    capsule = ds.__arrow_c_stream__()
    assert type(capsule).__name__ == "PyCapsule"
    del capsule  # released unread: the stream's release callback runs
    df = session.execute_query_statement(SQL).to_polars()
    assert df.height == len(expected_rows())
    assert pl is not None
