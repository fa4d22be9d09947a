"""Start, stop, crash and reset an iotdb-rs server for the Python client tests.

This is the one place that knows how to run the binary; every test suite (ours and the
official 1.0.1 suite runner) goes through :class:`IoTDBServer`.

The binary comes from ``IOTDB_RS_BIN``; by default ``$CARGO_TARGET_DIR/release/iotdb-rs`` or
``<repo>/target/release/iotdb-rs``. Build it with ``cargo build --release -p iotdb-rs``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def default_binary() -> Path:
    """Path of the iotdb-rs binary the tests run (see the module docstring)."""
    env = os.environ.get("IOTDB_RS_BIN")
    if env:
        return Path(env)
    target = os.environ.get("CARGO_TARGET_DIR")
    base = Path(target) if target else REPO_ROOT / "target"
    return base / "release" / "iotdb-rs"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class ServerError(RuntimeError):
    """The server could not be started, died, or could not be reset."""


class IoTDBServer:
    """One iotdb-rs process on a free port with its own data directory.

    ``data_dir`` defaults to a fresh temporary directory that is removed by :meth:`cleanup`.
    ``extra_args`` are appended to ``iotdb-rs serve`` (e.g. ``["--wal-mode", "SYNC"]``).
    """

    def __init__(
        self,
        binary: Path | None = None,
        data_dir: Path | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        extra_args: list[str] | None = None,
        log_dir: Path | None = None,
    ):
        self.binary = Path(binary) if binary else default_binary()
        self._own_tmp = None
        if data_dir is None or log_dir is None:
            self._own_tmp = Path(tempfile.mkdtemp(prefix="iotdb-rs-test-"))
        self.data_dir = Path(data_dir) if data_dir else self._own_tmp / "data"
        self.log_dir = Path(log_dir) if log_dir else self._own_tmp
        self.host = host
        self.port = port or free_port(host)
        self.extra_args = list(extra_args or [])
        self.proc: subprocess.Popen | None = None
        self.log_path = self.log_dir / f"server-{self.port}.log"
        self._log_lock = threading.Lock()
        self._listening = threading.Event()
        self._reader: threading.Thread | None = None
        self.starts = 0
        self.resets_by_restart = 0
        self.reset_failures: list[str] = []

    # ----------------------------------------------------------------- process control

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` clients connect to."""
        return self.host, self.port

    def command(self) -> list[str]:
        """The command line used to start the server."""
        return [
            str(self.binary),
            "serve",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            *self.extra_args,
        ]

    def start(self, timeout: float = 60.0) -> IoTDBServer:
        """Starts the process and waits until it logs "listening on" and accepts TCP."""
        if not self.binary.exists():
            raise ServerError(
                f"iotdb-rs binary not found at {self.binary}; build it with "
                "`cargo build --release -p iotdb-rs` or set IOTDB_RS_BIN"
            )
        if self.alive():
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._listening.clear()
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(f"=== start #{self.starts + 1}: {' '.join(self.command())}\n")
        env = dict(os.environ)
        # the "listening on" line is logged at info level by the iotdb_rs binary crate
        user_filter = env.get("RUST_LOG", "")
        env["RUST_LOG"] = f"{user_filter},iotdb_rs=info" if user_filter else "info"
        env.setdefault("NO_COLOR", "1")
        self.proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.starts += 1
        self._reader = threading.Thread(target=self._drain, args=(self.proc,), daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._reader.join(timeout=2)
                raise ServerError(
                    f"iotdb-rs exited with code {self.proc.returncode} during start-up\n" + self.log_tail()
                )
            if self._listening.is_set() and self._accepts():
                return self
            time.sleep(0.02)
        self.kill()
        raise ServerError(f"iotdb-rs did not start listening within {timeout}s\n" + self.log_tail())

    def _drain(self, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        with open(self.log_path, "a", encoding="utf-8", errors="replace") as log:
            for raw in proc.stdout:
                line = _ANSI.sub("", raw.decode("utf-8", errors="replace"))
                with self._log_lock:
                    log.write(line)
                    log.flush()
                if "listening on" in line:
                    self._listening.set()

    def _accepts(self) -> bool:
        try:
            with socket.create_connection(self.address, timeout=0.5):
                return True
        except OSError:
            return False

    def alive(self) -> bool:
        """True while the process runs."""
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20.0) -> int | None:
        """Graceful stop (SIGTERM); returns the exit code. Kills it if it does not stop in time."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._note(f"did not stop within {timeout:.0f}s after SIGTERM; killed")
        code = self.proc.returncode
        self._join_reader()
        return code

    def kill(self) -> None:
        """Crash the server: SIGKILL, no chance to flush anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._join_reader()

    def restart(self, fresh_data: bool = False, timeout: float = 60.0) -> IoTDBServer:
        """Stops (gracefully) and starts again, optionally on an empty data directory."""
        self.stop()
        if fresh_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        return self.start(timeout=timeout)

    def _join_reader(self) -> None:
        if self._reader is not None:
            self._reader.join(timeout=5)
            self._reader = None

    def cleanup(self) -> None:
        """Stops the server and removes the temporary directory this object created."""
        self.stop()
        if self._own_tmp is not None and not os.environ.get("IOTDB_RS_KEEP_TEST_DATA"):
            shutil.rmtree(self._own_tmp, ignore_errors=True)

    def _note(self, text: str) -> None:
        with self._log_lock, open(self.log_path, "a", encoding="utf-8") as log:
            log.write(f"=== harness: {text}\n")

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server log, for error messages."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return f"(no server log at {self.log_path})"
        tail = text.splitlines()[-lines:]
        return f"--- last {len(tail)} lines of {self.log_path} ---\n" + "\n".join(tail)

    def check_alive(self) -> None:
        """Raises :class:`ServerError` with the log tail if the server has died."""
        if self.proc is not None and self.proc.poll() is not None:
            raise ServerError(f"iotdb-rs died (exit code {self.proc.returncode})\n" + self.log_tail())

    # ----------------------------------------------------------------- state reset

    def reset(self, mode: str | None = None) -> None:
        """Brings the server back to an empty state between tests.

        ``mode`` (default from ``IOTDB_RS_RESET``, else ``sql``):
        ``sql`` deactivates/unsets/drops every schema template and runs
        ``DELETE DATABASE root.**``, then checks that nothing is left; if that fails, the failure is
        recorded in :attr:`reset_failures` (and the log) and the server is restarted on an empty data
        directory instead. ``restart`` always restarts on an empty data directory.
        """
        mode = mode or os.environ.get("IOTDB_RS_RESET", "sql")
        self.check_alive()
        if mode == "restart":
            self.restart(fresh_data=True)
            self.resets_by_restart += 1
            return
        if mode != "sql":
            raise ValueError(f"unknown reset mode {mode!r} (expected 'sql' or 'restart')")
        try:
            sql_wipe(self.host, self.port)
        except Exception as e:
            msg = f"SQL reset failed: {type(e).__name__}: {e}"
            self.reset_failures.append(msg)
            self._note(msg + "; restarting on an empty data directory")
            self.restart(fresh_data=True)
            self.resets_by_restart += 1


# --------------------------------------------------------------------- client-agnostic SQL
# These helpers work with the 1.0.1, 1.3.x and 2.0.x clients: 1.0.1 reports failures by
# return value (-1) or by crashing on a missing result, newer ones raise.


def _session(host: str, port: int):
    from iotdb.Session import Session

    s = Session(host, port, "root", "root")
    s.open(False)
    if not s.is_open():
        raise ServerError("could not open a session for the reset")
    return s


def query_column(session, sql: str, index: int = 0) -> list:
    """Runs a query and returns column ``index`` (0 = first value column) of every row."""
    ds = session.execute_query_statement(sql)
    out = []
    try:
        while ds.has_next():
            out.append(ds.next().get_fields()[index].get_string_value())
    finally:
        ds.close_operation_handle()
    return out


def run_sql(session, sql: str) -> None:
    """Runs a non-query statement and raises if the server reports an error."""
    r = session.execute_non_query_statement(sql)
    if isinstance(r, int) and r < 0:
        raise ServerError(f"statement failed: {sql}")


def sql_wipe(host: str, port: int) -> None:
    """Removes every template and database through SQL and checks that nothing is left."""
    s = _session(host, port)
    try:
        for t in query_column(s, "SHOW SCHEMA TEMPLATES"):
            for p in query_column(s, f"SHOW PATHS USING SCHEMA TEMPLATE {t}"):
                run_sql(s, f"DEACTIVATE SCHEMA TEMPLATE {t} FROM {p}")
            for p in query_column(s, f"SHOW PATHS SET SCHEMA TEMPLATE {t}"):
                run_sql(s, f"UNSET SCHEMA TEMPLATE {t} FROM {p}")
            run_sql(s, f"DROP SCHEMA TEMPLATE {t}")
        if query_column(s, "SHOW DATABASES"):
            run_sql(s, "DELETE DATABASE root.**")
        left = {
            "databases": query_column(s, "SHOW DATABASES"),
            "templates": query_column(s, "SHOW SCHEMA TEMPLATES"),
            "timeseries": query_column(s, "SHOW TIMESERIES root.**"),
        }
        if any(left.values()):
            raise ServerError(f"state left after reset: {left}")
    finally:
        s.close()
