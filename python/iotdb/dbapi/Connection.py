"""PEP 249 connection over a ``Session`` (remote or embedded)."""

from __future__ import annotations

from iotdb.dbapi.Cursor import Cursor, translate
from iotdb.dbapi.Exceptions import NotSupportedError
from iotdb.Session import Session


class Connection:
    def __init__(
        self,
        host=None,
        port=None,
        username=Session.DEFAULT_USER,
        password=Session.DEFAULT_PASSWORD,
        fetch_size=Session.DEFAULT_FETCH_SIZE,
        zone_id=Session.DEFAULT_ZONE_ID,
        enable_rpc_compression=False,
        sqlalchemy_mode=False,
        embedded=None,
    ):
        if embedded is not None:
            self.__session = Session.embedded(embedded, zone_id=zone_id, user=username)
        else:
            self.__session = Session(host, port, username, password, fetch_size, zone_id)
        with translate():
            self.__session.open(enable_rpc_compression)
        self.__sqlalchemy_mode = sqlalchemy_mode
        self.is_close = False

    def close(self):
        if not self.is_close:
            self.__session.close()
            self.is_close = True

    def cursor(self):
        return Cursor(self, self.__session, self.__sqlalchemy_mode)

    def commit(self):
        """Every statement is applied when it runs; nothing to commit."""

    def rollback(self):
        raise NotSupportedError("IoTDB has no transactions to roll back")

    @property
    def session(self):
        return self.__session

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
