"""A schema template: measurements, optionally grouped under internal nodes."""

from __future__ import annotations

from iotdb.template.TemplateNode import TemplateNode


class Template:
    def __init__(self, name, share_time: bool = False):
        self.name = name
        self.share_time = share_time
        self.children = {}

    def get_name(self):
        return self.name

    def is_share_time(self):
        return self.share_time

    def set_share_time(self, share_time: bool):
        self.share_time = share_time

    def add_template(self, child: TemplateNode):
        if child.get_name() in self.children:
            raise ValueError(f"duplicated child {child.get_name()} of template {self.name}")
        self.children[child.get_name()] = child

    def delete_from_template(self, name: str):
        if self.children.pop(name, None) is None:
            raise ValueError(f"template {self.name} has no child {name}")

    def _measurements(self):
        """``(path, aligned, data type, encoding, compressor)`` per measurement, as the native layer takes them."""
        out = []
        for child in self.children.values():
            if child.is_measurement():
                out.append(_row(child.get_name(), self.share_time, child))
            else:
                for m in (child.get_children() or {}).values():
                    out.append(_row(f"{child.get_name()}.{m.get_name()}", child.is_share_time(), m))
        return out


def _row(path, aligned, m):
    return (path, bool(aligned), m.get_data_type().value, m.get_encoding().value, m.get_compression_type().value)
