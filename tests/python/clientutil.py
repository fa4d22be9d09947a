"""Small helpers shared by our client test modules (work with the 1.3.x and 2.0.x clients)."""

from __future__ import annotations

import re
import socket
import struct

import numpy as np
import pandas as pd
import pytest

#: Epoch milliseconds of 2017-11-01T00:00:00 in UTC+8 (the seed's DB-API example date).
T_2017_11_01_CST = 1509465600000


def error_code(exc: BaseException) -> int | None:
    """The IoTDB status code a client exception carries ("<code>: <message>"), if any."""
    m = re.match(r"\s*\(?'?(\d{3})\s*:", str(exc))
    return int(m.group(1)) if m else None


def expect_error(code: int | None, fn, *args, **kwargs) -> BaseException:
    """Calls ``fn`` and asserts it raises with status ``code`` (any code if ``None``)."""
    with pytest.raises(Exception) as info:
        fn(*args, **kwargs)
    if code is not None:
        got = error_code(info.value)
        assert got == code, f"expected status {code}, got {got}: {info.value!r}"
    return info.value


def query_df(session, sql: str) -> pd.DataFrame:
    """Runs a query and returns ``todf()`` of the whole result."""
    ds = session.execute_query_statement(sql)
    try:
        return ds.todf()
    finally:
        ds.close_operation_handle()


def _py(v):
    if isinstance(v, (bytes, bytearray)):
        return v.decode("utf-8")
    if isinstance(v, np.generic):
        return v.item()
    return v


def query_rows(session, sql: str) -> tuple[list[str], list[list]]:
    """Runs a query and iterates it row by row with ``has_next()/next()``.

    Returns ``(column names, rows)``; each row is ``[timestamp, value, ...]`` with plain Python
    values (``None`` for nulls, ``str`` for TEXT). For results without a time column the
    timestamp is whatever the client reports (0).
    """
    ds = session.execute_query_statement(sql)
    rows = []
    try:
        names = list(ds.get_column_names())
        while ds.has_next():
            rec = ds.next()
            vals = [_py(rec.get_timestamp())]
            for f in rec.get_fields():
                dt = f.get_data_type()
                vals.append(None if dt is None else _py(f.get_object_value(dt)))
            rows.append(vals)
    finally:
        ds.close_operation_handle()
    return names, rows


def df_records(df: pd.DataFrame) -> list[list]:
    """DataFrame rows as lists of plain Python values, nulls as ``None``."""
    out = []
    for row in df.itertuples(index=False):
        out.append([None if _isna(v) else _py(v) for v in row])
    return out


def _isna(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def assert_values(series: pd.Series, expected: list, *, float32: bool = False) -> None:
    """Element-wise comparison; ``None`` in ``expected`` means null (NA/NaN/None)."""
    actual = list(series)
    assert len(actual) == len(expected), f"{series.name}: {len(actual)} rows, expected {len(expected)}"
    for i, (a, e) in enumerate(zip(actual, expected)):
        if e is None:
            assert _isna(a), f"{series.name}[{i}]: expected null, got {a!r}"
            continue
        assert not _isna(a), f"{series.name}[{i}]: expected {e!r}, got null"
        if float32:
            assert np.float32(a) == np.float32(e), f"{series.name}[{i}]: {a!r} != float32({e!r})"
        elif isinstance(e, float):
            assert float(a) == e, f"{series.name}[{i}]: {a!r} != {e!r}"
        else:
            assert _py(a) == e, f"{series.name}[{i}]: {a!r} != {e!r}"


def dtype_name(series: pd.Series) -> str:
    """A byte-order-independent dtype name: int32, float32, Int64, boolean, ..."""
    dt = series.dtype
    if isinstance(dt, np.dtype):
        return dt.newbyteorder("=").name
    return str(dt)


def is_text_dtype(series: pd.Series) -> bool:
    """TEXT columns come back as object (pandas < 3) or the string dtype (pandas >= 3)."""
    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def raw_frame(host: str, port: int, payload: bytes, timeout: float = 5.0) -> bytes:
    """Sends one framed message and returns the framed reply payload (b"" if the server closed)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(struct.pack(">I", len(payload)) + payload)
        head = _recv_exact(s, 4)
        if len(head) < 4:
            return b""
        (n,) = struct.unpack(">I", head)
        return _recv_exact(s, n)


def _recv_exact(s: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        try:
            chunk = s.recv(n - len(buf))
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        buf += chunk
    return buf
