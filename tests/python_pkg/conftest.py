"""Fixtures of the suite of our own ``iotdb`` package (python/): every test runs twice, against
a real ``iotdb-rs serve`` (remote mode) and on an in-process engine (embedded mode).

The server harness is the one of the official-client suites (``tests/python/server.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

from server import IoTDBServer


@pytest.fixture(scope="session")
def iotdb_server():
    srv = IoTDBServer()
    srv.start()
    yield srv
    srv.cleanup()


@pytest.fixture(params=["remote", "embedded"])
def mode(request):
    return request.param


@pytest.fixture
def make_session(mode, request, tmp_path):
    """A factory of open sessions of the test's mode on one fresh database state."""
    from iotdb.Session import Session

    opened = []
    if mode == "remote":
        srv = request.getfixturevalue("iotdb_server")
        srv.reset()

        def make(**kw):
            s = Session(srv.host, srv.port, "root", "root", **kw)
            s.open(kw.pop("compact", False))
            opened.append(s)
            return s
    else:
        data = tmp_path / "data"

        def make(**kw):
            kw.pop("fetch_size", None)
            s = Session.embedded(data, **kw)
            s.open()
            opened.append(s)
            return s

    yield make
    for s in opened:
        s.close()


@pytest.fixture
def session(make_session):
    return make_session()
