"""``IoTDBContainer`` without Docker: starts a real ``iotdb-rs serve`` process for tests.

``with IoTDBContainer("iotdb:dev") as db:`` runs the server on a free loopback port with a
temporary data directory; ``get_container_host_ip()`` and ``get_exposed_port(6667)`` point at
it, as with the official testcontainers-based class. The image name is accepted and ignored.
The server binary is ``binary=`` if given, else ``$IOTDB_RS_BIN``, else ``iotdb-rs`` on PATH.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class IoTDBContainer:
    def __init__(
        self, image: str = "apache/iotdb:latest", binary: str | None = None, startup_timeout: float = 60.0, **kwargs
    ):
        self.image = image
        self.binary = binary or os.environ.get("IOTDB_RS_BIN") or shutil.which("iotdb-rs")
        self.startup_timeout = startup_timeout
        self.host = "127.0.0.1"
        self.port = None
        self._proc = None
        self._data = None

    def start(self):
        if not self.binary or not os.path.exists(self.binary):
            raise RuntimeError(
                "iotdb-rs server binary not found: pass binary=, set IOTDB_RS_BIN or put iotdb-rs on PATH"
            )
        self._data = tempfile.mkdtemp(prefix="iotdb-container-")
        for _ in range(3):
            self.port = _free_port()
            cmd = [self.binary, "serve", "--host", self.host, "--port", str(self.port), "--data-dir", self._data]
            self._proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._wait():
                return self
            self._stop_process()
        self.stop()
        raise RuntimeError(f"iotdb-rs did not start ({self.binary})")

    def _wait(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def _stop_process(self):
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def stop(self, force=True, delete_volume=True):
        self._stop_process()
        if self._data is not None:
            shutil.rmtree(self._data, ignore_errors=True)
            self._data = None

    def get_container_host_ip(self) -> str:
        return self.host

    def get_exposed_port(self, port) -> str:
        return str(self.port)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
