"""``Session.insert_dataframe``: a pandas DataFrame as one tablet, converted column by column with
vectorized numpy/pandas operations (no per-value Python) and serialized in Rust.

Types by dtype: bool/``boolean`` → BOOLEAN, int8/int16/int32/uint8/uint16 (and the nullable
``Int*``/``UInt*`` of those widths) → INT32, int64/uint32 (and ``Int64``/``UInt32``) → INT64,
float32 → FLOAT, float64 (and ``Float*``) → DOUBLE, datetime64 → TIMESTAMP (milliseconds since
the epoch), str/``string`` → TEXT, bytes → BLOB, ``datetime.date`` → DATE; ``data_types``
overrides any of them. NaN, None, NaT and ``pd.NA`` are nulls.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd

from iotdb.utils.IoTDBConstants import TSDataType

_NUMPY = {
    TSDataType.BOOLEAN: np.bool_,
    TSDataType.INT32: np.int32,
    TSDataType.INT64: np.int64,
    TSDataType.TIMESTAMP: np.int64,
    TSDataType.DATE: np.int32,
    TSDataType.FLOAT: np.float32,
    TSDataType.DOUBLE: np.float64,
}


def _epoch_ms(values: pd.Series) -> np.ndarray:
    """datetime64 values (naive = UTC) as int64 milliseconds since the epoch."""
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.astype("datetime64[ms]").to_numpy().astype(np.int64)


def _object_type(name, values: pd.Series) -> TSDataType:
    present = values.dropna()
    if present.empty:
        raise TypeError(f"column {name!r} holds only nulls: give its type in data_types")
    kinds = {type(v) for v in present.head(1000)}
    if kinds <= {str}:
        return TSDataType.TEXT
    if kinds <= {bytes, bytearray}:
        return TSDataType.BLOB
    if kinds <= {datetime.date}:
        return TSDataType.DATE
    if kinds <= {bool, np.bool_}:
        return TSDataType.BOOLEAN
    if kinds <= {int, np.int64}:
        return TSDataType.INT64
    if kinds <= {float, int, np.float64}:
        return TSDataType.DOUBLE
    raise TypeError(
        f"column {name!r} holds {', '.join(sorted(k.__name__ for k in kinds))} values: "
        "give its type in data_types or convert it to a supported dtype"
    )


def infer_type(name, values: pd.Series) -> TSDataType:
    """The IoTDB type of a DataFrame column."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return TSDataType.BOOLEAN
    if pd.api.types.is_integer_dtype(dtype):
        size = np.dtype(dtype.numpy_dtype if hasattr(dtype, "numpy_dtype") else dtype)
        fits32 = size.itemsize < 4 or (size.itemsize == 4 and size.kind == "i")
        return TSDataType.INT32 if fits32 else TSDataType.INT64
    if pd.api.types.is_float_dtype(dtype):
        np_dtype = np.dtype(dtype.numpy_dtype if hasattr(dtype, "numpy_dtype") else dtype)
        return TSDataType.FLOAT if np_dtype == np.float32 else TSDataType.DOUBLE
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return TSDataType.TIMESTAMP
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        return _object_type(name, values)
    raise TypeError(f"column {name!r}: dtype {dtype} has no IoTDB type (give one in data_types)")


def column(name, values: pd.Series, t: TSDataType):
    """``(values, LSB-first null bitmap bytes or None)`` of one column as type ``t``."""
    mask = values.isna().to_numpy(dtype=bool)
    bitmap = np.packbits(mask, bitorder="little").tobytes() if mask.any() else None
    if t in (TSDataType.TEXT, TSDataType.STRING, TSDataType.BLOB):
        out = values.astype(object).to_numpy(dtype=object, copy=True)
        out[mask] = None
        return out, bitmap
    if t == TSDataType.TIMESTAMP and pd.api.types.is_datetime64_any_dtype(values.dtype):
        filled = values.fillna(pd.Timestamp(0, tz=getattr(values.dt, "tz", None)))
        return _epoch_ms(filled), bitmap
    if t == TSDataType.DATE:
        stamps = pd.to_datetime(values.where(~mask, datetime.date(1970, 1, 1)))
        ymd = stamps.dt.year * 10000 + stamps.dt.month * 100 + stamps.dt.day
        return ymd.to_numpy(dtype=np.int32), bitmap
    if t in (TSDataType.INT32, TSDataType.INT64) and values.dtype.kind == "f":
        raise TypeError(f"column {name!r}: float values cannot be written as {t.name}")
    if t in (TSDataType.INT32, TSDataType.INT64) and values.dtype.kind in "iu" and len(values):
        info = np.iinfo(_NUMPY[t])
        low, high = values.min(), values.max()
        if (not pd.isna(low) and low < info.min) or (not pd.isna(high) and high > info.max):
            raise TypeError(f"column {name!r} has values outside the {t.name} range")
    try:
        arr = values.to_numpy(dtype=_NUMPY[t], **({"na_value": 0} if bitmap is not None else {}))
    except (TypeError, ValueError, OverflowError) as e:
        raise TypeError(f"column {name!r} cannot be written as {t.name}: {e}") from e
    return np.ascontiguousarray(arr), bitmap


def times_of(df: pd.DataFrame, time_column):
    """int64 timestamps from ``time_column`` or the index (datetimes as epoch milliseconds)."""
    raw = df[time_column] if time_column is not None else df.index.to_series(index=None)
    raw = pd.Series(raw.to_numpy(), dtype=raw.dtype)
    if raw.isna().any():
        raise ValueError("the time column (or index) has nulls")
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        return _epoch_ms(raw)
    if pd.api.types.is_integer_dtype(raw.dtype):
        return raw.to_numpy(dtype=np.int64)
    raise TypeError(
        f"time {'column ' + repr(time_column) if time_column is not None else 'index'} has dtype {raw.dtype}: "
        "expected integers (epoch time in the server's precision) or datetimes"
    )


def tablet_args(df, device, time_column=None, data_types=None):
    """The native tablet arguments ``(device, measurements, type ids, times, columns, bitmaps)``,
    or None for a frame without rows."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"insert_dataframe needs a pandas DataFrame, got {type(df).__name__}")
    if time_column is not None and time_column not in df.columns:
        raise ValueError(f"time column {time_column!r} is not a column of the DataFrame")
    names = [c for c in df.columns if c != time_column]
    if not names:
        raise ValueError("the DataFrame has no value columns")
    if any(not isinstance(c, str) for c in names):
        raise TypeError("column names must be strings (the measurement names)")
    if len(set(names)) != len(names):
        raise ValueError("the DataFrame has duplicate column names")
    data_types = dict(data_types or {})
    unknown = set(data_types) - set(names)
    if unknown:
        raise ValueError(f"data_types names columns the DataFrame does not have: {sorted(unknown)}")
    times = times_of(df, time_column)
    if len(times) == 0:
        return None
    order = None
    if len(times) > 1 and not (np.diff(times) >= 0).all():
        order = np.argsort(times, kind="stable")
        times = times[order]
    types, cols, bitmaps = [], [], []
    for name in names:
        values = df[name]
        if order is not None:
            values = values.iloc[order]
        values = values.reset_index(drop=True)
        t = data_types.get(name) or infer_type(name, values)
        if not isinstance(t, TSDataType):
            raise TypeError(f"data_types[{name!r}] must be a TSDataType, got {t!r}")
        arr, bitmap = column(name, values, t)
        types.append(t.value)
        cols.append(arr)
        bitmaps.append(bitmap)
    return (device, names, types, times, cols, bitmaps)
