"""PEP 249 cursor: ``pyformat`` parameters quoted safely, server errors raised."""

from __future__ import annotations

import contextlib
import datetime
import math
import re

from iotdb.dbapi.Exceptions import DatabaseError, InterfaceError, OperationalError, ProgrammingError
from iotdb.utils.exception import IoTDBConnectionException, StatementExecutionException

# a string made only of these characters is a datetime literal and goes in unquoted (as the
# seed's `time < %(time)s` example needs); it cannot end a literal or start a new clause
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?([+-]\d{2}:?\d{2}|Z)?$")


@contextlib.contextmanager
def translate():
    """Turns session exceptions into PEP 249 ones (keeping the status code)."""
    try:
        yield
    except StatementExecutionException as e:
        cls = ProgrammingError if getattr(e, "code", None) in (700, 701) else DatabaseError
        raise cls(str(e), code=getattr(e, "code", None)) from e
    except IoTDBConnectionException as e:
        raise OperationalError(str(e)) from e


def quote(value) -> str:
    """A parameter as an IoTDB SQL literal; strings can never end their literal."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ProgrammingError(f"cannot use {value!r} as a parameter")
        return repr(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return "X'" + bytes(value).hex() + "'"
    text = str(value)
    if _DATETIME.match(text):
        return text
    if "\\" in text:
        # IoTDB keeps backslashes verbatim and a backslash-quote does not end a literal, so a
        # backslash cannot be passed both faithfully and safely
        raise ProgrammingError("string parameters must not contain a backslash")
    return "'" + text.replace("'", "''") + "'"


def bind(operation: str, parameters) -> str:
    if parameters is None:
        return operation
    if isinstance(parameters, dict):
        return operation % {k: quote(v) for k, v in parameters.items()}
    if isinstance(parameters, (list, tuple)):
        return operation % tuple(quote(v) for v in parameters)
    raise ProgrammingError(f"parameters must be a dict or a sequence, got {type(parameters).__name__}")


class Cursor:
    def __init__(self, connection, session, sqlalchemy_mode=False):
        self.__connection = connection
        self.__session = session
        self.__sqlalchemy_mode = sqlalchemy_mode
        self.arraysize = 1
        self.__closed = False
        self.__rows = []
        self.__pos = 0
        self.__description = None
        self.__rowcount = -1

    @property
    def description(self):
        return self.__description

    @property
    def rowcount(self):
        return self.__rowcount

    @property
    def connection(self):
        return self.__connection

    def _check(self):
        if self.__closed or self.__connection.is_close:
            raise InterfaceError("the cursor or its connection is closed")

    def execute(self, operation, parameters=None, *, select_shape=None):
        """Runs ``operation`` with ``parameters`` bound.

        ``select_shape`` (set by the SQLAlchemy dialect) is ``(columns, time positions)`` of
        a compiled SELECT whose Time columns were left out of the select list: rows then
        have exactly ``columns`` values, the row time at the Time positions.
        """
        self._check()
        sql = bind(operation, parameters)
        self.__rows, self.__pos, self.__description, self.__rowcount = [], 0, None, -1
        with translate():
            ds = self.__session.execute_statement(sql)
        if ds is None:
            self.__rowcount = 0
            return self
        try:
            with translate():
                names = ds.get_column_names()
                types = ds.get_column_types()
                rows = []
                while ds.has_next():
                    rec = ds.next()
                    vals = [f.value for f in rec.get_fields()]
                    rows.append(tuple(vals) if ds.get_ignore_timestamp() else (rec.get_timestamp(), *vals))
        finally:
            ds.close_operation_handle()
        with_time = not ds.get_ignore_timestamp()
        description = [
            (name, t.value, None, None, None, None, with_time and k == 0)
            for k, (name, t) in enumerate(zip(names, types))
        ]
        if select_shape is not None:
            description, rows = _project(description, rows, with_time, *select_shape)
        self.__description = tuple(description)
        self.__rows = rows
        self.__rowcount = len(rows)
        return self

    def executemany(self, operation, seq_of_parameters=None):
        self._check()
        total = 0
        for params in seq_of_parameters or []:
            self.execute(operation, params)
            total += max(self.__rowcount, 0)
        self.__rowcount = total
        return self

    def fetchone(self):
        self._check()
        if self.__pos >= len(self.__rows):
            return None
        self.__pos += 1
        return self.__rows[self.__pos - 1]

    def fetchmany(self, size=None):
        self._check()
        size = self.arraysize if size is None else size
        out = self.__rows[self.__pos : self.__pos + size]
        self.__pos += len(out)
        return out

    def fetchall(self):
        self._check()
        out = self.__rows[self.__pos :]
        self.__pos = len(self.__rows)
        return out

    def __iter__(self):
        while True:
            row = self.fetchone()
            if row is None:
                return
            yield row

    def setinputsizes(self, sizes):
        pass

    def setoutputsize(self, size, column=None):
        pass

    def close(self):
        self.__closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _project(description, rows, with_time, columns, time_positions):
    """Rows (and description) of a compiled SELECT: the row time at ``time_positions``, the
    result's value columns, in order, at the other positions."""
    values = description[1:] if with_time else description
    time_positions = set(time_positions)
    if len(values) + len(time_positions) != columns and columns > len(time_positions):
        raise InterfaceError(
            f"the statement selects {columns} columns but the result has {len(values)} value columns"
            + (" and a time column" if with_time else "")
        )
    if time_positions and not with_time:
        raise InterfaceError("the statement selects Time but the result has no time column")
    time_desc = ("Time", description[0][1] if with_time else None, None, None, None, None, True)
    out_desc, order = [], []
    k = 0
    for pos in range(columns):
        if pos in time_positions:
            out_desc.append(time_desc)
            order.append(0)
        else:
            out_desc.append(values[k])
            order.append(k + 1 if with_time else k)
            k += 1
    return out_desc, [tuple(row[i] for i in order) for row in rows]


__all__ = ["Cursor", "DatabaseError", "bind", "quote", "translate"]
