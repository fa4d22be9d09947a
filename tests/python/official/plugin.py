"""pytest plugin that runs the official apache-iotdb 1.0.1 test files against iotdb-rs.

Loaded by ``run_official_101.py``. It

* starts one iotdb-rs server for the whole run (``server.IoTDBServer``),
* replaces ``iotdb.IoTDBContainer.IoTDBContainer`` (a testcontainers Docker container) with
  :class:`StandInContainer`, which points the tests at that server and resets it to an empty
  state each time a test "starts a container" (every official test starts its own container,
  so each one sees a fresh database, as it would with Docker),
* deselects the module-level helper functions named ``test_fail`` (they are not tests: the
  official files call them to count failures, pytest merely collects them by name),
* counts passed / failed tests and prints the tally.
"""

from __future__ import annotations

import sys
import types

import pytest

from server import IoTDBServer

#: Number of real tests in the apache-iotdb 1.0.1 wheel (without the ``test_fail`` helpers).
EXPECTED_TESTS = 19

SERVER: IoTDBServer | None = None
RESULTS: dict[str, str] = {}
DESELECTED: list[str] = []


class StandInContainer:
    """Drop-in for ``iotdb.IoTDBContainer.IoTDBContainer`` that uses the iotdb-rs server."""

    def __init__(self, image: str = "apache/iotdb:latest", **kwargs):
        self.image = image
        self.port_to_expose = 6667

    def start(self) -> StandInContainer:
        """Like starting a fresh container: the server is reset to an empty state."""
        _server().reset()
        return self

    def stop(self, *args, **kwargs) -> None:
        """Like stopping the container; fails the test if the server died meanwhile."""
        _server().check_alive()

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.stop()

    def get_container_host_ip(self) -> str:
        """Host of the server."""
        return _server().host

    def get_exposed_port(self, port) -> str:
        """The server's port for the container port 6667 (a string, like testcontainers)."""
        if int(port) != 6667:
            raise ValueError(f"only port 6667 is exposed, asked for {port}")
        return str(_server().port)

    def with_exposed_ports(self, *ports) -> StandInContainer:
        """Accepted and ignored."""
        return self

    def with_env(self, key, value) -> StandInContainer:
        """Accepted and ignored."""
        return self


def _server() -> IoTDBServer:
    if SERVER is None:
        raise RuntimeError("iotdb-rs server not started")
    return SERVER


def _install_stand_in() -> None:
    try:
        import iotdb.IoTDBContainer as module
    except ImportError:  # testcontainers missing: provide the module ourselves
        module = types.ModuleType("iotdb.IoTDBContainer")
        sys.modules["iotdb.IoTDBContainer"] = module
        import iotdb

        iotdb.IoTDBContainer = module
    module.IoTDBContainer = StandInContainer


def pytest_configure(config):
    global SERVER
    _install_stand_in()
    SERVER = IoTDBServer()
    SERVER.start()


def pytest_unconfigure(config):
    global SERVER
    if SERVER is not None:
        SERVER.cleanup()
        SERVER = None


def pytest_collection_modifyitems(config, items):
    keep, drop = [], []
    for item in items:
        (drop if item.name == "test_fail" else keep).append(item)
    if drop:
        DESELECTED.extend(i.nodeid for i in drop)
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_collectreport(report):
    if report.failed:
        RESULTS[report.nodeid] = "error"


def pytest_runtest_logreport(report):
    if report.failed:
        RESULTS[report.nodeid] = "error" if report.when != "call" else "failed"
    elif report.skipped:
        RESULTS.setdefault(report.nodeid, "skipped")
    elif report.when == "call" and report.passed:
        RESULTS.setdefault(report.nodeid, "passed")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and SERVER is not None:
        rep.sections.append(("iotdb-rs server log", SERVER.log_tail(60)))


def tally() -> dict[str, int]:
    """Counts of outcomes so far."""
    out = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    for outcome in RESULTS.values():
        out[outcome] += 1
    return out


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    t = tally()
    total = sum(t.values())
    tr = terminalreporter
    tr.section("apache-iotdb 1.0.1 official suite against iotdb-rs")
    for nodeid, outcome in sorted(RESULTS.items()):
        tr.write_line(f"{outcome.upper():8} {nodeid}")
    tr.write_line(
        f"passed {t['passed']}/{total}, failed {t['failed']}, errors {t['error']}, "
        f"skipped {t['skipped']} (expected {EXPECTED_TESTS} tests; "
        f"{len(DESELECTED)} `test_fail` helpers deselected)"
    )
    if SERVER is not None and SERVER.reset_failures:
        tr.write_line(f"{len(SERVER.reset_failures)} SQL reset(s) failed and fell back to a restart:")
        for f in SERVER.reset_failures:
            tr.write_line("  " + f)
