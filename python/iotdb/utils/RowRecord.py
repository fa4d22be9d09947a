"""One result row: a timestamp and its fields."""

from __future__ import annotations


class RowRecord:
    def __init__(self, timestamp, field_list=None):
        self.__timestamp = timestamp
        self.__field_list = field_list if field_list is not None else []

    def add_field(self, field):
        self.__field_list.append(field)

    def get_timestamp(self):
        return self.__timestamp

    def set_timestamp(self, timestamp):
        self.__timestamp = timestamp

    def get_fields(self):
        return self.__field_list

    def set_fields(self, field_list):
        self.__field_list = field_list

    def set_field(self, index, field):
        self.__field_list[index] = field

    def __str__(self):
        return "\t\t".join([str(self.__timestamp)] + [str(f) for f in self.__field_list])
