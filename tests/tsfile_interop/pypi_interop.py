#!/usr/bin/env python3
"""Cross-implementation checks between iotdb-rs's `tsfile` crate and the official PyPI
`tsfile` package (the C++ TsFile implementation, format V4).

Two commands, driven by the Rust test `crates/tsfile/tests/interop_pypi.rs`:

  pypi_interop.py write <dir>
      Writes one TsFile per (data type, encoding, compressor) that PyPI tsfile accepts
      (tree model, non-aligned, several pages) plus one table-model file (aligned chunks,
      every type), SPRINTZ FLOAT/DOUBLE/INT64 files of smooth signals (entries marked "exact"),
      and <dir>/manifest.json describing every value written and, for tree
      files, what PyPI tsfile itself reads back.

  pypi_interop.py read <file>...
      Reads every tree-model device of each file with PyPI tsfile and prints JSON:
      {"files": {file: {"devices": {device: {"names": [...], "types": [...],
                                             "rows": [[time, v...], ...]}}}
                       or {"error": message}}}

Values are exchanged as strings so that comparisons are exact: booleans "true"/"false",
integers (and DATE as yyyymmdd) in decimal, FLOAT/DOUBLE as the decimal of the IEEE-754
bits of the value widened to a double ("nan" for NaN), TEXT/STRING/BLOB as hex bytes.
"""

import datetime
import json
import math
import os
import struct
import sys

from tsfile import (
    ColumnCategory,
    ColumnSchema,
    Compressor,
    TableSchema,
    Tablet,
    TimeseriesSchema,
    TSDataType,
    TSEncoding,
    TsFileReader,
    TsFileTableWriter,
    TsFileWriter,
)

TYPES = [
    TSDataType.BOOLEAN,
    TSDataType.INT32,
    TSDataType.INT64,
    TSDataType.FLOAT,
    TSDataType.DOUBLE,
    TSDataType.TEXT,
    TSDataType.STRING,
    TSDataType.BLOB,
    TSDataType.DATE,
    TSDataType.TIMESTAMP,
]

ENCODINGS = [
    TSEncoding.PLAIN,
    TSEncoding.DICTIONARY,
    TSEncoding.RLE,
    TSEncoding.TS_2DIFF,
    TSEncoding.GORILLA,
    TSEncoding.ZIGZAG,
    TSEncoding.CHIMP,
    TSEncoding.SPRINTZ,
    TSEncoding.RLBE,
]

COMPRESSORS = [
    Compressor.UNCOMPRESSED,
    Compressor.SNAPPY,
    Compressor.GZIP,
    Compressor.LZ4,
    Compressor.ZSTD,
    Compressor.LZMA2,
]

# Which (type, encoding) pairs IoTDB allows (model::TSEncoding::supports); others are skipped.
NUMERIC = {TSDataType.INT32, TSDataType.INT64, TSDataType.DATE, TSDataType.TIMESTAMP}
FLOATS = {TSDataType.FLOAT, TSDataType.DOUBLE}
TEXTS = {TSDataType.TEXT, TSDataType.STRING, TSDataType.BLOB}


def allowed(t, e):
    if t == TSDataType.BOOLEAN:
        return e in (TSEncoding.PLAIN, TSEncoding.RLE)
    if t in NUMERIC:
        return e in (
            TSEncoding.PLAIN,
            TSEncoding.RLE,
            TSEncoding.TS_2DIFF,
            TSEncoding.GORILLA,
            TSEncoding.ZIGZAG,
            TSEncoding.CHIMP,
            TSEncoding.SPRINTZ,
            TSEncoding.RLBE,
        )
    if t in FLOATS:
        return e in (
            TSEncoding.PLAIN,
            TSEncoding.RLE,
            TSEncoding.TS_2DIFF,
            TSEncoding.GORILLA,
            TSEncoding.CHIMP,
            TSEncoding.SPRINTZ,
            TSEncoding.RLBE,
        )
    return e in (TSEncoding.PLAIN, TSEncoding.DICTIONARY)


def value(t, i):
    """Deterministic value i of type t (floats are multiples of 1/4, exact at precision 2)."""
    k = (i * 7919) % 1000
    if t == TSDataType.BOOLEAN:
        return k % 3 == 0
    if t == TSDataType.INT32:
        return (i // 3) * 5 - 20000 + k % 7
    if t == TSDataType.INT64:
        return 1_700_000_000_000 + i * 1000 + k
    if t == TSDataType.FLOAT:
        return (k - 500) * 0.25
    if t == TSDataType.DOUBLE:
        return round(math.sin(i / 10.0) * 400) / 4.0
    if t == TSDataType.TEXT:
        return f"t{k % 37}"
    if t == TSDataType.STRING:
        return f"s-{k % 11}"
    if t == TSDataType.BLOB:
        return bytes([k % 256, (k * 3) % 256, 0, 255])
    if t == TSDataType.DATE:
        return datetime.date(2000 + i % 30, 1 + i % 12, 1 + i % 28)
    if t == TSDataType.TIMESTAMP:
        return 1_600_000_000_000 + i * 37
    raise ValueError(t)


def canon(t, v):
    """The exchange string of value v of type t (None stays None)."""
    if v is None:
        return None
    if t == TSDataType.BOOLEAN:
        return "true" if v else "false"
    if t == TSDataType.DATE:
        if isinstance(v, datetime.date):
            return str(v.year * 10000 + v.month * 100 + v.day)
        return str(int(v))
    if t in (TSDataType.INT32, TSDataType.INT64, TSDataType.TIMESTAMP):
        return str(int(v))
    if t in FLOATS:
        f = float(v)
        if math.isnan(f):
            return "nan"
        return str(struct.unpack("<Q", struct.pack("<d", f))[0])
    if isinstance(v, str):
        v = v.encode("utf-8")
    return bytes(v).hex()


ROWS = 12_000  # more than one page (10,000 points) in every series


# Signals whose SPRINTZ predictions overflow 64 bits, where Java's and the C++ core's FIRE
# arithmetic differ (the C++ core must be read with its own): the 9 values our reader once
# misread (25.15 as 868.8), and a longer smooth signal (several pages).
SMOOTH = {
    "nine": [25.0, 25.05, 25.1, 25.15, 25.2, 25.25, 25.3, 25.28, 25.33],
    "smooth": [round(20.0 + 5.0 * math.sin(i / 500.0) + (i % 7) * 0.01, 6) for i in range(100_000)],
}


def write_tree_file(path, t, e, c, values=None):
    if os.path.exists(path):
        os.remove(path)
    w = TsFileWriter(path)
    dev = "root.interop.d1"
    w.register_timeseries(dev, TimeseriesSchema("v", t, e, c))
    rows = ROWS if values is None else len(values)
    tab = Tablet(["v"], [t], rows)
    tab.set_table_name(dev)
    times, vals = [], []
    for i in range(rows):
        ts = 1_000 + i * 10
        tab.add_timestamp(i, ts)
        v = value(t, i) if values is None else values[i]
        tab.add_value_by_index(0, i, v)
        times.append(ts)
        vals.append(canon(t, v))
    w.write_tablet(tab)
    w.close()
    # What PyPI tsfile itself reads back (it can differ from what it was given: its SPRINTZ
    # encoder, like Java's, loses values whose prediction errors overflow).
    back = read_file(path)["devices"].get(dev, {"rows": []})
    by_time = {row[0]: row[1] for row in back["rows"]}
    read_back = [by_time.get(ts) for ts in times]
    return {
        "model": "tree",
        "device": dev,
        "series": [
            {
                "name": "v",
                "type": t.name,
                "encoding": e.name,
                "compressor": c.name,
                "times": times,
                "values": vals,
                "read_back": read_back,
            }
        ],
    }


def write_table_file(path):
    if os.path.exists(path):
        os.remove(path)
    cols = [ColumnSchema("tag1", TSDataType.STRING, ColumnCategory.TAG)]
    names = []
    for k, t in enumerate(TYPES):
        name = f"f{k}"
        names.append(name)
        cols.append(ColumnSchema(name, t, ColumnCategory.FIELD))
    schema = TableSchema("tbl", cols)
    n = 3000
    tab = Tablet(["tag1", *names], [TSDataType.STRING, *TYPES], n)
    tab.set_table_name("tbl")
    series = {nm: {"times": [], "values": []} for nm in names}
    times = []
    for i in range(n):
        ts = 5_000 + i
        tab.add_timestamp(i, ts)
        tab.add_value_by_index(0, i, "dev1")
        times.append(ts)
        for k, t in enumerate(TYPES):
            # every column has some nulls (a different pattern per column)
            if (i + k) % (k + 3) == 0:
                series[names[k]]["values"].append(None)
                continue
            v = value(t, i)
            tab.add_value_by_index(k + 1, i, v)
            series[names[k]]["values"].append(canon(t, v))
    with TsFileTableWriter(path, schema) as w:
        w.write_table(tab)
    return {
        "model": "table",
        "device": ["tbl", "dev1"],
        "series": [
            {
                "name": names[k],
                "type": t.name,
                "encoding": "DEFAULT",
                "compressor": "DEFAULT",
                "times": times,
                "values": series[names[k]]["values"],
            }
            for k, t in enumerate(TYPES)
        ],
    }


def cmd_write(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    files, unsupported = [], []
    for t in TYPES:
        for e in ENCODINGS:
            if not allowed(t, e):
                continue
            for c in COMPRESSORS:
                name = f"py_{t.name}_{e.name}_{c.name}.tsfile"
                path = os.path.join(out_dir, name)
                try:
                    entry = write_tree_file(path, t, e, c)
                except Exception as ex:  # PyPI tsfile refuses some combinations
                    unsupported.append({"file": name, "error": str(ex)})
                    if os.path.exists(path):
                        os.remove(path)
                    continue
                entry["file"] = name
                files.append(entry)
    for t in (TSDataType.FLOAT, TSDataType.DOUBLE):
        for label, vals in SMOOTH.items():
            if t == TSDataType.FLOAT:
                vals = [struct.unpack("<f", struct.pack("<f", v))[0] for v in vals]
            name = f"py_{t.name}_SPRINTZ_UNCOMPRESSED_{label}.tsfile"
            entry = write_tree_file(os.path.join(out_dir, name), t, TSEncoding.SPRINTZ, Compressor.UNCOMPRESSED, vals)
            entry["file"] = name
            entry["exact"] = True  # PyPI reads these back as written; so must we
            files.append(entry)
    # INT64 steps of ~2^45: FIRE's 64-bit product overflows here too.
    steps = [10**18 + i * 35_000_000_000_000 + (i * 7919) % 1000 * 10**9 for i in range(30_000)]
    name = "py_INT64_SPRINTZ_UNCOMPRESSED_steps.tsfile"
    entry = write_tree_file(
        os.path.join(out_dir, name), TSDataType.INT64, TSEncoding.SPRINTZ, Compressor.UNCOMPRESSED, steps
    )
    entry["file"] = name
    entry["exact"] = True
    files.append(entry)
    try:
        entry = write_table_file(os.path.join(out_dir, "py_table_all_types.tsfile"))
        entry["file"] = "py_table_all_types.tsfile"
        files.append(entry)
    except Exception as ex:
        unsupported.append({"file": "py_table_all_types.tsfile", "error": str(ex)})
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump({"files": files, "unsupported": unsupported}, f)
    print(f"wrote {len(files)} files, {len(unsupported)} combinations refused")


def read_file(path):
    r = TsFileReader(path)
    out = {}
    schemas = r.get_all_timeseries_schemas()
    for dev, ds in schemas.items():
        series = ds.get_timeseries_list()
        names = [s.get_timeseries_name() for s in series]
        types = [s.get_data_type() for s in series]
        rows = []
        rs = r.query_timeseries(dev, names, -(2**63), 2**63 - 1)
        while rs.next():
            row = [int(rs.get_value_by_index(1))]
            for j, t in enumerate(types):
                if rs.is_null_by_index(j + 2):
                    row.append(None)
                else:
                    row.append(canon(t, rs.get_value_by_index(j + 2)))
            rows.append(row)
        rs.close()
        out[dev] = {"names": names, "types": [t.name for t in types], "rows": rows}
    r.close()
    return {"devices": out}


def cmd_read(paths):
    result = {}
    for p in paths:
        try:
            result[p] = read_file(p)
        except Exception as ex:
            result[p] = {"error": f"{type(ex).__name__}: {ex}"}
    json.dump({"files": result}, sys.stdout)


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("write", "read"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    if sys.argv[1] == "write":
        cmd_write(sys.argv[2])
    else:
        cmd_read(sys.argv[2:])


if __name__ == "__main__":
    main()
