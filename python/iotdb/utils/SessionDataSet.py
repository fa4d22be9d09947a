"""Query results: row iteration (``has_next``/``next``) and ``todf()``, decoded in Rust."""

from __future__ import annotations

import numpy as np
import pandas as pd

from iotdb.utils.Field import Field, date_from_int
from iotdb.utils.IoTDBConstants import TSDataType
from iotdb.utils.RowRecord import RowRecord

_INTEGERS = (TSDataType.INT32, TSDataType.INT64, TSDataType.TIMESTAMP)


class SessionDataSet:
    """The rows of one query; pages are fetched as they are read."""

    def __init__(self, native):
        self._native = native
        self._columns = list(native.columns) if native is not None else []
        self._types = [TSDataType[t] for t in native.types] if native is not None else []
        self._ignore_timestamp = native.ignore_timestamp if native is not None else True
        self._times = []
        self._values = []
        self._pos = 0
        self._done = native is None

    # -- header
    def get_column_names(self):
        return self._columns if self._ignore_timestamp else ["Time", *self._columns]

    def get_column_types(self):
        return self._types if self._ignore_timestamp else [TSDataType.INT64, *self._types]

    def get_ignore_timestamp(self):
        return self._ignore_timestamp

    # -- rows
    def _fill(self) -> bool:
        while self._pos >= len(self._times):
            if self._done:
                return False
            batch = self._native.fetch_rows()
            if batch is None:
                self._done = True
                return False
            self._times, self._values = batch
            self._pos = 0
        return True

    def has_next(self) -> bool:
        return self._fill()

    def next(self):
        if not self._fill():
            return None
        i = self._pos
        self._pos += 1
        fields = []
        for t, col in zip(self._types, self._values):
            v = col[i]
            if t == TSDataType.DATE and v is not None:
                v = date_from_int(v)
            fields.append(Field(t, v))
        return RowRecord(self._times[i], fields)

    def __iter__(self):
        while self.has_next():
            yield self.next()

    # -- pandas
    def todf(self) -> pd.DataFrame:
        """The remaining rows as a DataFrame with the official client's dtypes."""
        parts = []
        if self._pos < len(self._times):
            parts.append(self._rest_frame())
        if not self._done:
            times, cols = self._native.fetch_columns()
            self._done = True
            parts.append(self._frame(times, cols))
        if not parts:
            parts.append(self._frame(np.zeros(0, np.int64), [_empty(t) for t in self._types]))
        df = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
        return df

    def _frame(self, times, cols):
        data = {}
        names = []
        if not self._ignore_timestamp:
            data[0] = times
            names.append("Time")
        for k, ((values, mask), t) in enumerate(zip(cols, self._types)):
            data[k + 1] = _series_values(values, mask, t)
            names.append(self._columns[k])
        # the arrays are fresh from Rust and owned by nobody else: no copy, no consolidation
        df = pd.DataFrame(data, copy=False)
        df.columns = names
        return df

    def _rest_frame(self):
        i = self._pos
        times = np.asarray(self._times[i:], dtype=np.int64)
        cols = []
        for t, col in zip(self._types, self._values):
            rest = col[i:]
            mask = np.array([v is None for v in rest], dtype=bool)
            cols.append(_from_values(rest, mask, t))
        self._pos = len(self._times)
        return self._frame(times, cols)

    # -- Arrow
    def __arrow_c_stream__(self, requested_schema=None):
        """The remaining rows as an Arrow C stream (the Arrow PyCapsule interface), built in Rust.

        pyarrow, polars, duckdb … read it without copies and without pyarrow being installed
        here. Columns: ``Time`` (int64, not null; absent when the result has no time column),
        then one per result column typed as IoTDB types it (BOOLEAN bool, INT32 int32, INT64
        and TIMESTAMP int64, FLOAT float32, DOUBLE float64, TEXT/STRING utf8, BLOB binary,
        DATE date32), nulls kept; field metadata ``iotdb.type`` names the IoTDB type. Batches
        are fetched as the consumer reads them; the stream can be taken once (the data set is
        consumed afterwards), so hand consumers that ask twice (duckdb's replacement scan)
        ``to_arrow()`` or ``pyarrow.RecordBatchReader.from_stream(ds)``.
        ``requested_schema`` is ignored (allowed by the interface).
        """
        if self._native is None:
            raise ValueError("this data set has no result to export")
        capsule = self._native.arrow_stream(self._pos)
        self._times, self._values, self._pos, self._done = [], [], 0, True
        return capsule

    def to_arrow(self):
        """The remaining rows as a ``pyarrow.Table`` (needs pyarrow >= 14)."""
        try:
            import pyarrow as pa
        except ImportError as e:
            raise ImportError("to_arrow() needs pyarrow; __arrow_c_stream__ works without it") from e
        return pa.RecordBatchReader.from_stream(self).read_all()

    def to_polars(self):
        """The remaining rows as a ``polars.DataFrame`` (needs polars >= 1.0)."""
        try:
            import polars as pl
        except ImportError as e:
            raise ImportError("to_polars() needs polars") from e
        return pl.DataFrame(self)

    def set_fetch_size(self, fetch_size):
        """Rows per later fetch from the server."""
        if self._native is not None:
            self._native.set_fetch_size(int(fetch_size))
        self._fetch_size = fetch_size

    def get_fetch_size(self):
        return getattr(self, "_fetch_size", None)

    def close_operation_handle(self):
        if self._native is not None:
            self._native.close()
        self._done = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close_operation_handle()


def _series_values(values, mask, t):
    # the seed's (1.0.x) client: bool/int32/int64 without nulls, the nullable pandas dtypes with
    if t == TSDataType.BOOLEAN:
        return values if mask is None else pd.arrays.BooleanArray(values, mask)
    if t in _INTEGERS:
        return values if mask is None else pd.arrays.IntegerArray(values, mask)
    if t == TSDataType.DATE:
        out = np.empty(len(values), dtype=object)
        for k, v in enumerate(values.tolist()):
            out[k] = None if (mask is not None and mask[k]) else date_from_int(v)
        return out
    return values


def _empty(t):
    dtype = {
        TSDataType.BOOLEAN: np.bool_,
        TSDataType.INT32: np.int32,
        TSDataType.INT64: np.int64,
        TSDataType.TIMESTAMP: np.int64,
        TSDataType.FLOAT: np.float32,
        TSDataType.DOUBLE: np.float64,
        TSDataType.DATE: np.int32,
    }.get(t, object)
    return np.zeros(0, dtype=dtype), None


def _from_values(rest, mask, t):
    values, _ = _empty(t)
    if values.dtype == object:
        arr = np.empty(len(rest), dtype=object)
        arr[:] = rest
        return arr, None
    fill = np.nan if values.dtype.kind == "f" else 0
    arr = np.array([fill if v is None else v for v in rest], dtype=values.dtype)
    return arr, (mask if mask.any() else None)
