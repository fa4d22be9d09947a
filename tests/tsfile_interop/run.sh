#!/usr/bin/env bash
# Runs the TsFile cross-implementation tests with every oracle required:
#   - PyPI `tsfile` (C++ core; V4), installed into a cached virtualenv;
#   - the Java TsFile library from Maven Central: 1.1.3 (V3, IoTDB 1.x) and 2.4.0 (V4).
# CI calls this script; `cargo test -p tsfile` alone skips the oracles it cannot find.
# Cache: $TSFILE_INTEROP_CACHE (default ~/.cache/iotdb-rs/tsfile-interop).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${TSFILE_INTEROP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iotdb-rs/tsfile-interop}
venv="$cache/venv"
pypi_version=${TSFILE_PYPI_VERSION:-2.5.0}
mkdir -p "$cache"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import tsfile" 2>/dev/null; then
  "$venv/bin/pip" install -q "tsfile==$pypi_version"
fi
export TSFILE_PYTHON="$venv/bin/python"
export TSFILE_INTEROP_REQUIRED=1
export TSFILE_INTEROP_CACHE="$cache"
cd "$root"
# `--workspace` resolves features as `cargo test --workspace` does, so these reuse its build
# instead of compiling a second copy of the crates (`-p` alone would, with other features).
cargo test --workspace --test interop_pypi --test interop_java -- --test-threads=1 --nocapture
# `iotdb-rs export-tsfile` output read by PyPI tsfile (every type, nulls, aligned).
cargo test --workspace --test tsfile_tools exported_tsfile_reads_in_pypi_tsfile -- --nocapture

# TsFiles flushed by a real IoTDB, committed as fixtures (regenerating them needs Java, see
# docs/reference-iotdb.md), LOADed into iotdb-rs and compared series by series with what that
# IoTDB itself reads from them: IoTDB 1.0.1 (V3 + .mods) and 2.0.1-beta (V4 + .mods2).
venvs=${IOTDB_RS_VENV_ROOT:-$root}
scripts/setup-python py20
if [ -z "${IOTDB_RS_BIN:-}" ]; then
  cargo build --release -p iotdb-rs
  export IOTDB_RS_BIN="${CARGO_TARGET_DIR:-$root/target}/release/iotdb-rs"
fi
"$venvs/.venv-py20/bin/python" tests/tsfile_interop/check_reference_tsfiles.py \
  tests/tsfile_interop/reference_iotdb/v1.0.1 tests/tsfile_interop/reference_iotdb/v2.0.1-beta
