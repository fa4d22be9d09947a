"""The ``iotdb`` and ``iotdb+embedded`` SQLAlchemy dialects (see ``iotdb.sqlalchemy``)."""

from __future__ import annotations

from typing import ClassVar

import sqlalchemy
from sqlalchemy import exc, schema, types
from sqlalchemy.engine import default

from iotdb import dbapi
from iotdb.sqlalchemy.IoTDBSQLCompiler import (
    DDL_SEPARATOR,
    IoTDBDDLCompiler,
    IoTDBIdentifierPreparer,
    IoTDBSQLCompiler,
    IoTDBTypeCompiler,
)

_SQLALCHEMY_2 = int(sqlalchemy.__version__.split(".")[0]) >= 2

#: SQLAlchemy type per IoTDB data type (``SHOW TIMESERIES`` dataType column).
TYPES = {
    "BOOLEAN": types.Boolean,
    "INT32": types.Integer,
    "INT64": types.BigInteger,
    "FLOAT": types.Float,
    "DOUBLE": types.Float,
    "TEXT": types.Text,
    "STRING": types.String,
    "BLOB": types.LargeBinary,
    "DATE": types.Date,
    "TIMESTAMP": types.BigInteger,
}

_INT_OPTIONS = ("fetch_size",)
_BOOL_OPTIONS = ("enable_rpc_compression",)


def _session_options(url) -> dict:
    """Session options from the URL's query string, converted to their types."""
    opts = {}
    for key, value in dict(url.query).items():
        if isinstance(value, (list, tuple)):
            value = value[-1]
        if key in _INT_OPTIONS:
            try:
                value = int(value)
            except ValueError:
                raise exc.ArgumentError(f"URL parameter {key}={value!r} is not an integer") from None
        elif key in _BOOL_OPTIONS:
            value = str(value).lower() in ("1", "true", "yes", "on")
        elif key not in ("zone_id",):
            raise exc.ArgumentError(
                f"unknown URL parameter {key!r} (expected fetch_size, zone_id or enable_rpc_compression)"
            )
        opts[key] = value
    return opts


class IoTDBDialect(default.DefaultDialect):
    """IoTDB over a server: ``iotdb://user:password@host:port``."""

    name = "iotdb"
    driver = "iotdb-rs"
    statement_compiler = IoTDBSQLCompiler
    ddl_compiler = IoTDBDDLCompiler
    type_compiler = IoTDBTypeCompiler
    preparer = IoTDBIdentifierPreparer
    default_paramstyle = "pyformat"

    #: ``Table(..., iotdb_aligned=True)``, ``Column(..., iotdb_encoding=..., iotdb_compressor=...)``
    #: (see ``IoTDBDDLCompiler``)
    construct_arguments: ClassVar[list] = [
        (schema.Table, {"aligned": False}),
        (schema.Column, {"encoding": None, "compressor": None}),
    ]

    supports_statement_cache = True
    supports_schemas = True
    supports_alter = False
    supports_native_boolean = True
    supports_native_decimal = False
    supports_sequences = False
    supports_default_values = False
    supports_empty_insert = False
    supports_multivalues_insert = False
    supports_sane_rowcount = False
    supports_sane_multi_rowcount = False
    supports_simple_order_by_label = False
    supports_right_nested_joins = False
    postfetch_lastrowid = False
    returns_unicode_strings = True
    supports_unicode_statements = True
    supports_unicode_binds = True
    description_encoding = None
    use_insertmanyvalues = False

    @classmethod
    def import_dbapi(cls):
        return dbapi

    if not _SQLALCHEMY_2:

        @classmethod
        def dbapi(cls):  # the name SQLAlchemy 1.x looks up
            return dbapi

    def create_connect_args(self, url):
        opts = url.translate_connect_args(username="username")
        opts.pop("database", None)
        opts.setdefault("port", 6667)
        opts.update(_session_options(url))
        opts["sqlalchemy_mode"] = True
        return [[], opts]

    # -- execution
    def do_execute(self, cursor, statement, parameters, context=None):
        if getattr(context, "isddl", False):
            self._execute_ddl(cursor, statement)
            return
        compiled = getattr(context, "compiled", None)
        shape = getattr(compiled, "iotdb_select_shape", None)
        cursor.execute(statement, parameters, select_shape=shape)

    def do_execute_no_params(self, cursor, statement, context=None):
        if getattr(context, "isddl", False):
            self._execute_ddl(cursor, statement)
            return
        cursor.execute(statement)

    @staticmethod
    def _execute_ddl(cursor, statement):
        """Runs the statements of one DDL construct in order (IoTDB takes one at a time); the
        first failure stops the rest and is raised."""
        for part in statement.split(DDL_SEPARATOR):
            cursor.execute(part)

    def do_rollback(self, dbapi_connection):
        """IoTDB has no transactions: every statement is applied when it runs."""

    def do_commit(self, dbapi_connection):
        """IoTDB has no transactions: every statement is applied when it runs."""

    def do_ping(self, dbapi_connection):
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SHOW VERSION")
        finally:
            cursor.close()
        return True

    @property
    def _dialect_specific_select_one(self):
        return "SHOW VERSION"

    def _check_unicode_returns(self, connection, additional_tests=None):
        return True

    def get_isolation_level(self, dbapi_connection):
        raise NotImplementedError("IoTDB has no isolation levels")

    # -- reflection: schema = database, table = device below it, column = measurement
    @staticmethod
    def _rows(connection, sql):
        run = getattr(connection, "exec_driver_sql", None) or connection.execute
        result = run(sql)
        return list(result.keys()), result.fetchall()

    def get_schema_names(self, connection, **kw):
        return [row[0] for row in self._rows(connection, "SHOW DATABASES")[1]]

    def has_schema(self, connection, schema_name, **kw):
        return schema_name in self.get_schema_names(connection)

    def get_table_names(self, connection, schema=None, **kw):
        schema = schema or self.default_schema_name or "root"
        prefix = schema + "."
        _, rows = self._rows(connection, f"SHOW DEVICES {schema}.**")
        return [row[0][len(prefix) :] for row in rows if row[0].startswith(prefix)]

    def get_view_names(self, connection, schema=None, **kw):
        return []

    def has_table(self, connection, table_name, schema=None, **kw):
        return table_name in self.get_table_names(connection, schema=schema)

    def get_columns(self, connection, table_name, schema=None, **kw):
        device = f"{schema}.{table_name}" if schema else table_name
        keys, rows = self._rows(connection, f"SHOW TIMESERIES {device}.*")
        kind = keys.index("DataType") if "DataType" in keys else 3
        prefix = device + "."
        columns = [{"name": "Time", "type": types.BigInteger(), "nullable": False, "default": None}]
        for row in rows:
            columns.append(
                {
                    "name": row[0][len(prefix) :] if row[0].startswith(prefix) else row[0],
                    "type": TYPES.get(str(row[kind]).upper(), types.NullType)(),
                    "nullable": True,
                    "default": None,
                }
            )
        if len(columns) == 1 and not self.has_table(connection, table_name, schema=schema):
            raise exc.NoSuchTableError(device)
        return columns

    def get_pk_constraint(self, connection, table_name, schema=None, **kw):
        return {"constrained_columns": ["Time"], "name": None}

    def get_foreign_keys(self, connection, table_name, schema=None, **kw):
        return []

    def get_indexes(self, connection, table_name, schema=None, **kw):
        return []


class IoTDBEmbeddedDialect(IoTDBDialect):
    """IoTDB in this process on a data directory: ``iotdb+embedded:///dir`` (relative) or
    ``iotdb+embedded:////abs/dir``."""

    driver = "embedded"
    supports_statement_cache = True

    def create_connect_args(self, url):
        if not url.database:
            raise exc.ArgumentError("iotdb+embedded URL needs a data directory: iotdb+embedded:///path/to/data")
        if url.host or url.port:
            raise exc.ArgumentError("iotdb+embedded URL takes no host or port: iotdb+embedded:///path/to/data")
        opts = {"embedded": url.database, "sqlalchemy_mode": True}
        if url.username:
            opts["username"] = url.username
        opts.update(_session_options(url))
        opts.pop("enable_rpc_compression", None)
        return [[], opts]
