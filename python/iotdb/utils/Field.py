"""One value of a result row."""

from __future__ import annotations

import datetime

from iotdb.utils.IoTDBConstants import TSDataType


class Field:
    """A typed value; ``get_object_value(data_type)`` returns it as a Python object."""

    def __init__(self, data_type, value=None):
        self.__data_type = data_type
        self.value = value

    def get_data_type(self):
        return None if self.value is None else self.__data_type

    def is_null(self) -> bool:
        return self.value is None

    def set_bool_value(self, v):
        self.value = v

    def get_bool_value(self):
        return self.value

    def set_int_value(self, v):
        self.value = v

    def get_int_value(self):
        return self.value

    def set_long_value(self, v):
        self.value = v

    def get_long_value(self):
        return self.value

    def set_float_value(self, v):
        self.value = v

    def get_float_value(self):
        return self.value

    def set_double_value(self, v):
        self.value = v

    def get_double_value(self):
        return self.value

    def set_binary_value(self, v):
        self.value = v

    def get_binary_value(self):
        if isinstance(self.value, str):
            return self.value.encode("utf-8")
        return self.value

    def get_date_value(self):
        return self.value

    def get_timestamp_value(self):
        return self.value

    def get_string_value(self):
        if self.value is None:
            return "None"
        if isinstance(self.value, bytes):
            return "0x" + self.value.hex()
        return str(self.value)

    def get_object_value(self, data_type=None):
        return self.value

    def __str__(self):
        return self.get_string_value()

    @staticmethod
    def get_field(value, data_type):
        return Field(data_type, value)


def date_from_int(v: int) -> datetime.date:
    """A DATE value (``yyyymmdd``) as ``datetime.date``."""
    return datetime.date(v // 10000, v // 100 % 100, v % 100)


def date_to_int(d) -> int:
    """``datetime.date`` (or a ``yyyymmdd`` int) as the DATE wire value."""
    if d is None or isinstance(d, (int,)):
        return d
    return d.year * 10000 + d.month * 100 + d.day


__all__ = ["Field", "TSDataType", "date_from_int", "date_to_int"]
