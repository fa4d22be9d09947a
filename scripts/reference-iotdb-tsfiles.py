#!/usr/bin/env python3
"""Writes TsFiles with a real Apache IoTDB (helper of scripts/reference-tsfiles).

Creates, in database root.tsf of the reference server, one series for every data type x encoding
x compressor the server accepts, both as plain (non-aligned) and aligned devices; inserts
deterministic values (with gaps, and NULL cells in aligned devices), FLUSHes; writes an
out-of-order batch and FLUSHes again (an unsequence file); deletes a time range (a .mods file);
then copies the files of root.tsf from the server's data directory into OUTDIR together with
manifest.json, which lists every series, its settings, the rows that were inserted and the
deletion, so readers can be checked value by value.

Usage: reference-iotdb-tsfiles.py --port P --data-dir DIR OUTDIR
"""

from __future__ import annotations

import argparse
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
ROWS = 250  # with max_number_of_points_in_page=100 (set by scripts/reference-iotdb) -> 3 pages


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

    _version, full = golden.server_version(r)
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

    os.makedirs(args.outdir, exist_ok=True)
    copied = []
    for space in ("sequence", "unsequence"):
        base = os.path.join(args.data_dir, space, DB)
        for root, _dirs, files in os.walk(base):
            for f in sorted(files):
                if not (f.endswith(".tsfile") or f.endswith(".tsfile.resource") or f.endswith(".mods")):
                    continue
                src = os.path.join(root, f)
                dst_name = f"{space}-{f}"
                shutil.copyfile(src, os.path.join(args.outdir, dst_name))
                copied.append({"file": dst_name, "space": space, "bytes": os.path.getsize(src)})
    manifest = {
        "writtenBy": f"Apache IoTDB {full}",
        "generator": "scripts/reference-tsfiles",
        "database": DB,
        "rowsPerSeries": ROWS,
        "maxPointsPerPage": 100,
        "nullRule": (
            "value(t) is absent when (t + salt) % 17 == 0: no point for plain series, a NULL cell for aligned ones"
        ),
        "floatRule": "FLOAT rows hold the decimal literal that was inserted; compare after rounding to 32 bits",
        "files": copied,
        "series": series,
        "rejectedCombinations": rejected,
        "unsequenceInserts": {"device": unseq_device, "rows": unseq},
        "deletion": deletion,
    }
    with open(os.path.join(args.outdir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
    r.drop()
    tsfiles = [c for c in copied if c["file"].endswith(".tsfile")]
    print(
        f"reference-tsfiles: {len(tsfiles)} TsFiles, {len(series)} series "
        f"({len(rejected)} type/encoding/compressor combinations rejected by the server) -> {args.outdir}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
