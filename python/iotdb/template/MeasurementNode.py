"""A measurement of a schema template."""

from __future__ import annotations

from iotdb.template.TemplateNode import TemplateNode


class MeasurementNode(TemplateNode):
    def __init__(self, name, data_type, encoding, compression_type):
        super().__init__(name)
        self.data_type = data_type
        self.encoding = encoding
        self.compression_type = compression_type

    def is_measurement(self):
        return True

    def get_data_type(self):
        return self.data_type

    def get_encoding(self):
        return self.encoding

    def get_compression_type(self):
        return self.compression_type
