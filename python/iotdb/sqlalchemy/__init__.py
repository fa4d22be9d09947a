"""SQLAlchemy dialect of IoTDB's tree model (SQLAlchemy 1.3, 1.4 and 2.x).

URLs: ``iotdb://user:password@host:port`` (a server) and ``iotdb+embedded:///relative/dir`` or
``iotdb+embedded:////absolute/dir`` (an in-process engine on a data directory, as
``Session.embedded``). Query parameters ``fetch_size``, ``zone_id`` and
``enable_rpc_compression`` go to the session.

Mapping: schema = database (``root.factory``), table = the rest of a device path
(``room2.device1``), column = measurement, plus a ``Time`` column (the primary key).
Both dialects are registered as ``sqlalchemy.dialects`` entry points (``iotdb`` and
``iotdb.embedded``).

The dialect classes live in ``iotdb.sqlalchemy.IoTDBDialect`` (the official module path, which
``registry.register("iotdb", "iotdb.sqlalchemy.IoTDBDialect", "IoTDBDialect")`` names).
"""
