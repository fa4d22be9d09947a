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


BULK_DEVICE = "root.pkgtest_paging.bulk"
BULK_ROWS = 120_000  # several pages of about 1 MiB when the whole result is read at once


@pytest.mark.parametrize("compact", [False, True])
def test_whole_result_of_fixed_width_columns_with_nulls(mode, make_session, request, compact):
    """Every fixed-width type, nulls in each at different rates: ``todf()`` reads the result in
    large pages (several requests on the wire) and decodes them into the final arrays."""
    if compact and mode != "remote":
        pytest.skip("compact protocol: iotdb-rs only (the reference runs without Thrift compression)")
    s = make_session()
    if compact:
        from iotdb.Session import Session

        host, port = request.getfixturevalue("remote_target")
        s = Session(host, port, "root", "root")
        s.open(True)
        request.addfinalizer(s.close)
    ts = np.arange(BULK_ROWS, dtype=np.int64)
    names = ["b", "i", "l", "f", "d"]
    types = [TSDataType.BOOLEAN, TSDataType.INT32, TSDataType.INT64, TSDataType.FLOAT, TSDataType.DOUBLE]
    values = [ts % 3 == 0, (ts * 7).astype(np.int32), ts * 1_000_003, ts.astype(np.float32) / 4, ts / 8]
    # row k of column c is null when k % every[c] == at[c] (never in every column at once)
    every, at = [2, 3, 7, 11, 50_000], [0, 1, 2, 3, 3]
    for lo in range(0, BULK_ROWS, 40_000):
        part = slice(lo, lo + 40_000)
        tablet = NumpyTablet(BULK_DEVICE, names, types, [v[part] for v in values], ts[part])
        for c, (e, r) in enumerate(zip(every, at)):
            for k in range(lo, lo + 40_000):
                if k % e == r:
                    tablet.mark_none_value(c, k - lo)
        s.insert_tablet(tablet)
    for _ in range(2):  # twice: the connection stays in step after a bulk read
        ds = s.execute_query_statement(f"select {', '.join(names)} from {BULK_DEVICE}")
        df = ds.todf()
        ds.close_operation_handle()
        assert len(df) == BULK_ROWS
        np.testing.assert_array_equal(df["Time"].to_numpy(), ts)
        for c, (name, e, r) in enumerate(zip(names, every, at)):
            col = df[f"{BULK_DEVICE}.{name}"]
            null = ts % e == r
            np.testing.assert_array_equal(col.isna().to_numpy(), null, err_msg=name)
            np.testing.assert_array_equal(col[~null].to_numpy(dtype=values[c].dtype), values[c][~null], err_msg=name)
