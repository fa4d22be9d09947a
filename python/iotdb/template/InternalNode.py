"""A group of measurements inside a schema template (the 1.0 client's ``InternalNode``)."""

from __future__ import annotations

from iotdb.template.TemplateNode import TemplateNode


class InternalNode(TemplateNode):
    def __init__(self, name, share_time):
        super().__init__(name)
        self.children = {}
        self.share_time = share_time

    def add_child(self, node: TemplateNode):
        if node.get_name() in self.children:
            raise ValueError(f"duplicated child {node.get_name()} of {self.name}")
        self.children[node.get_name()] = node

    def delete_child(self, node: TemplateNode):
        self.children.pop(node.get_name(), None)

    def get_children(self):
        return self.children

    def is_share_time(self):
        return self.share_time
