"""A tablet given row by row (the official ``Tablet``); serialized in Rust."""

from __future__ import annotations

from iotdb.utils._tablet_base import TabletBase
from iotdb.utils.Field import date_to_int
from iotdb.utils.IoTDBConstants import TSDataType


class Tablet(TabletBase):
    """Rows of one device: ``values[row][column]``, ``None`` for a null value."""

    def __init__(self, device_id, measurements, data_types, values, timestamps, column_types=None):
        if len(timestamps) != len(values):
            raise ValueError(f"tablet of {device_id}: {len(timestamps)} timestamps for {len(values)} rows")
        for i, row in enumerate(values):
            if len(row) != len(measurements):
                raise ValueError(
                    f"tablet of {device_id}: row {i} has {len(row)} values for {len(measurements)} measurements"
                )
        if len(data_types) != len(measurements):
            raise ValueError(
                f"tablet of {device_id}: {len(measurements)} measurements and {len(data_types)} data types"
            )
        order = sorted(range(len(timestamps)), key=lambda i: timestamps[i])
        if order != list(range(len(timestamps))):
            timestamps = [timestamps[i] for i in order]
            values = [values[i] for i in order]
        super().__init__(device_id, measurements, data_types, values, list(timestamps))
        self.__column_types = column_types

    def _native_args(self):
        columns = []
        for j, dt in enumerate(self._data_types):
            col = [row[j] for row in self._values]
            if dt == TSDataType.DATE:
                col = [date_to_int(v) for v in col]
            columns.append(col)
        types = [dt.value for dt in self._data_types]
        return (self._device_id, self._measurements, types, self._timestamps, columns, [])
