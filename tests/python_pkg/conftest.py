"""Fixtures of the suite of our own ``iotdb`` package (python/): every test runs twice, against
a real ``iotdb-rs serve`` (remote mode) and on an in-process engine (embedded mode).

With ``IOTDB_RS_REFERENCE=host:port`` (scripts/test-python-reference) every test runs once, in
reference mode: remote against that real Apache IoTDB instead. That server may be shared, so
nothing is wiped there: after each test the databases and schema templates the test created
are removed, and nothing else.

The server harness is the one of the official-client suites (``tests/python/server.py``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

from server import IoTDBServer, query_column, run_sql

REFERENCE = os.environ.get("IOTDB_RS_REFERENCE", "")
MODES = ["reference"] if REFERENCE else ["remote", "embedded"]


@pytest.fixture(scope="session")
def iotdb_server():
    if REFERENCE:
        pytest.skip("an iotdb-rs server test (reference mode runs against Apache IoTDB)")
    srv = IoTDBServer()
    srv.start()
    yield srv
    srv.cleanup()


@pytest.fixture(params=MODES)
def mode(request):
    return request.param


def _reference_state(host, port):
    from iotdb.Session import Session

    s = Session(host, port, "root", "root")
    s.open(False)
    try:
        return set(query_column(s, "SHOW DATABASES")), set(query_column(s, "SHOW SCHEMA TEMPLATES"))
    finally:
        s.close()


def _reference_cleanup(host, port, before):
    """Removes the databases and templates created since ``before`` (see the module docstring)."""
    from iotdb.Session import Session

    dbs, templates = _reference_state(host, port)
    s = Session(host, port, "root", "root")
    s.open(False)
    try:
        for t in sorted(templates - before[1]):
            for p in query_column(s, f"SHOW PATHS USING SCHEMA TEMPLATE {t}"):
                run_sql(s, f"DEACTIVATE SCHEMA TEMPLATE {t} FROM {p}")
            for p in query_column(s, f"SHOW PATHS SET SCHEMA TEMPLATE {t}"):
                run_sql(s, f"UNSET SCHEMA TEMPLATE {t} FROM {p}")
            run_sql(s, f"DROP SCHEMA TEMPLATE {t}")
        created = sorted(dbs - before[0])
        if created:
            s.delete_storage_groups(created)
    finally:
        s.close()


@pytest.fixture
def remote_target(mode, request):
    """``(host, port)`` of the server of a remote mode, in the state a test starts from: our
    server reset to empty, or the reference as it is (cleaned up after the test)."""
    if mode == "remote":
        srv = request.getfixturevalue("iotdb_server")
        srv.reset()
        yield srv.host, srv.port
        return
    if mode != "reference":
        raise ValueError(f"{mode} is not a remote mode")
    host, port = REFERENCE.rsplit(":", 1)
    before = _reference_state(host, int(port))
    yield host, int(port)
    _reference_cleanup(host, int(port), before)


@pytest.fixture
def make_session(mode, request, tmp_path):
    """A factory of open sessions of the test's mode on one fresh database state."""
    from iotdb.Session import Session

    opened = []
    if mode != "embedded":
        host, port = request.getfixturevalue("remote_target")

        def make(**kw):
            s = Session(host, port, "root", "root", **kw)
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
