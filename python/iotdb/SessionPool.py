"""A bounded pool of open ``Session``s (the official ``SessionPool`` API)."""

from __future__ import annotations

import os
import queue
import threading

from iotdb.Session import Session
from iotdb.utils.exception import IoTDBConnectionException

DEFAULT_MULTIPLE = 5
DEFAULT_FETCH_SIZE = 5000
DEFAULT_MAX_RETRY = 3
DEFAULT_TIME_ZONE = Session.DEFAULT_ZONE_ID


class PoolConfig:
    def __init__(
        self,
        host: str | None = None,
        port: str | None = None,
        user_name: str | None = None,
        password: str | None = None,
        node_urls: list | None = None,
        fetch_size: int = DEFAULT_FETCH_SIZE,
        time_zone: str = DEFAULT_TIME_ZONE,
        max_retry: int = DEFAULT_MAX_RETRY,
        enable_compression: bool = False,
        enable_redirection: bool = True,
        use_ssl: bool = False,
        ca_certs: str | None = None,
        connection_timeout_in_ms: int | None = None,
        client_cert: str | None = None,
        client_key: str | None = None,
    ):
        if node_urls is None:
            if host is None or port is None:
                raise ValueError("(host,port) and node_urls cannot be None at the same time.")
            node_urls = [f"{host}:{port}"]
        self.host = host
        self.port = port
        self.user_name = user_name or Session.DEFAULT_USER
        self.password = password or Session.DEFAULT_PASSWORD
        self.node_urls = list(node_urls)
        self.fetch_size = fetch_size
        self.time_zone = time_zone
        self.max_retry = max_retry
        self.enable_compression = enable_compression
        self.connection_timeout_in_ms = connection_timeout_in_ms


class SessionPool:
    def __init__(self, pool_config: PoolConfig, max_pool_size: int, wait_timeout_in_ms: int):
        self.__config = pool_config
        self.__max = max_pool_size
        self.__timeout = max(wait_timeout_in_ms, 0) / 1000.0
        self.__idle = queue.LifoQueue()
        self.__created = 0
        self.__lock = threading.Lock()
        self.__closed = False

    def __construct_session(self) -> Session:
        c = self.__config
        s = Session.init_from_node_urls(
            c.node_urls,
            c.user_name,
            c.password,
            c.fetch_size,
            c.time_zone,
            connection_timeout_in_ms=c.connection_timeout_in_ms,
        )
        s.open(c.enable_compression)
        return s

    def get_session(self) -> Session:
        if self.__closed:
            raise IoTDBConnectionException("SessionPool has already been closed.")
        try:
            return self.__idle.get_nowait()
        except queue.Empty:
            pass
        with self.__lock:
            create = self.__created < self.__max
            if create:
                self.__created += 1
        if create:
            try:
                return self.__construct_session()
            except Exception:
                with self.__lock:
                    self.__created -= 1
                raise
        try:
            return self.__idle.get(timeout=self.__timeout)
        except queue.Empty:
            raise TimeoutError(f"no session became free within {self.__timeout:.3f} s") from None

    def put_back(self, session: Session):
        if self.__closed or not session.is_open():
            session.close()
            with self.__lock:
                self.__created -= 1
            return
        self.__idle.put(session)

    def close(self):
        self.__closed = True
        while True:
            try:
                self.__idle.get_nowait().close()
            except queue.Empty:
                break


def create_session_pool(pool_config: PoolConfig, max_pool_size: int, wait_timeout_in_ms: int) -> SessionPool:
    if max_pool_size <= 0:
        max_pool_size = (os.cpu_count() or 1) * DEFAULT_MULTIPLE
    return SessionPool(pool_config, max_pool_size, wait_timeout_in_ms)
