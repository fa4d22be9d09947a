"""Statement compiler and identifier preparer of the IoTDB dialect.

IoTDB's ``SELECT`` differs from SQL in three ways the compiler handles:

* ``Time`` is not a selectable column: it comes with every row. Time columns are left out of
  the select list and their positions recorded (``iotdb_select_shape``); the DB-API cursor
  puts the row's time back at those positions, so results line up with the statement's
  columns for SQLAlchemy's positional result mapping.
* Columns are measurement names, never ``table.column``; tables render as their full path
  ``schema.table`` unquoted (``root.factory.room2.device1``).
* Select-list labels are dropped (rows are matched by position, and IoTDB aliases cannot
  hold the ``table_column`` names SQLAlchemy generates).

The compiler never mutates the statement or the mapped columns (the official dialect sets
``column.table = None``, which breaks SQLAlchemy >= 1.4).
"""

from __future__ import annotations

import re

from sqlalchemy import exc
from sqlalchemy.sql import compiler, elements

TIME_NAMES = ("time", "timestamp")
_LABEL = re.compile(r"\s+AS\s+(?:`(?:[^`]|``)+`|[A-Za-z_][\w$]*)\Z")
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def is_time_column(column) -> bool:
    """True for a table column named Time/Timestamp (also under a label)."""
    while isinstance(column, elements.Label):
        column = column.element
    return (
        isinstance(column, elements.ColumnClause)
        and not column.is_literal
        and column.table is not None
        and column.name.lower() in TIME_NAMES
    )


class IoTDBIdentifierPreparer(compiler.IdentifierPreparer):
    """Backquotes (IoTDB's quoting) only names that are not plain identifiers; IoTDB names
    are case-sensitive, so upper case needs no quotes."""

    def __init__(self, dialect, **kw):
        super().__init__(dialect, initial_quote="`", escape_quote="`", **kw)

    def _requires_quotes(self, value):
        return not _PLAIN.match(value) or value.lower() in self.reserved_words

    def format_table(self, table, use_schema=True, name=None):
        name = table.name if name is None else name
        schema = self.schema_for_object(table) if use_schema else None
        return f"{schema}.{name}" if schema else name


class IoTDBSQLCompiler(compiler.SQLCompiler):
    """Compiles SQLAlchemy ``SELECT``s into IoTDB's dialect of SQL."""

    #: ``(number of select-list columns, positions of the Time columns)`` of the top-level
    #: SELECT, or None for other statements; read by the dialect when executing.
    iotdb_select_shape = None

    def visit_select(self, select, **kw):
        toplevel = not self.stack
        if toplevel:
            self._iotdb_columns = 0
            self._iotdb_times = []
        text = super().visit_select(select, **kw)
        if toplevel:
            self.iotdb_select_shape = (self._iotdb_columns, tuple(self._iotdb_times))
            if self._iotdb_times and self._iotdb_columns == len(self._iotdb_times):
                # only Time selected: IoTDB needs a measurement to return rows
                text = re.sub(r"^SELECT\s+(DISTINCT\s+)?FROM", r"SELECT \1* FROM", text)
        return text

    def _label_select_column(self, select, column, *args, **kw):
        text = super()._label_select_column(select, column, *args, **kw)
        if text is None or len(self.stack) != 1:
            return text
        position = self._iotdb_columns
        self._iotdb_columns += 1
        if is_time_column(column):
            self._iotdb_times.append(position)
            return None
        return _LABEL.sub("", text)

    def visit_column(self, column, add_to_result_map=None, include_table=True, **kw):
        text = super().visit_column(column, add_to_result_map=add_to_result_map, include_table=False, **kw)
        if column.table is not None and not column.is_literal and column.name.lower() in TIME_NAMES:
            return "Time"
        return text

    def visit_table(self, table, asfrom=False, iscrud=False, ashint=False, fromhints=None, use_schema=True, **kw):
        if not (asfrom or ashint):
            return ""
        from_linter = kw.get("from_linter")
        if from_linter is not None:
            from_linter.froms[table] = table.fullname
        return self.preparer.format_table(table, use_schema=use_schema)

    def visit_join(self, join, **kw):
        raise exc.CompileError("IoTDB has no joins: query one device (table) per statement")

    def limit_clause(self, select, **kw):
        text = ""
        if select._limit_clause is not None:
            text += "\n LIMIT " + self.process(select._limit_clause, **kw)
        if select._offset_clause is not None:
            text += " OFFSET " + self.process(select._offset_clause, **kw)
        return text

    def get_from_hint_text(self, table, text):
        return ""


class IoTDBTypeCompiler(compiler.GenericTypeCompiler):
    """IoTDB type names for SQLAlchemy types (used by ``CAST`` and DDL)."""

    def visit_BOOLEAN(self, type_, **kw):
        return "BOOLEAN"

    def visit_INTEGER(self, type_, **kw):
        return "INT32"

    def visit_SMALLINT(self, type_, **kw):
        return "INT32"

    def visit_BIGINT(self, type_, **kw):
        return "INT64"

    def visit_FLOAT(self, type_, **kw):
        return "FLOAT"

    def visit_REAL(self, type_, **kw):
        return "FLOAT"

    def visit_DOUBLE(self, type_, **kw):
        return "DOUBLE"

    def visit_DOUBLE_PRECISION(self, type_, **kw):
        return "DOUBLE"

    def visit_NUMERIC(self, type_, **kw):
        return "DOUBLE"

    def visit_DECIMAL(self, type_, **kw):
        return "DOUBLE"

    def visit_TEXT(self, type_, **kw):
        return "TEXT"

    def visit_VARCHAR(self, type_, **kw):
        return "STRING"

    def visit_CHAR(self, type_, **kw):
        return "STRING"

    def visit_BLOB(self, type_, **kw):
        return "BLOB"

    def visit_DATE(self, type_, **kw):
        return "DATE"

    def visit_TIMESTAMP(self, type_, **kw):
        return "TIMESTAMP"

    def visit_DATETIME(self, type_, **kw):
        return "TIMESTAMP"
