"""``Session.insert_dataframe``: a pandas DataFrame in one call, remote and embedded: dtypes
mapped to IoTDB types, NaN/None/NaT/pd.NA as nulls, time index or column, aligned, bad input."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest
from iotdb.utils.IoTDBConstants import TSDataType
from test_package import rows_of


def rows(session, sql):
    return rows_of(session, sql)[1]


def series_types(session, device):
    ds = session.execute_query_statement(f"show timeseries {device}.*")
    out = {}
    while ds.has_next():
        f = ds.next().get_fields()
        out[f[0].get_string_value().rsplit(".", 1)[1]] = f[3].get_string_value()
    ds.close_operation_handle()
    return out


def test_mixed_dtypes_and_nulls_time_index(session):
    df = pd.DataFrame(
        {
            "b": [True, False, None],
            "nb": pd.array([None, True, False], dtype="boolean"),
            "i8": np.array([1, 2, 3], dtype=np.int8),
            "i32": pd.array([10, None, 30], dtype="Int32"),
            "i64": np.array([2**40, 5, -1], dtype=np.int64),
            "f32": np.array([1.5, np.nan, 3.5], dtype=np.float32),
            "f64": [0.25, 1e300, None],
            "txt": ["a", None, "it's"],
            "blob": [b"\x00", None, b"\xff\x01"],
            "day": [datetime.date(2024, 2, 29), None, datetime.date(1999, 12, 31)],
            "when": pd.to_datetime(["2024-01-01 00:00:00.001", None, "1970-01-01 00:00:00.000"]),
        },
        index=pd.Index([30, 10, 20]),  # unsorted: sorted before writing
    )
    assert session.insert_dataframe(df, "root.df.d1") == 0
    assert series_types(session, "root.df.d1") == {
        "b": "BOOLEAN",
        "nb": "BOOLEAN",
        "i8": "INT32",
        "i32": "INT32",
        "i64": "INT64",
        "f32": "FLOAT",
        "f64": "DOUBLE",
        "txt": "TEXT",
        "blob": "BLOB",
        "day": "DATE",
        "when": "TIMESTAMP",
    }
    cols = list(df.columns)
    got = rows(session, f"select {', '.join(cols)} from root.df.d1")
    assert got == [
        [10, False, True, 2, None, 5, None, 1e300, None, None, None, None],
        [20, None, False, 3, 30, -1, 3.5, None, "it's", b"\xff\x01", datetime.date(1999, 12, 31), 0],
        [30, True, None, 1, 10, 2**40, 1.5, 0.25, "a", b"\x00", datetime.date(2024, 2, 29), 1704067200001],
    ]


def test_time_column_datetimes_aligned_and_overrides(session):
    df = pd.DataFrame(
        {
            "ts": pd.to_datetime(["2024-01-01T00:00:01Z", "2024-01-01T00:00:02Z"]),
            "v": [1, 2],
            "s": ["x", "y"],
        }
    )
    session.insert_dataframe(
        df, "root.df.al", time_column="ts", aligned=True, data_types={"v": TSDataType.DOUBLE, "s": TSDataType.STRING}
    )
    assert series_types(session, "root.df.al") == {"v": "DOUBLE", "s": "STRING"}
    assert rows(session, "select v, s from root.df.al") == [[1704067201000, 1.0, "x"], [1704067202000, 2.0, "y"]]
    ds = session.execute_query_statement("show devices root.df.al")
    assert ds.next().get_fields()[1].get_string_value() == "true"
    ds.close_operation_handle()
    # an empty frame writes nothing
    assert session.insert_dataframe(df.iloc[0:0], "root.df.al", time_column="ts") == 0


def test_bad_input_raises(session):
    good = pd.DataFrame({"v": [1.0]}, index=[1])
    with pytest.raises(TypeError, match="DataFrame"):
        session.insert_dataframe({"v": [1.0]}, "root.df.bad")
    with pytest.raises(ValueError, match="no value columns"):
        session.insert_dataframe(pd.DataFrame(index=[1, 2]), "root.df.bad")
    with pytest.raises(ValueError, match="time column"):
        session.insert_dataframe(good, "root.df.bad", time_column="nope")
    with pytest.raises(TypeError, match="time index"):
        session.insert_dataframe(pd.DataFrame({"v": [1.0]}, index=[1.5]), "root.df.bad")
    with pytest.raises(ValueError, match="nulls"):
        session.insert_dataframe(pd.DataFrame({"t": [1, None], "v": [1.0, 2.0]}), "root.df.bad", time_column="t")
    with pytest.raises(TypeError, match="no IoTDB type"):
        session.insert_dataframe(pd.DataFrame({"v": [1 + 2j]}, index=[1]), "root.df.bad")
    with pytest.raises(TypeError, match="only nulls"):
        session.insert_dataframe(pd.DataFrame({"v": [None]}, index=[1]), "root.df.bad")
    with pytest.raises(TypeError, match="holds"):
        session.insert_dataframe(pd.DataFrame({"v": ["a", 1]}, index=[1, 2]), "root.df.bad")
    with pytest.raises(TypeError, match="outside the INT64 range"):
        session.insert_dataframe(pd.DataFrame({"v": np.array([2**63], dtype=np.uint64)}, index=[1]), "root.df.bad")
    with pytest.raises(TypeError, match="outside the INT32 range"):
        session.insert_dataframe(good.astype(np.int64) * 2**40, "root.df.bad", data_types={"v": TSDataType.INT32})
    with pytest.raises(TypeError, match="float values"):
        session.insert_dataframe(good, "root.df.bad", data_types={"v": TSDataType.INT32})
    with pytest.raises(ValueError, match="does not have"):
        session.insert_dataframe(good, "root.df.bad", data_types={"w": TSDataType.INT32})
    with pytest.raises(TypeError, match="strings"):
        session.insert_dataframe(pd.DataFrame({0: [1.0]}, index=[1]), "root.df.bad")
    # a server-side rejection keeps its status code; the session stays usable
    session.insert_dataframe(good, "root.df.ok")
    from iotdb.utils.exception import StatementExecutionException

    with pytest.raises(StatementExecutionException):
        session.insert_dataframe(pd.DataFrame({"v": ["text"]}, index=[2]), "root.df.ok")
    assert rows(session, "select v from root.df.ok") == [[1, 1.0]]
