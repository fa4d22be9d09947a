"""Checks that iotdb-rs reads the TsFiles a real Apache IoTDB flushed, as that IoTDB reads them.

Usage (2.0.x client venv; IOTDB_RS_BIN picks the server binary, see tests/python/server.py):
    .venv-py20/bin/python tests/tsfile_interop/check_reference_tsfiles.py DIR [DIR ...]

The committed fixture sets (tests/tsfile_interop/reference_iotdb/) are regenerated with one
command each (needs Java and the reference jars, see docs/reference-iotdb.md):
    scripts/reference-tsfiles tests/tsfile_interop/reference_iotdb/v1.0.1
    IOTDB_REF_VERSION=2.0.1-beta scripts/reference-tsfiles tests/tsfile_interop/reference_iotdb/v2.0.1-beta

For every set, starts iotdb-rs on a temporary data directory, LOADs a copy of the TsFiles and
their deletion files, and compares every series of manifest.json.gz with what SELECT returns:

(a) with `readBack`, what the reference IoTDB itself returned for the series from these files:
    the same times, and the same values (FLOAT compared as 32-bit floats), except FREQ (lossy):
    our inverse DCT is not JTransforms and may differ in the last bits of a double, so DOUBLE
    within FREQ_DOUBLE_REL_TOL x the series' largest |value|, FLOAT within that or one float
    ulp, INT32 exactly and INT64 within 1 (a rounding-boundary flip; see the constants).
    For FREQ that comparison is made on the files as our tsfile reader decodes them
    (`iotdb-rs tsfile dump`, deletion applied), because LOAD re-inserts the points and so
    quantises them a second time; what SELECT returns after LOAD must stay within
    FREQ_LOAD_MIN_SNR_DB of the reference's reading.
(b) with the inserted rows (plus the out-of-order batch, minus the deletion), where the
    encoding keeps them: exactly, except FLOAT/DOUBLE in RLE or TS_2DIFF, which IoTDB stores
    rounded to `float_precision` decimals (default 2), so within half a unit of that digit.
    FREQ is lossy (no (b)). Where the reference itself does not return the inserted values of
    an encoding that should keep them (Java encoder bugs, e.g. SPRINTZ FLOAT sign flips),
    (b) cannot hold for any reader that matches the reference; such series are listed.

Nothing is skipped: a series iotdb-rs cannot decode fails. Prints one summary line per set and
exits 1 if any series fails.
"""

from __future__ import annotations

import gzip
import json
import math
import shutil
import struct
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

from server import IoTDBServer, default_binary

# The 2.0 client casts the NaN placeholders of NULL integer cells and warns; the cells are NULL.
warnings.filterwarnings("ignore", "invalid value encountered in cast", RuntimeWarning)

# FREQ (lossy) is compared with the reference's own decoding, allowing for the last bits of the
# inverse DCT (ours: rustdct; IoTDB: JTransforms). Measured on the 1.0.1 set (32 FREQ series,
# <= 100-value blocks, our tsfile reader against readBack): DOUBLE differs by at most
# 6.6e-16 x the series' largest |value| (a few ulps); FLOAT is identical (the double noise is
# far below a float's ulp, but may in principle move a value across a rounding point, so one
# float ulp is allowed); INT32 (|v| <= 1e4) is identical; INT64 (|v| up to 2.6e13, where a
# double's ulp is 2^-8) lands on the other side of Math.round's .5 boundary in up to 17 of 235
# values, which then differ by exactly 1.
FREQ_DOUBLE_REL_TOL = 1e-12  # x max |value| of the series: 1500x the measured noise, far below the loss
FREQ_INT_TOL = {"INT32": 0, "INT64": 1}
# LOAD re-inserts points and flushes them again, so a FREQ series is quantised a second time
# (docs/tsfile-engine.md, "Known limit"): through LOAD it must stay within this signal-to-noise
# ratio of the reference's reading (one FREQ pass keeps 40 dB of the input).
FREQ_LOAD_MIN_SNR_DB = 34.0
# IoTDB's default float_precision: FLOAT/DOUBLE RLE and TS_2DIFF keep this many decimals.
FLOAT_PRECISION = 2
PRECISION_LIMITED = {"RLE", "TS_2DIFF"}
LOSSY = {"FREQ"}


def f32(v: float) -> float:
    return struct.unpack(">f", struct.pack(">f", v))[0]


def load_manifest(folder: Path) -> dict:
    gz = folder / "manifest.json.gz"
    if gz.exists():
        with gzip.open(gz, "rt", encoding="utf-8") as f:
            return json.load(f)
    return json.loads((folder / "manifest.json").read_text())


def inserted_rows(series: dict, manifest: dict) -> dict[int, object]:
    """What a lossless reader must return: inserted rows, the out-of-order batch, the deletion."""
    rows = {t: v for t, v in series["rows"] if v is not None}
    unseq = manifest.get("unsequenceInserts", {})
    if unseq.get("device") == series["device"]:
        for r in unseq["rows"]:
            if series["measurement"] in r["values"]:
                rows[r["time"]] = r["values"][series["measurement"]]
    deletion = manifest.get("deletion")
    if deletion and series["device"] == deletion["path"].removesuffix(".*"):
        lo, hi = deletion["startTime"], deletion["endTime"]
        rows = {t: v for t, v in rows.items() if not lo <= t <= hi}
    return rows


def as_type(dtype: str, rows: dict) -> dict:
    return {t: f32(v) for t, v in rows.items()} if dtype == "FLOAT" else rows


def first_diffs(got: dict, want: dict, close=None, n: int = 3) -> str:
    """A few differing times: `t: ours != want` (or `missing`/`extra`)."""
    out = []
    for t in sorted(set(got) | set(want)):
        if t not in got:
            out.append(f"t={t}: missing (want {want[t]!r})")
        elif t not in want:
            out.append(f"t={t}: extra {got[t]!r}")
        elif not (close(got[t], want[t]) if close else got[t] == want[t]):
            out.append(f"t={t}: {got[t]!r} != {want[t]!r}")
        if len(out) >= n:
            break
    return "; ".join(out)


def same(got: dict, want: dict, close=None) -> bool:
    if got.keys() != want.keys():
        return False
    if close is None:
        return got == want
    return all(close(got[t], want[t]) for t in want)


def ulp(dtype: str, v: float) -> float:
    return math.ulp(v) * (2.0**29 if dtype == "FLOAT" else 1.0)


def plain_value(v):
    """A client value as a plain Python value (the 2.0 client returns numpy scalars)."""
    if hasattr(v, "item"):  # numpy scalar (np.float64 is also a float)
        return v.item()
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", "replace")
    return v


def freq_close(dtype: str, back: dict):
    """How close a FREQ value must be to the reference's (see FREQ_DOUBLE_REL_TOL)."""
    if dtype in FREQ_INT_TOL:
        tol = FREQ_INT_TOL[dtype]
        return lambda x, y: abs(x - y) <= tol
    noise = FREQ_DOUBLE_REL_TOL * max((abs(v) for v in back.values()), default=0.0)
    if dtype == "FLOAT":
        return lambda x, y: abs(x - y) <= max(noise, ulp("FLOAT", y))
    return lambda x, y: abs(x - y) <= noise


def query_device(session, device: str, members: list) -> dict:
    """{measurement: {time: value}} from iotdb-rs (NULL cells left out)."""
    names = [m["measurement"] for m in members]
    cols = ", ".join(f"`{n}`" for n in names)
    got = {n: {} for n in names}
    with session.execute_query_statement(f"select {cols} from {device}") as ds:
        headers = ds.get_column_names()[1:]
        index = [h.rsplit(".", 1)[1].strip("`") for h in headers]
        while ds.has_next():
            row = ds.next()
            t = row.get_timestamp()
            for name, field in zip(index, row.get_fields()):
                if field.get_data_type() is None or field.value is None:
                    continue
                v = plain_value(field.get_object_value(field.get_data_type()))
                if v is not None:  # the 2.0 client gives None for NULL cells of some types
                    got[name][t] = v
    return got


def dumped_value(text: str):
    """A value as `tsfile dump` prints it: quoted text, true/false, an integer or a float."""
    if text.startswith('"'):
        return json.loads(text)
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        return float(text)


def dump_files(folder: Path, manifest: dict) -> dict[str, dict]:
    """Every point of the set's TsFiles as our tsfile reader decodes them (`iotdb-rs tsfile
    dump`), later files winning on equal times, the manifest's deletion applied."""
    binary = str(default_binary())
    out: dict[str, dict] = {}
    for f in manifest["files"]:
        if not f["file"].endswith(".tsfile"):
            continue
        text = subprocess.run(
            [binary, "tsfile", "dump", str(folder / f["file"])], check=True, capture_output=True, text=True
        ).stdout
        for line in text.splitlines():
            path, t, v = line.split(",", 2)
            out.setdefault(path, {})[int(t)] = dumped_value(v)
    deletion = manifest.get("deletion")
    if deletion:
        prefix = deletion["path"].removesuffix("*")
        lo, hi = deletion["startTime"], deletion["endTime"]
        for path, rows in out.items():
            if path.startswith(prefix):
                for t in [t for t in rows if lo <= t <= hi]:
                    del rows[t]
    return out


def snr_db(got: dict, want: dict) -> float:
    """Signal-to-noise ratio of `got` against `want` (same times), in dB."""
    if got.keys() != want.keys() or not want:
        return -math.inf
    signal = sum(float(v) ** 2 for v in want.values())
    noise = sum((float(got[t]) - float(want[t])) ** 2 for t in want)
    return math.inf if noise == 0 else 10 * math.log10(signal / noise)


def check_set(folder: Path) -> tuple[str, list, list, str]:
    """Checks one fixture set: (summary line, failures, series the reference loses, server log tail)."""
    manifest = load_manifest(folder)
    writer = manifest["writtenBy"]
    with tempfile.TemporaryDirectory(prefix="ref-tsfiles-") as tmp:
        load_dir = Path(tmp) / "load"
        load_dir.mkdir()
        for f in manifest["files"]:
            shutil.copyfile(folder / f["file"], load_dir / f["file"])
        server = IoTDBServer(data_dir=Path(tmp) / "data", log_dir=Path(tmp))
        server.start()
        try:
            from iotdb.Session import Session

            s = Session("127.0.0.1", str(server.port), "root", "root")
            s.open(False)
            by_device: dict[str, list] = {}
            for series in manifest["series"]:
                by_device.setdefault(series["device"], []).append(series)
            results = {}
            try:
                s.execute_non_query_statement(f"LOAD '{load_dir}'")
            except Exception as e:  # every series fails, with the reason
                results = {d: f"LOAD failed: {str(e).splitlines()[0][:200]}" for d in by_device}
            for device, members in by_device.items():
                if device in results:
                    continue
                try:
                    results[device] = query_device(s, device, members)
                except Exception as e:  # a decode error of our server fails the device's series
                    results[device] = str(e).splitlines()[0][:200]
            s.close()
        finally:
            server.stop()
            log = server.log_tail(20)
    counts = {"a": 0, "b": 0, "b_rounded": 0, "freq": 0}
    bad, ref_lost = [], []
    freq_err = {}
    freq_snr = math.inf
    dumped = dump_files(folder, manifest) if any(x["encoding"] in LOSSY for x in manifest["series"]) else {}
    for series in manifest["series"]:
        dtype, enc = series["dataType"], series["encoding"]
        label = f"{series['path']} ({dtype} {enc}/{series['compressor']})"
        res = results[series["device"]]
        if isinstance(res, str):
            bad.append(f"{label}: query failed: {res}")
            continue
        got = as_type(dtype, res[series["measurement"]])
        back = as_type(dtype, {t: v for t, v in series["readBack"]})
        want = as_type(dtype, inserted_rows(series, manifest))
        failed = []
        # (a) the reference's own reading of the files. FREQ: our tsfile reader on the files
        # themselves (LOAD quantises again), and through LOAD within FREQ_LOAD_MIN_SNR_DB.
        close_a = None
        read = got
        if enc in LOSSY:
            close_a = freq_close(dtype, back)
            read = as_type(dtype, dumped.get(series["path"], {}))
            if read.keys() == back.keys() and read:
                worst = max(abs(read[t] - back[t]) for t in back)
                freq_err[dtype] = max(freq_err.get(dtype, 0), worst)
            loaded = snr_db(got, back)
            freq_snr = min(freq_snr, loaded)
            if loaded < FREQ_LOAD_MIN_SNR_DB:
                failed.append(f"(a) through LOAD: {loaded:.1f} dB from the reference's reading")
        if same(read, back, close_a):
            counts["a"] += 1
        else:
            failed.append(f"(a) vs reference: {first_diffs(read, back, close_a)}")
        # (b) the inserted values, where the encoding keeps them.
        if enc not in LOSSY:
            close_b = None
            if dtype in ("FLOAT", "DOUBLE") and enc in PRECISION_LIMITED:
                half = 0.5 * 10.0**-FLOAT_PRECISION

                def close_b(x, y, half=half, dtype=dtype):
                    return abs(x - y) <= half + 4 * ulp(dtype, y)

            if not same(back, want, close_b):
                ref_lost.append(f"{label}: reference returns {first_diffs(back, want, close_b, 2)}")
            elif same(got, want, close_b):
                counts["b_rounded" if close_b else "b"] += 1
            else:
                failed.append(f"(b) vs inserted: {first_diffs(got, want, close_b)}")
        elif failed == []:
            counts["freq"] += 1
        if failed:
            bad.append(f"{label}: {' | '.join(failed)}")
    n = len(manifest["series"])
    tsfiles = [f["file"] for f in manifest["files"] if f["file"].endswith(".tsfile")]
    versions = "/".join(sorted({f"V{(folder / f).read_bytes()[6]}" for f in tsfiles}))
    others = [f["file"].rsplit(".", 1)[1] for f in manifest["files"] if not f["file"].endswith(".tsfile")]
    deletion_files = ", ".join(others) or "no deletion file"
    errs = ", ".join(f"{k} {v:.3g}" for k, v in sorted(freq_err.items()))
    summary = (
        f"{writer}: {n} series in {len(tsfiles)} TsFiles ({versions}; +{deletion_files}): "
        f"{n - len(bad)} ok, {len(bad)} FAIL; (a) {counts['a']}/{n} match the reference's reading; "
        f"(b) {counts['b']} exactly and {counts['b_rounded']} within float_precision match the inserted "
        f"values, {counts['freq']} FREQ (lossy, (a) only{'; largest |diff| ' + errs if errs else ''}"
        f"{f'; through LOAD >= {freq_snr:.1f} dB' if freq_snr != math.inf else ''}), "
        f"{len(ref_lost)} where the reference itself loses values ((a) only)"
    )
    return summary, bad, ref_lost, log


def main(folders: list[str]) -> int:
    if not folders:
        print(__doc__, file=sys.stderr)
        return 2
    failed = False
    details = []
    summaries = []
    for folder in folders:
        summary, bad, ref_lost, log = check_set(Path(folder))
        summaries.append(summary)
        details.extend(f"  FAIL {line}" for line in bad)
        details.extend(f"  note {line}" for line in ref_lost)
        if bad:
            details.append("  " + log.replace("\n", "\n  "))
        failed = failed or bool(bad)
    for line in details:
        print(line)
    for line in summaries:
        print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
