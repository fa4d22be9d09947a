"""A tablet of numpy columns (the official ``NumpyTablet``); read by Rust without per-value Python work."""

from __future__ import annotations

import numpy as np

from iotdb.utils._tablet_base import TabletBase
from iotdb.utils.BitMap import BitMap
from iotdb.utils.Field import date_to_int
from iotdb.utils.IoTDBConstants import TSDataType

# native dtype and the numpy kinds accepted (converted without loss of kind) per type
_NUMERIC = {
    TSDataType.BOOLEAN: (np.dtype(np.bool_), "b"),
    TSDataType.INT32: (np.dtype(np.int32), "iu"),
    TSDataType.INT64: (np.dtype(np.int64), "iu"),
    TSDataType.TIMESTAMP: (np.dtype(np.int64), "iu"),
    TSDataType.FLOAT: (np.dtype(np.float32), "fiu"),
    TSDataType.DOUBLE: (np.dtype(np.float64), "fiu"),
}
_INT32 = np.iinfo(np.int32)


class NumpyTablet(TabletBase):
    """Columns of one device: ``values[column]`` is a 1-d ndarray, ``bitmaps[column]`` marks nulls."""

    def __init__(self, device_id, measurements, data_types, values, timestamps, bitmaps=None, column_types=None):
        if len(values) != len(measurements) or len(data_types) != len(measurements):
            raise ValueError(
                f"NumpyTablet of {device_id}: {len(measurements)} measurements, "
                f"{len(data_types)} data types, {len(values)} value arrays"
            )
        timestamps = np.asarray(timestamps)
        for m, v in zip(measurements, values):
            if len(v) != len(timestamps):
                raise ValueError(
                    f"NumpyTablet of {device_id}: column {m} has {len(v)} values for {len(timestamps)} timestamps"
                )
        if bitmaps is not None and len(bitmaps) != len(measurements):
            raise ValueError(f"NumpyTablet of {device_id}: {len(bitmaps)} bitmaps for {len(measurements)} columns")
        if len(timestamps) > 1 and np.any(timestamps[1:] < timestamps[:-1]):
            order = np.argsort(timestamps, kind="stable")
            timestamps = timestamps[order]
            values = [np.asarray(v)[order] for v in values]
            if bitmaps is not None:
                bitmaps = [_permute(b, order) for b in bitmaps]
        super().__init__(device_id, measurements, data_types, values, timestamps)
        self.bitmaps = bitmaps

    def mark_none_value(self, column, row):
        if self.bitmaps is None:
            self.bitmaps = [None] * len(self._measurements)
        if self.bitmaps[column] is None:
            self.bitmaps[column] = BitMap(len(self._timestamps))
        self.bitmaps[column].mark(row)

    def _native_args(self):
        ts = np.asarray(self._timestamps)
        if ts.ndim != 1 or ts.dtype.kind not in "iu":
            raise TypeError(f"NumpyTablet of {self._device_id}: timestamps must be a 1-d integer array, got {ts.dtype}")
        ts = np.ascontiguousarray(ts, dtype=np.int64)
        columns = []
        for m, dt, v in zip(self._measurements, self._data_types, self._values):
            columns.append(_column(self._device_id, m, dt, v))
        bitmaps = [] if self.bitmaps is None else [None if b is None else bytes(b.bits) for b in self.bitmaps]
        types = [dt.value for dt in self._data_types]
        return (self._device_id, self._measurements, types, ts, columns, bitmaps)


def _column(device, measurement, dt, values):
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"NumpyTablet of {device}: column {measurement} must be 1-d, got shape {arr.shape}")
    if dt in _NUMERIC:
        target, kinds = _NUMERIC[dt]
        if arr.dtype.kind not in kinds:
            raise TypeError(
                f"NumpyTablet of {device}: column {measurement} is {dt.name} but the array has dtype {arr.dtype}"
            )
        if (
            dt == TSDataType.INT32
            and arr.dtype.itemsize > 4
            and arr.size
            and (arr.min() < _INT32.min or arr.max() > _INT32.max)
        ):
            raise ValueError(f"NumpyTablet of {device}: column {measurement} has values outside INT32")
        return np.ascontiguousarray(arr, dtype=target)
    if dt == TSDataType.DATE:
        return [date_to_int(v) for v in arr.tolist()]
    if arr.dtype.kind not in "USO":
        raise TypeError(
            f"NumpyTablet of {device}: column {measurement} is {dt.name} but the array has dtype {arr.dtype}"
        )
    return arr


def _permute(bitmap, order):
    if bitmap is None:
        return None
    out = BitMap(len(order))
    for new, old in enumerate(order):
        if bitmap.is_marked(int(old)):
            out.mark(new)
    return out
