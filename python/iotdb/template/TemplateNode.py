"""Base class of schema-template nodes."""

from __future__ import annotations


class TemplateNode:
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name

    def get_children(self):
        return None

    def add_child(self, node):
        raise NotImplementedError(f"{type(self).__name__} cannot have children")

    def delete_child(self, node):
        raise NotImplementedError(f"{type(self).__name__} cannot have children")

    def is_measurement(self):
        return False

    def is_share_time(self):
        return False
