"""Shared pytest fixtures for our client-compatibility suites (tests/python/test_*.py).

One iotdb-rs server runs per pytest session (see ``server.py``); each test that asks for
``server`` or ``session`` gets it reset to an empty state first.
"""

from __future__ import annotations

import importlib.metadata

import pytest

from server import IoTDBServer


def client_version() -> str:
    """Version of the installed ``apache-iotdb`` client."""
    return importlib.metadata.version("apache-iotdb")


def require_client(prefix: str) -> None:
    """Skips the calling test module unless the installed client version starts with ``prefix``."""
    version = client_version()
    if not version.startswith(prefix):
        pytest.skip(
            f"needs apache-iotdb {prefix}.x, this venv has {version} (scripts/test-python picks the venv)",
            allow_module_level=True,
        )


@pytest.fixture(scope="session")
def iotdb_server():
    """The session-wide server process (not reset; use ``server`` in tests)."""
    srv = IoTDBServer()
    srv.start()
    yield srv
    failures = srv.reset_failures
    srv.cleanup()
    if failures:
        print(f"\niotdb-rs: {len(failures)} SQL reset(s) failed and fell back to a restart:")
        for f in failures:
            print("  " + f)


@pytest.fixture
def server(iotdb_server):
    """The server, reset to an empty state (no databases, no templates) before the test."""
    iotdb_server.reset()
    yield iotdb_server
    iotdb_server.check_alive()


@pytest.fixture
def session(server):
    """An open client ``Session`` (root/root, binary protocol) on a freshly reset server."""
    from iotdb.Session import Session

    s = Session(server.host, server.port, "root", "root")
    s.open(False)
    yield s
    s.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Attaches the tail of the server log to every failing test report."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        srv = None
        for name in ("server", "iotdb_server"):
            srv = item.funcargs.get(name) if hasattr(item, "funcargs") else None
            if srv is not None:
                break
        if isinstance(srv, IoTDBServer):
            rep.sections.append(("iotdb-rs server log", srv.log_tail(60)))
