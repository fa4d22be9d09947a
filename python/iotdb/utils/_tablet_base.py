"""What ``Tablet`` and ``NumpyTablet`` share: accessors and the wire buffers (encoded in Rust)."""

from __future__ import annotations

from iotdb._native import tablet_buffers


class TabletBase:
    def __init__(self, device_id, measurements, data_types, values, timestamps):
        self._device_id = device_id
        self._measurements = list(measurements)
        self._data_types = list(data_types)
        self._values = values
        self._timestamps = timestamps

    def get_measurements(self):
        return self._measurements

    def get_data_types(self):
        return self._data_types

    def get_row_number(self):
        return len(self._timestamps)

    def get_device_id(self):
        return self._device_id

    def get_timestamps(self):
        return self._timestamps

    def get_values(self):
        return self._values

    def get_binary_timestamps(self):
        """The big-endian timestamp buffer ``insertTablet`` carries (encoded in Rust)."""
        return tablet_buffers(self._native_args(), False)[0]

    def get_binary_values(self):
        """The column buffer (plus bitmap block when a value is null) ``insertTablet`` carries."""
        return tablet_buffers(self._native_args(), False)[1]

    def _native_args(self):
        raise NotImplementedError
