"""The seed page's six-column example data and a checker for query results over it."""

from __future__ import annotations

from iotdb.utils.IoTDBConstants import TSDataType

from clientutil import assert_values, dtype_name, is_text_dtype, query_df

# The seed's six-column example, used by many tests.
MEASUREMENTS = ["s_01", "s_02", "s_03", "s_04", "s_05", "s_06"]
DATA_TYPES = [
    TSDataType.BOOLEAN,
    TSDataType.INT32,
    TSDataType.INT64,
    TSDataType.FLOAT,
    TSDataType.DOUBLE,
    TSDataType.TEXT,
]
SEED_VALUES = [
    [False, 10, 11, 1.1, 10011.1, "test01"],
    [True, 100, 11111, 1.25, 101.0, "test02"],
    [False, 100, 1, 188.1, 688.25, "test03"],
    [True, 0, 0, 0, 6.25, "test04"],
]
# Java HashMap iteration order of s_01..s_06 (reference: sql-surface §2), i.e. `SELECT *` order.
HASHMAP_ORDER_S01_S06 = ["s_05", "s_04", "s_06", "s_01", "s_03", "s_02"]


def columns_of(rows_by_row):
    """Transposes a list of rows into a list of columns."""
    return [list(c) for c in zip(*rows_by_row)]


def select_all(session, device):
    """``todf()`` of the six seed columns of ``device``, in seed order."""
    return query_df(session, f"select {', '.join(MEASUREMENTS)} from {device}")


def assert_seed_frame(df, device, timestamps, rows):
    """Checks a frame of the six seed columns: names, order, dtypes, values, nulls."""
    assert list(df.columns) == ["Time"] + [f"{device}.{m}" for m in MEASUREMENTS]
    assert list(df["Time"]) == timestamps
    assert dtype_name(df["Time"]) == "int64"
    cols = columns_of(rows)
    has_null = [any(v is None for v in c) for c in cols]
    expected_dtypes = [
        # the 1.3.x/2.0.x clients return BOOLEAN as pandas "boolean"; with nulls, 2.0.11 on pandas 3
        # ends up with an object column of True/False/<NA> (client-side concatenation)
        ("boolean", "object") if has_null[0] else ("boolean",),
        "Int32" if has_null[1] else "int32",
        "Int64" if has_null[2] else "int64",
        "float32",
        "float64",
    ]
    for i, m in enumerate(MEASUREMENTS[:5]):
        got = dtype_name(df[f"{device}.{m}"])
        want = expected_dtypes[i] if isinstance(expected_dtypes[i], tuple) else (expected_dtypes[i],)
        assert got in want, f"{m}: dtype {got}, expected {want}"
        assert_values(df[f"{device}.{m}"], cols[i], float32=(i == 3))
    assert is_text_dtype(df[f"{device}.s_06"])
    assert_values(df[f"{device}.s_06"], cols[5])
