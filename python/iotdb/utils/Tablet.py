"""A tablet given row by row (the official ``Tablet``); serialized in Rust."""

from __future__ import annotations

from iotdb._native import tablet_buffers
from iotdb.utils.Field import date_to_int
from iotdb.utils.IoTDBConstants import TSDataType


class Tablet:
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
        self.__device_id = device_id
        self.__measurements = list(measurements)
        self.__data_types = list(data_types)
        self.__values = values
        self.__timestamps = list(timestamps)
        self.__column_types = column_types

    def get_measurements(self):
        return self.__measurements

    def get_data_types(self):
        return self.__data_types

    def get_row_number(self):
        return len(self.__timestamps)

    def get_device_id(self):
        return self.__device_id

    def get_timestamps(self):
        return self.__timestamps

    def get_values(self):
        return self.__values

    def get_binary_timestamps(self):
        """The big-endian timestamp buffer ``insertTablet`` carries (encoded in Rust)."""
        return tablet_buffers(self._native_args(), False)[0]

    def get_binary_values(self):
        """The column buffer (plus bitmap block when a value is null) ``insertTablet`` carries."""
        return tablet_buffers(self._native_args(), False)[1]

    def _native_args(self):
        columns = []
        for j, dt in enumerate(self.__data_types):
            col = [row[j] for row in self.__values]
            if dt == TSDataType.DATE:
                col = [date_to_int(v) for v in col]
            columns.append(col)
        types = [dt.value for dt in self.__data_types]
        return (self.__device_id, self.__measurements, types, self.__timestamps, columns, [])
