"""A result read over many ``fetchResultsV2`` pages: row by row (one page per fetch), with
``todf()`` and as Arrow (whole result at once), values and nulls intact, and the session still
usable afterwards. Runs against iotdb-rs and embedded (scripts/test-python) and against the real
Apache IoTDB (scripts/test-python-reference), which refuses a fetch that leaves out the query's
statement text with a Thrift protocol error."""

from __future__ import annotations

import numpy as np
import pytest
from iotdb.utils.IoTDBConstants import TSDataType
from iotdb.utils.NumpyTablet import NumpyTablet

DEVICE = "root.pkgtest_paging.d1"
ROWS = 20_000
FETCH = 1000


@pytest.fixture
def paged_session(make_session):
    s = make_session(fetch_size=FETCH)
    ts = np.arange(ROWS, dtype=">i8")
    v = ts.astype(">f8") * 0.5
    w = ts.astype(">i4") * 3
    txt = np.array([f"r{i}" for i in range(ROWS)], dtype=object)
    types = [TSDataType.DOUBLE, TSDataType.INT32, TSDataType.TEXT]
    tablet = NumpyTablet(DEVICE, ["v", "w", "t"], types, [v, w, txt], ts)
    # every 5th row of w is null
    for i in range(0, ROWS, 5):
        tablet.mark_none_value(1, i)
    s.insert_tablet(tablet)
    return s


SQL = f"select v, w, t from {DEVICE}"


def test_row_by_row_over_many_pages(paged_session):
    s = paged_session
    ds = s.execute_query_statement(SQL)
    n = 0
    while ds.has_next():
        r = ds.next()
        t = r.get_timestamp()
        assert t == n
        f = r.get_fields()
        assert f[0].get_double_value() == n * 0.5
        if n % 5 == 0:
            assert f[1].is_null()
        else:
            assert f[1].get_int_value() == n * 3
        assert f[2].get_string_value() == f"r{n}"
        n += 1
    ds.close_operation_handle()
    assert n == ROWS
    # the connection is still in step: another statement answers
    assert s.execute_query_statement(f"select count(v) from {DEVICE}").todf().iloc[0, 0] == ROWS


def test_whole_result_over_many_pages(paged_session):
    s = paged_session
    ds = s.execute_query_statement(SQL)
    df = ds.todf()
    ds.close_operation_handle()
    assert len(df) == ROWS
    np.testing.assert_array_equal(df["Time"].to_numpy(), np.arange(ROWS))
    np.testing.assert_array_equal(df[f"{DEVICE}.v"].to_numpy(), np.arange(ROWS) * 0.5)
    w = df[f"{DEVICE}.w"]
    assert w.isna().sum() == ROWS // 5
    assert int(w.iloc[7]) == 21
    assert df[f"{DEVICE}.t"].iloc[ROWS - 1] == f"r{ROWS - 1}"
    # the first rows, then the rest of the result at once as Arrow
    pytest.importorskip("pyarrow")
    ds = s.execute_query_statement(SQL)
    for _ in range(3 * FETCH // 2):
        ds.next()
    table = ds.to_arrow()
    ds.close_operation_handle()
    assert table.num_rows == ROWS - 3 * FETCH // 2
    assert table.column(0)[0].as_py() == 3 * FETCH // 2
