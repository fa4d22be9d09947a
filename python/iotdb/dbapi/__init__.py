"""PEP 249 (DB-API 2.0) over ``iotdb.Session``: ``connect(host, port, ...)`` or ``connect(embedded=path)``."""

from __future__ import annotations

from iotdb.dbapi.Connection import Connection
from iotdb.dbapi.Exceptions import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,
)

apilevel = "2.0"
threadsafety = 2
paramstyle = "pyformat"


def connect(*args, **kwargs) -> Connection:
    return Connection(*args, **kwargs)


__all__ = [
    "Connection",
    "DataError",
    "DatabaseError",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "Warning",
    "apilevel",
    "connect",
    "paramstyle",
    "threadsafety",
]
