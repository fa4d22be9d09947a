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

    def visit_insert(self, insert_stmt, **kw):
        text = super().visit_insert(insert_stmt, **kw)
        table = insert_stmt.table
        options = getattr(table, "dialect_options", None)
        if options is not None and options["iotdb"]["aligned"]:
            # rows of an aligned device (``Table(..., iotdb_aligned=True)``) go in as aligned
            text = text.replace(") VALUES ", ") ALIGNED VALUES ", 1)
        return text

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

    def visit_FLOAT(self, type_, **kw):  # Float(precision > 24) is a double
        precision = getattr(type_, "precision", None)
        return "DOUBLE" if precision is not None and precision > 24 else "FLOAT"


#: Separates the statements of one DDL construct that IoTDB runs one at a time (a table of
#: several non-aligned columns is one ``CREATE TIMESERIES`` per column); the dialect runs
#: the parts in order.
DDL_SEPARATOR = ";\n"
_PATH = re.compile(r"^root(\.[A-Za-z0-9_]+)+$")
_TIME_TYPES = ("INT64", "INT32", "TIMESTAMP")


def _option(kind, name, value):
    """An encoding or compressor name checked against IoTDB's (``None`` stays ``None``)."""
    if value is None:
        return None
    from iotdb.utils.IoTDBConstants import Compressor, TSEncoding

    names = [m.name for m in (TSEncoding if kind == "encoding" else Compressor)]
    text = getattr(value, "name", value)
    if not isinstance(text, str) or text.upper() not in names:
        raise exc.CompileError(f"column {name}: unknown IoTDB {kind} {value!r} (one of {', '.join(names)})")
    return text.upper()


class IoTDBDDLCompiler(compiler.DDLCompiler):
    """Tables as IoTDB devices, the mapping of the seed page (schema = database, table = device
    path below it, column = measurement):

    * ``CREATE TABLE`` creates one time series per column but ``Time``, typed by the type
      compiler (``Column(..., iotdb_encoding="GORILLA", iotdb_compressor="SNAPPY")`` pick the
      encoding and compressor); ``Table(..., iotdb_aligned=True)`` creates them as one aligned
      device in a single ``CREATE ALIGNED TIMESERIES``;
    * ``INSERT`` into an aligned table writes aligned rows (``ALIGNED VALUES``);
    * ``DROP TABLE`` deletes the device's time series (its measurements, not devices below it);
    * ``CREATE SCHEMA`` / ``DROP SCHEMA`` create and delete the database.

    What IoTDB has no place for is refused with a ``CompileError`` rather than dropped
    silently: a table without a schema or without measurements, a ``Time`` column that is not
    an integer or timestamp, server defaults, and constraints other than the primary key on
    ``Time``. ``NOT NULL`` is not enforced (IoTDB has no such constraint).
    """

    def _device(self, table):
        schema = self.preparer.schema_for_object(table)
        if not schema:
            raise exc.CompileError(
                f"table {table.name}: an IoTDB table needs a schema, its database (MetaData(schema='root.sg'))"
            )
        device = f"{schema}.{table.name}"
        if not _PATH.match(device):
            raise exc.CompileError(f"table {device}: not a plain IoTDB path (root.a.b: letters, digits, _)")
        return device

    def _measurements(self, table):
        out = []
        for column in table.columns:
            if column.server_default is not None:
                raise exc.CompileError(f"column {column.name}: IoTDB has no server-side defaults")
            if column.name.lower() in TIME_NAMES:
                kind = self.type_compiler.process(column.type)
                if kind not in _TIME_TYPES:
                    raise exc.CompileError(
                        f"column {column.name}: the time column must be an integer or timestamp, not {kind}"
                    )
                continue
            opts = column.dialect_options["iotdb"]
            out.append(
                (
                    self.preparer.format_column(column),
                    self.type_compiler.process(column.type),
                    _option("encoding", column.name, opts["encoding"]),
                    _option("compressor", column.name, opts["compressor"]),
                )
            )
        if not out:
            raise exc.CompileError(f"table {table.fullname}: IoTDB needs at least one column besides Time")
        for constraint in table.constraints:
            cols = [c.name.lower() for c in constraint.columns]
            if not (type(constraint).__name__ == "PrimaryKeyConstraint" and set(cols) <= set(TIME_NAMES)):
                raise exc.CompileError(
                    f"table {table.fullname}: IoTDB has no {type(constraint).__name__} (only Time as primary key)"
                )
        return out

    def visit_create_table(self, create, **kw):
        table = create.element
        device = self._device(table)
        columns = self._measurements(table)
        if table.dialect_options["iotdb"]["aligned"]:
            specs = ", ".join(
                name + f" {kind}" + (f" ENCODING={enc}" if enc else "") + (f" COMPRESSOR={comp}" if comp else "")
                for name, kind, enc, comp in columns
            )
            return f"CREATE ALIGNED TIMESERIES {device}({specs})"
        return DDL_SEPARATOR.join(
            f"CREATE TIMESERIES {device}.{name} WITH DATATYPE={kind}"
            + (f", ENCODING={enc}" if enc else "")
            + (f", COMPRESSOR={comp}" if comp else "")
            for name, kind, enc, comp in columns
        )

    def visit_drop_table(self, drop, **kw):
        return f"DELETE TIMESERIES {self._device(drop.element)}.*"

    def _database(self, name):
        if not isinstance(name, str) or not _PATH.match(name):
            raise exc.CompileError(f"schema {name!r}: an IoTDB database is a plain path such as root.sg")
        return name

    def visit_create_schema(self, create, **kw):
        return f"CREATE DATABASE {self._database(create.element)}"

    def visit_drop_schema(self, drop, **kw):
        return f"DELETE DATABASE {self._database(drop.element)}"

    def visit_create_index(self, create, **kw):
        raise exc.CompileError("IoTDB has no indexes")

    def visit_create_sequence(self, create, **kw):
        raise exc.CompileError("IoTDB has no sequences")
