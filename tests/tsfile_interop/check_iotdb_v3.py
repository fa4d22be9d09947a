"""Checks that iotdb-rs reads the V3 TsFiles a real Apache IoTDB 1.x flushed.

Usage (2.0.x client venv):
    scripts/reference-tsfiles /tmp/v3        # a real IoTDB 1.0.1 writes the files + manifest.json
    .venv-py20/bin/python tests/tsfile_interop/check_iotdb_v3.py /tmp/v3

Starts iotdb-rs on a temporary data directory, LOADs a copy of the files and compares every
series of the manifest (values, NULL rule, FLOAT rounding) with what SELECT returns. Series in
encodings iotdb-rs cannot decode yet are counted and listed, not compared. Not part of CI: it
needs the reference server (Java, Maven cache), see docs/reference-iotdb.md.
"""

from __future__ import annotations

import json
import shutil
import struct
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

from server import IoTDBServer

NOT_DECODED = {"FREQ", "GORILLA_V1"}


def f32(v: float) -> float:
    return struct.unpack(">f", struct.pack(">f", v))[0]


def expected_rows(series: dict, manifest: dict) -> dict[int, object]:
    rows = {t: v for t, v in series["rows"] if v is not None}
    unseq = manifest.get("unsequenceInserts", {})
    if unseq.get("device") == series["device"]:
        for r in unseq["rows"]:
            if series["measurement"] in r["values"]:
                rows[r["time"]] = r["values"][series["measurement"]]
    return rows


def main(folder: str) -> int:
    manifest = json.loads((Path(folder) / "manifest.json").read_text())
    deletion = manifest.get("deletion", {})
    with tempfile.TemporaryDirectory() as tmp:
        load_dir = Path(tmp) / "load"
        shutil.copytree(folder, load_dir, ignore=shutil.ignore_patterns("manifest.json"))
        server = IoTDBServer(data_dir=Path(tmp) / "data")
        server.start()
        try:
            from iotdb.Session import Session

            s = Session("127.0.0.1", str(server.port), "root", "root")
            s.open(False)
            s.execute_non_query_statement(f"LOAD '{load_dir}'")
            ok, bad, skipped = 0, [], []
            for series in manifest["series"]:
                if series["encoding"] in NOT_DECODED:
                    skipped.append(series["path"])
                    continue
                want = expected_rows(series, manifest)
                device, name = series["device"], series["measurement"]
                with s.execute_query_statement(f"select `{name}` from {device}") as ds:
                    got = {}
                    while ds.has_next():
                        row = ds.next()
                        field = row.get_fields()[0]
                        if field.get_data_type() is not None and field.value is not None:
                            got[row.get_timestamp()] = field.get_object_value(field.get_data_type())
                if deletion and device.startswith(deletion["path"].removesuffix(".*")):
                    lo, hi = deletion["startTime"], deletion["endTime"]
                    want = {t: v for t, v in want.items() if not lo <= t <= hi}
                if series["dataType"] == "FLOAT":
                    want = {t: f32(v) for t, v in want.items()}
                    got = {t: f32(v) for t, v in got.items()}
                if isinstance(next(iter(got.values()), None), bytes):
                    got = {t: v.decode() for t, v in got.items()}
                if got == want:
                    ok += 1
                else:
                    diff = sorted(set(got.items()) ^ set(want.items()))[:4]
                    bad.append(f"{series['path']} ({series['encoding']}/{series['compressor']}): {diff}")
            s.close()
        finally:
            server.stop()
    print(
        f"IoTDB {manifest['writtenBy']} V3 files: {ok} series identical, {len(bad)} differ, "
        f"{len(skipped)} not decoded ({', '.join(sorted(NOT_DECODED))})"
    )
    for line in bad:
        print("  DIFF", line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
