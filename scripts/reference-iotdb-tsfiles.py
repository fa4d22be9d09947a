#!/usr/bin/env python3
"""Writes TsFiles with a real Apache IoTDB (helper of scripts/reference-tsfiles).

Creates, in database root.tsf of the reference server, one series for every data type x encoding
x compressor the server accepts, both as plain (non-aligned) and aligned devices; inserts
deterministic values (with gaps, and NULL cells in aligned devices), FLUSHes; writes an
out-of-order batch and FLUSHes again (an unsequence file); deletes a time range (a .mods file);
FLUSHes; reads every series back from the server (`readBack`: what the reference itself decodes
from its files, so lossy encodings such as FREQ can be compared with its own decoding); then
copies the TsFiles and deletion files of root.tsf from the server's data directory into OUTDIR
together with manifest.json.gz, which lists every series, its settings, the rows that were
inserted, the readBack rows and the deletion, so readers can be checked value by value.

Files of an earlier run in OUTDIR (*.tsfile, *.tsfile.*, manifest.json*) are removed first, so
regenerating a fixture folder in place leaves no stale files. The manifest is deterministic for
the same server version (series in creation order, gzip without a time stamp); only the TsFile
names (which carry the server's clock) change between runs.

Usage: reference-iotdb-tsfiles.py --port P --data-dir DIR OUTDIR
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden"))
import golden

DB = "root.tsf"
TYPES = ("BOOLEAN", "INT32", "INT64", "FLOAT", "DOUBLE", "TEXT")
ENCODINGS = (
    "PLAIN",
    "RLE",
    "TS_2DIFF",
    "GORILLA",
    "GORILLA_V1",
    "ZIGZAG",
    "FREQ",
    "DICTIONARY",
    "DIFF",
    "REGULAR",
    "BITMAP",
    "CHIMP",
    "SPRINTZ",
    "RLBE",
)
COMPRESSORS = ("UNCOMPRESSED", "SNAPPY", "GZIP", "LZ4", "ZSTD", "LZMA2")
ROWS = 250  # with max_number_of_points_in_page=100 -> 3 pages per chunk
POINTS_PER_PAGE = 100
# Every inserted time lies in here; IoTDB 1.0.1's standalone mode only answers queries whose time
# range is bounded on both sides.
READ_RANGE = "time >= -1000 AND time <= 1000"


def value(dtype: str, t: int, salt: int):
    """Deterministic test value; None means no point (plain) or a NULL cell (aligned)."""
    if (t + salt) % 17 == 0:
        return None
    if dtype == "BOOLEAN":
        return (t // 3 + salt) % 2 == 0
    if dtype == "INT32":
        return ((t * 7919 + salt) % 20001) - 10000
    if dtype == "INT64":
        return (t * 1000003 + salt) * (1 if t % 5 else -1) * 104729
    if dtype == "FLOAT":
        return round(((t * 37 + salt) % 1000) / 8.0 - 60.0, 3)
    if dtype == "DOUBLE":
        return ((t * 131 + salt) % 100000) / 64.0 - 700.0
    return f"v{t}_{salt}" + ("x" * (t % 7))


def literal(dtype: str, v) -> str:
    if v is None:
        return "NULL"
    if dtype == "BOOLEAN":
        return "true" if v else "false"
    if dtype == "TEXT":
        return "'" + v.replace("'", "''") + "'"
    return repr(v)


def json_value(dtype: str, v):
    return v


def parse_cell(dtype: str, text: str):
    """The value of one cell of golden.Runner's text answer (None for NULL), exactly.

    Runner prints FLOAT as the shortest decimal that reads back as the same 32-bit float and
    DOUBLE as the shortest that reads back as the same double, so float() is exact for both.
    """
    if text == "NULL":
        return None
    if dtype == "BOOLEAN":
        if text not in ("true", "false"):
            raise ValueError(f"not a BOOLEAN: {text!r}")
        return text == "true"
    if dtype in ("INT32", "INT64"):
        return int(text)
    if dtype in ("FLOAT", "DOUBLE"):
        return float(text)
    # Our TEXT values are [A-Za-z0-9_]+, which Runner prints unescaped.
    if not text or not all(c.isalnum() or c == "_" for c in text):
        raise ValueError(f"unexpected TEXT cell {text!r}")
    return text


def read_back(run, device: str, dtype: str, measurements: list) -> dict:
    """SELECT of every measurement of `device`: {measurement: [[time, value], ...]} (no NULLs)."""
    out = run(f"SELECT {', '.join(measurements)} FROM {device} WHERE {READ_RANGE}")
    cols = [c.rsplit(":", 1)[0] for c in out.header.split(golden.SEP)]
    if cols[0] != "Time":
        raise SystemExit(f"reference-tsfiles: unexpected header {out.header!r}")
    names = [c.rsplit(".", 1)[1] if c.startswith(device + ".") else c for c in cols[1:]]
    if sorted(names) != sorted(measurements):
        raise SystemExit(f"reference-tsfiles: {device}: columns {names} != {measurements}")
    got = {m: [] for m in measurements}
    for row in out.rows:
        cells = row.split(golden.SEP)
        if len(cells) != len(cols):
            raise SystemExit(f"reference-tsfiles: {device}: malformed row {row!r}")
        t = int(cells[0])
        for name, cell in zip(names, cells[1:]):
            v = parse_cell(dtype, cell)
            if v is not None:
                got[name].append([t, v])
    return got


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--data-dir", required=True, help="the server's data directory (dn_data_dirs)")
    ap.add_argument("outdir")
    args = ap.parse_args()
    conn_args = argparse.Namespace(host=args.host, port=args.port, user="root", password="root", timeout=60.0)
    r = golden.Runner(conn_args)

    def run(sql: str, must: bool = True) -> golden.Outcome:
        out = r.execute(sql)
        if must and not out.ok:
            raise SystemExit(f"reference-tsfiles: {sql!r} failed: {out.code}: {out.message}")
        return out

    version, full = golden.server_version(r)
    if not version.startswith("1."):
        # IoTDB 2.x reads this setting at run time (SET CONFIGURATION also persists it in the
        # reference's own config); 1.0.1 gets it from scripts/reference-iotdb's config file.
        run(f"SET CONFIGURATION 'max_number_of_points_in_page'='{POINTS_PER_PAGE}'")
    run(f"DELETE DATABASE {DB}", must=False)
    run(f"CREATE DATABASE {DB}")

    series = []  # dicts for the manifest
    rejected = []
    for comp in COMPRESSORS:
        for aligned in (False, True):
            for dtype in TYPES:
                device = f"{DB}.{comp.lower()}.{'aligned' if aligned else 'plain'}_{dtype.lower()}"
                accepted = []
                for enc in ENCODINGS:
                    m = enc.lower()
                    if aligned:
                        sql = f"CREATE ALIGNED TIMESERIES {device}({m} {dtype} encoding={enc} compressor={comp})"
                    else:
                        sql = f"CREATE TIMESERIES {device}.{m} WITH DATATYPE={dtype}, ENCODING={enc}, COMPRESSOR={comp}"
                    out = run(sql, must=False)
                    if out.ok:
                        accepted.append((m, enc))
                    else:
                        rejected.append(
                            {
                                "device": device,
                                "dataType": dtype,
                                "encoding": enc,
                                "compressor": comp,
                                "aligned": aligned,
                                "status": f"{out.code}: {out.message}",
                            }
                        )
                if not accepted:
                    continue
                salts = {m: i for i, (m, _) in enumerate(accepted)}
                rows = {m: [] for m, _ in accepted}
                values = []
                for t in range(1, ROWS + 1):
                    cells = [value(dtype, t, salts[m]) for m, _ in accepted]
                    if not aligned and all(c is None for c in cells):
                        continue
                    values.append(f"({t}, {', '.join(literal(dtype, c) for c in cells)})")
                    for (m, _), c in zip(accepted, cells):
                        rows[m].append([t, json_value(dtype, c)])
                cols = ", ".join(m for m, _ in accepted)
                kw = " ALIGNED" if aligned else ""
                for k in range(0, len(values), 100):
                    run(f"INSERT INTO {device}(time, {cols}){kw} VALUES {', '.join(values[k : k + 100])}")
                for m, enc in accepted:
                    series.append(
                        {
                            "path": f"{device}.{m}",
                            "device": device,
                            "measurement": m,
                            "dataType": dtype,
                            "encoding": enc,
                            "compressor": comp,
                            "aligned": aligned,
                            "rows": rows[m],
                        }
                    )
    run("FLUSH")

    # An out-of-order batch (older than what is flushed) lands in an unsequence file.
    unseq_device = f"{DB}.snappy.plain_int64"
    unseq = []
    out = run(f"SHOW TIMESERIES {unseq_device}.*")
    measurements = [row.split(golden.SEP)[0].rsplit(".", 1)[1] for row in out.rows]
    for t in (-30, -20, -10, 0, 5):
        vals = [(t * 11 + i) for i in range(len(measurements))]
        run(f"INSERT INTO {unseq_device}(time, {', '.join(measurements)}) VALUES ({t}, {', '.join(map(str, vals))})")
        unseq.append({"time": t, "values": dict(zip(measurements, vals))})
    run("FLUSH")

    # A deletion is written to a mods file next to the TsFile.
    deletion = {"path": f"{DB}.gzip.plain_int32.*", "startTime": 10, "endTime": 20}
    run(f"DELETE FROM {deletion['path']} WHERE time >= 10 AND time <= 20")
    run("FLUSH")
    time.sleep(1)

    # What the reference reads from its own files (after the deletion and the last FLUSH).
    by_device = {}
    for sr in series:
        by_device.setdefault(sr["device"], []).append(sr)
    for device, members in by_device.items():
        back = read_back(run, device, members[0]["dataType"], [sr["measurement"] for sr in members])
        for sr in members:
            sr["readBack"] = back[sr["measurement"]]

    os.makedirs(args.outdir, exist_ok=True)
    for f in sorted(os.listdir(args.outdir)):
        if ".tsfile" in f or f.startswith("manifest.json"):
            os.remove(os.path.join(args.outdir, f))
    copied = []
    for space in ("sequence", "unsequence"):
        base = os.path.join(args.data_dir, space, DB)
        for root, dirs, files in os.walk(base):
            dirs.sort()
            for f in sorted(files):
                # TsFiles and their deletion files (1.x: .mods; later versions may name them
                # otherwise); the .resource files are IoTDB's own index, not needed by LOAD.
                if ".tsfile" not in f or f.endswith(".resource") or f.endswith(".tmp"):
                    continue
                src = os.path.join(root, f)
                dst_name = f"{space}-{f}"
                shutil.copyfile(src, os.path.join(args.outdir, dst_name))
                copied.append({"file": dst_name, "space": space, "bytes": os.path.getsize(src)})
    manifest = {
        "writtenBy": f"Apache IoTDB {full}",
        "serverVersion": version,
        "generator": "scripts/reference-tsfiles",
        "database": DB,
        "rowsPerSeries": ROWS,
        "maxPointsPerPage": POINTS_PER_PAGE,
        "nullRule": (
            "value(t) is absent when (t + salt) % 17 == 0: no point for plain series, a NULL cell for aligned ones"
        ),
        "floatRule": "FLOAT rows hold the decimal literal that was inserted; compare after rounding to 32 bits",
        "readBackRule": (
            f"readBack: SELECT of the series WHERE {READ_RANGE} on the reference after the last FLUSH "
            "(deletion applied, NULLs left out); FLOAT as the shortest decimal of the 32-bit value"
        ),
        "files": copied,
        "series": series,
        "rejectedCombinations": rejected,
        "unsequenceInserts": {"device": unseq_device, "rows": unseq},
        "deletion": deletion,
    }
    # One series per line: readable with zcat, small once compressed; mtime=0 keeps the
    # compressed bytes stable.
    text = json.dumps({k: v for k, v in manifest.items() if k not in ("series", "rejectedCombinations")}, indent=1)
    lines = [text[: text.rindex("}")].rstrip() + ","]
    for key in ("series", "rejectedCombinations"):
        items = manifest[key]
        lines.append(f' "{key}": [')
        lines.extend(
            "  " + json.dumps(it, separators=(",", ":")) + ("," if k + 1 < len(items) else "")
            for k, it in enumerate(items)
        )
        lines.append(" ]," if key == "series" else " ]")
    lines.append("}")
    with open(os.path.join(args.outdir, "manifest.json.gz"), "wb") as raw:
        with gzip.GzipFile(filename="manifest.json", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as f:
            f.write(("\n".join(lines) + "\n").encode("utf-8"))
    r.drop()
    tsfiles = [c for c in copied if c["file"].endswith(".tsfile")]
    print(
        f"reference-tsfiles: {version}: {len(tsfiles)} TsFiles "
        f"({', '.join(c['file'] for c in copied)}), {len(series)} series "
        f"({len(rejected)} type/encoding/compressor combinations rejected by the server) -> {args.outdir}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
