#!/usr/bin/env python3
"""PyPI `tsfile` side of the TsFile bytes-per-point benchmark.

Called by `cargo bench -p tsfile --bench codecs` (through scripts/bench-tsfile) as

    tsfile_pypi_bytes.py <dir>

<dir>/signals.bin holds the data the Rust bench generated: a little-endian u64 point count N,
then N doubles of the "smooth" signal and N doubles of the "random" signal. Times are
1_700_000_000_000 + i * 1000 (ms), the same as the Rust side writes.

For each signal x float encoding x compressor this writes <dir>/py_<signal>_<ENC>_<COMP>.tsfile:
one non-aligned DOUBLE series root.bench.d1.v, written as one tablet through PyPI tsfile's tree
model. Combinations PyPI tsfile refuses are listed, not written. <dir>/pypi.json records the
package version, the page settings in force (so the Rust side can match them), the refused
combinations and the wall time of each write. Sizes are measured by the Rust side, with one
parser for both implementations' files.
"""

import json
import os
import struct
import sys
import time
from importlib.metadata import version

from tsfile import (
    Compressor,
    Tablet,
    TimeseriesSchema,
    TSDataType,
    TSEncoding,
    TsFileWriter,
    get_tsfile_config,
)

ENCODINGS = ["PLAIN", "GORILLA", "CHIMP", "RLE", "TS_2DIFF", "SPRINTZ", "RLBE"]
COMPRESSORS = ["UNCOMPRESSED", "SNAPPY", "LZ4", "ZSTD", "GZIP", "LZMA2"]
DEVICE = "root.bench.d1"
T0 = 1_700_000_000_000


def read_signals(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError("signals file too short")
    (n,) = struct.unpack_from("<Q", data, 0)
    if len(data) != 8 + 16 * n:
        raise ValueError(f"signals file holds {len(data)} bytes, expected {8 + 16 * n}")
    smooth = list(struct.unpack_from(f"<{n}d", data, 8))
    rand = list(struct.unpack_from(f"<{n}d", data, 8 + 8 * n))
    return {"smooth": smooth, "random": rand}


def write_one(path, values, times, enc, comp):
    if os.path.exists(path):
        os.remove(path)
    w = TsFileWriter(path)
    w.register_timeseries(DEVICE, TimeseriesSchema("v", TSDataType.DOUBLE, TSEncoding[enc], Compressor[comp]))
    tab = Tablet(["v"], [TSDataType.DOUBLE], len(values))
    tab.set_table_name(DEVICE)
    tab.set_timestamp_list(times)
    tab.data_list[0] = values
    w.write_tablet(tab)
    w.close()


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    out_dir = sys.argv[1]
    signals = read_signals(os.path.join(out_dir, "signals.bin"))
    n = len(signals["smooth"])
    times = [T0 + i * 1000 for i in range(n)]
    refused, seconds = [], {}
    for label, values in signals.items():
        for enc in ENCODINGS:
            for comp in COMPRESSORS:
                name = f"py_{label}_{enc}_{comp}.tsfile"
                path = os.path.join(out_dir, name)
                start = time.perf_counter()
                try:
                    write_one(path, values, times, enc, comp)
                except Exception as ex:  # PyPI tsfile refuses some combinations
                    refused.append({"file": name, "error": f"{type(ex).__name__}: {ex}"})
                    if os.path.exists(path):
                        os.remove(path)
                    continue
                seconds[name] = time.perf_counter() - start
    cfg = get_tsfile_config()
    meta = {
        "tsfile_version": version("tsfile"),
        "points": n,
        "page_writer_max_point_num": cfg["page_writer_max_point_num_"],
        "page_writer_max_memory_bytes": cfg["page_writer_max_memory_bytes_"],
        "time_encoding": str(cfg["time_encoding_type_"]),
        "refused": refused,
        "seconds": seconds,
    }
    with open(os.path.join(out_dir, "pypi.json"), "w") as f:
        json.dump(meta, f, indent=1)


if __name__ == "__main__":
    main()
