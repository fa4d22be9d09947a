"""The ``iotdb`` package of iotdb-rs: IoTDB's Python session API on a Rust core.

Module layout and signatures follow the official ``apache-iotdb`` client, so code written
for it runs unchanged; ``Session.embedded(path)`` opens an in-process engine instead of a
connection.
"""

__version__ = "0.1.0"
