#!/usr/bin/env python3
"""Runs the test files shipped inside the apache-iotdb 1.0.1 wheel against iotdb-rs.

The official tests are not part of this repository: at run time this script copies them out of
the installed package (``tests/``, ``iotdb/dbapi/tests/``, ``iotdb/sqlalchemy/tests/`` in
site-packages) into a temporary directory and runs pytest there with ``official/plugin.py``,
which starts an iotdb-rs server and replaces the Docker-based ``IoTDBContainer``.

Usage (inside the 1.0.1 venv, see scripts/setup-python):
    python tests/python/run_official_101.py [extra pytest args, e.g. -k todf -x]
Exit status: 0 only if all 19 official tests passed.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE / "official")]

import plugin  # noqa: E402  (needs the sys.path entries above)

#: Where the official test files live inside the installed distribution -> our copy's subdir
#: (not named like an importable package: pytest's importlib mode would shadow e.g. sqlalchemy).
SOURCES = {
    "tests/": "official_session",
    "iotdb/dbapi/tests/": "official_dbapi",
    "iotdb/sqlalchemy/tests/": "official_sqlalchemy",
}


def copy_official_tests(dest: Path) -> list[Path]:
    """Copies the official ``test_*.py`` files of the installed wheel into ``dest``."""
    dist = importlib.metadata.distribution("apache-iotdb")
    copied = []
    for f in dist.files or []:
        name = str(f).replace("\\", "/")
        for prefix, subdir in SOURCES.items():
            rest = name[len(prefix) :] if name.startswith(prefix) else None
            if rest and "/" not in rest and rest.startswith("test_") and rest.endswith(".py"):
                target = dest / subdir / rest
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(dist.locate_file(f), target)
                copied.append(target)
    return copied


def main(argv: list[str]) -> int:
    version = importlib.metadata.version("apache-iotdb")
    if version != "1.0.1":
        print(f"run_official_101: needs apache-iotdb 1.0.1, found {version}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="iotdb-official-101-") as tmp:
        root = Path(tmp)
        files = copy_official_tests(root)
        if not files:
            print("run_official_101: no test files found in the installed wheel", file=sys.stderr)
            return 2
        (root / "pytest.ini").write_text("[pytest]\n")
        print(f"run_official_101: {len(files)} official test files copied to {root}")
        args = [
            "-c",
            str(root / "pytest.ini"),
            "--rootdir",
            str(root),
            "--import-mode=importlib",
            "-p",
            "no:cacheprovider",
            "-q",
            *argv,
            str(root),
        ]
        code = pytest.main(args, plugins=[plugin])
    t = plugin.tally()
    total = sum(t.values())
    print(
        f"official apache-iotdb 1.0.1 suite: {t['passed']}/{total} passed, "
        f"{t['failed']} failed, {t['error']} errors, {t['skipped']} skipped"
    )
    narrowed = any(a in ("-k", "-m") or a.startswith(("-k", "-m", "--deselect")) for a in argv)
    if not narrowed and total != plugin.EXPECTED_TESTS:
        print(f"run_official_101: expected {plugin.EXPECTED_TESTS} tests, ran {total}", file=sys.stderr)
        return 1
    if code != 0 or t["passed"] != total:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
