"""The TsFile engine end to end through the official 2.0.x client: data written, ``FLUSH``ed into
TsFiles and read back after a restart is identical; out-of-order data lands in the unsequence
space; deletions survive a restart; the TsFiles in the data directory are readable by PyPI
``tsfile``; a file written by PyPI ``tsfile`` is ``LOAD``ed and queryable; a byte flipped inside a
page of a flushed file is a corrupted-file error (status 604), while other series keep being served."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from iotdb.Session import Session
from iotdb.utils.IoTDBConstants import Compressor, TSDataType, TSEncoding
from iotdb.utils.Tablet import Tablet

from clientutil import expect_error, query_df
from conftest import require_client
from server import IoTDBServer

require_client("2.0")
tsfile = pytest.importorskip("tsfile")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

QUERIES = [
    "select * from root.eng.d1",
    "select * from root.eng.d2",
    "select count(s_i64), sum(s_dbl), max_value(s_i32) from root.eng.d1",
    "select s_i64 from root.eng.d1 where time >= 500 and time < 700",
    "select last * from root.eng.d1",
]


def _open(srv: IoTDBServer) -> Session:
    s = Session(srv.host, srv.port, "root", "root")
    s.open(False)
    return s


def _answers(s: Session) -> dict[str, list]:
    out = {}
    for q in QUERIES:
        df = query_df(s, q)
        out[q] = [list(df.columns), *df.astype(object).where(df.notna(), None).values.tolist()]
    return out


def _write(s: Session, t0: int, n: int, base: int) -> None:
    times = list(range(t0, t0 + n))
    rows = [[True if i % 2 else False, i + base, (i + base) * 1000, i / 4, i / 8 + base, f"t{i + base}"] for i in times]
    tab = Tablet(
        "root.eng.d1",
        ["s_bool", "s_i32", "s_i64", "s_flt", "s_dbl", "s_txt"],
        [TSDataType.BOOLEAN, TSDataType.INT32, TSDataType.INT64, TSDataType.FLOAT, TSDataType.DOUBLE, TSDataType.TEXT],
        rows,
        times,
    )
    s.insert_tablet(tab)


@pytest.fixture
def srv(tmp_path):
    server = IoTDBServer(data_dir=tmp_path / "data", log_dir=tmp_path)
    server.start()
    yield server
    server.stop()
    server.cleanup()


def _tsfiles(data_dir: Path, space: str) -> list[Path]:
    return sorted((data_dir / space).glob("**/*.tsfile"))


def test_flush_restart_identical_and_unseq(srv):
    s = _open(srv)
    s.set_storage_group("root.eng")
    for name, t, e, c in [
        ("s_bool", TSDataType.BOOLEAN, TSEncoding.RLE, Compressor.SNAPPY),
        ("s_i32", TSDataType.INT32, TSEncoding.TS_2DIFF, Compressor.LZ4),
        ("s_i64", TSDataType.INT64, TSEncoding.RLE, Compressor.GZIP),
        ("s_flt", TSDataType.FLOAT, TSEncoding.GORILLA, Compressor.SNAPPY),
        ("s_dbl", TSDataType.DOUBLE, TSEncoding.GORILLA, Compressor.ZSTD),
        ("s_txt", TSDataType.TEXT, TSEncoding.PLAIN, Compressor.UNCOMPRESSED),
    ]:
        s.create_time_series(f"root.eng.d1.{name}", t, e, c)
    _write(s, 0, 1000, 0)
    s.execute_non_query_statement("FLUSH")
    assert _tsfiles(srv.data_dir, "sequence"), "FLUSH wrote a sequence file"
    # out of order: overwrites 400..599 (newer wins) → unsequence file
    _write(s, 400, 200, 7)
    s.insert_record("root.eng.d2", 5, ["x"], [TSDataType.INT64], [1])
    s.execute_non_query_statement("FLUSH")
    assert _tsfiles(srv.data_dir, "unsequence"), "out-of-order data went to the unsequence space"
    _write(s, 1000, 100, 0)  # still in the memtable
    before = _answers(s)
    assert before["select s_i64 from root.eng.d1 where time >= 500 and time < 700"][1][1] == 507 * 1000
    s.close()

    srv.stop()  # clean shutdown flushes the memtable
    srv.start()
    s = _open(srv)
    assert _answers(s) == before
    s.close()

    srv.kill()
    srv.start()
    s = _open(srv)
    assert _answers(s) == before
    s.close()


def test_delete_across_files_survives_restart(srv):
    s = _open(srv)
    _write(s, 0, 100, 0)
    s.execute_non_query_statement("FLUSH")
    _write(s, 100, 100, 0)
    s.execute_non_query_statement("FLUSH")
    _write(s, 200, 100, 0)
    s.execute_non_query_statement("DELETE FROM root.eng.d1.s_i64 WHERE time >= 50 and time < 250")
    s.delete_data(["root.eng.d1.s_i32"], 9)
    expect_i64 = query_df(s, "select count(s_i64), count(s_i32) from root.eng.d1").values.tolist()
    assert expect_i64 == [[100, 290]]
    s.close()
    srv.kill()
    srv.start()
    s = _open(srv)
    assert query_df(s, "select count(s_i64), count(s_i32) from root.eng.d1").values.tolist() == [[100, 290]]
    s.execute_non_query_statement("DELETE TIMESERIES root.eng.d1.s_i64")
    s.execute_non_query_statement("CREATE TIMESERIES root.eng.d1.s_i64 WITH DATATYPE=INT64")
    assert query_df(s, "select count(s_i64) from root.eng.d1").values.tolist() == [[0]]
    s.close()
    srv.stop()
    srv.start()
    s = _open(srv)
    assert query_df(s, "select count(s_i64) from root.eng.d1").values.tolist() == [[0]]
    s.execute_non_query_statement("DELETE DATABASE root.eng")
    s.close()
    srv.stop()
    assert not _tsfiles(srv.data_dir, "sequence")


def test_our_tsfiles_are_readable_by_pypi_tsfile(srv):
    s = _open(srv)
    _write(s, 0, 300, 0)
    s.execute_non_query_statement("FLUSH")
    s.close()
    files = _tsfiles(srv.data_dir, "sequence")
    assert len(files) == 1
    r = tsfile.TsFileReader(str(files[0]))
    schemas = r.get_all_timeseries_schemas()
    assert list(schemas) == ["root.eng.d1"]
    names = [x.get_timeseries_name() for x in schemas["root.eng.d1"].get_timeseries_list()]
    assert sorted(names) == ["s_bool", "s_dbl", "s_flt", "s_i32", "s_i64", "s_txt"]
    rs = r.query_timeseries("root.eng.d1", ["s_i64", "s_txt", "s_dbl"], 0, 10**9)
    rows = []
    while rs.next():
        rows.append(
            (
                int(rs.get_value_by_index(1)),
                int(rs.get_value_by_index(2)),
                rs.get_value_by_index(3),
                rs.get_value_by_index(4),
            )
        )
    rs.close()
    r.close()
    assert len(rows) == 300
    for t, i64, txt, dbl in rows:
        assert i64 == t * 1000
        assert (txt.decode() if isinstance(txt, bytes) else txt) == f"t{t}"
        assert dbl == t / 8


def test_load_pypi_written_file(srv, tmp_path):
    path = tmp_path / "ext.tsfile"
    w = tsfile.TsFileWriter(str(path))
    dev = "root.ld.dev1"
    w.register_timeseries(
        dev,
        tsfile.TimeseriesSchema("temp", tsfile.TSDataType.DOUBLE, tsfile.TSEncoding.GORILLA, tsfile.Compressor.SNAPPY),
    )
    w.register_timeseries(
        dev, tsfile.TimeseriesSchema("cnt", tsfile.TSDataType.INT64, tsfile.TSEncoding.TS_2DIFF, tsfile.Compressor.LZ4)
    )
    tab = tsfile.Tablet(["temp", "cnt"], [tsfile.TSDataType.DOUBLE, tsfile.TSDataType.INT64], 50)
    tab.set_table_name(dev)
    for i in range(50):
        tab.add_timestamp(i, 1000 + i)
        tab.add_value_by_index(0, i, i * 0.5)
        tab.add_value_by_index(1, i, i * 3)
    w.write_tablet(tab)
    w.close()

    s = _open(srv)
    s.execute_non_query_statement(f"LOAD '{path}'")
    df = query_df(s, "select temp, cnt from root.ld.dev1")
    assert df.shape[0] == 50
    assert df.iloc[10].tolist()[1:] == [5.0, 30]
    ts = query_df(s, "show timeseries root.ld.**")
    enc = dict(zip(ts.iloc[:, 0], ts["Encoding"]))
    assert enc == {"root.ld.dev1.temp": "GORILLA", "root.ld.dev1.cnt": "TS_2DIFF"}
    s.close()
    srv.kill()
    srv.start()
    s = _open(srv)
    assert query_df(s, "select count(temp) from root.ld.dev1").values.tolist() == [[50]]
    s.close()


def test_aligned_device_file_readable_by_pypi_tsfile(srv):
    s = _open(srv)
    s.create_aligned_time_series(
        "root.al.dev",
        ["a", "b"],
        [TSDataType.INT64, TSDataType.DOUBLE],
        [TSEncoding.RLE, TSEncoding.GORILLA],
        [Compressor.SNAPPY] * 2,
    )
    s.insert_aligned_record("root.al.dev", 1, ["a", "b"], [TSDataType.INT64, TSDataType.DOUBLE], [5, 1.5])
    s.insert_aligned_record("root.al.dev", 2, ["a"], [TSDataType.INT64], [6])
    s.execute_non_query_statement("FLUSH")
    s.close()
    files = _tsfiles(srv.data_dir, "sequence")
    assert len(files) == 1
    r = tsfile.TsFileReader(str(files[0]))
    rs = r.query_timeseries("root.al.dev", ["a", "b"], 0, 100)
    rows = []
    while rs.next():
        rows.append([None if rs.is_null_by_index(i) else rs.get_value_by_index(i) for i in (1, 2, 3)])
    rs.close()
    r.close()
    assert rows == [[1, 5, 1.5], [2, 6, None]]


def test_iotdb1_encodings_gorilla_v1_and_freq_across_flush_and_restart(srv):
    """IoTDB 1.x's GORILLA_V1 (exact) and FREQ (lossy, 40 dB) series flush, survive a restart
    and read back; GORILLA_V1 on an integer type is refused as IoTDB 1.0.1 refuses it."""
    s = _open(srv)
    s.set_storage_group("root.enc")
    specs = [
        ("g_flt", "FLOAT", "GORILLA_V1"),
        ("g_dbl", "DOUBLE", "GORILLA_V1"),
        ("f_i32", "INT32", "FREQ"),
        ("f_i64", "INT64", "FREQ"),
        ("f_flt", "FLOAT", "FREQ"),
        ("f_dbl", "DOUBLE", "FREQ"),
    ]
    for name, t, e in specs:
        s.execute_non_query_statement(f"CREATE TIMESERIES root.enc.d.{name} WITH DATATYPE={t}, ENCODING={e}")
    with pytest.raises(Exception, match="507"):
        s.execute_non_query_statement("CREATE TIMESERIES root.enc.d.bad WITH DATATYPE=INT32, ENCODING=GORILLA_V1")
    n = 3000
    times = list(range(1, n + 1))
    wave = [20 + 5 * math.sin(i / 50) + 0.5 * math.cos(i / 7) for i in times]
    rows = [[w, w, round(w * 100), round(w * 1e6), w, w] for w in wave]
    types = {"FLOAT": TSDataType.FLOAT, "DOUBLE": TSDataType.DOUBLE, "INT32": TSDataType.INT32}
    types["INT64"] = TSDataType.INT64
    s.insert_tablet(Tablet("root.enc.d", [n for n, _, _ in specs], [types[t] for _, t, _ in specs], rows, times))

    def read() -> dict[str, list[float]]:
        df = query_df(s, "select * from root.enc.d")
        assert len(df) == n
        return {c.rsplit(".", 1)[1]: df[c].astype(float).tolist() for c in df.columns if c != "Time"}

    def snr_db(want: list[float], got: list[float]) -> float:
        sig = sum(w * w for w in want)
        err = sum((w - g) ** 2 for w, g in zip(want, got))
        return math.inf if err == 0 else 10 * math.log10(sig / err)

    in_memory = read()
    s.execute_non_query_statement("FLUSH")
    s.close()
    srv.stop()
    srv.start()
    s = _open(srv)
    flushed = read()
    f32 = np.array(wave, dtype=np.float32).astype(float).tolist()
    assert flushed["g_flt"] == f32 == in_memory["g_flt"]
    assert flushed["g_dbl"] == wave == in_memory["g_dbl"]
    for col, want in (
        ("f_i32", [r[2] for r in rows]),
        ("f_i64", [r[3] for r in rows]),
        ("f_dbl", wave),
        ("f_flt", f32),
    ):
        assert in_memory[col] == [float(w) for w in want], col  # exact until flushed
        assert flushed[col] != in_memory[col], f"{col} is lossy once in a TsFile"
        assert snr_db(want, flushed[col]) >= 39.5, col
    assert query_df(s, "select count(f_dbl) from root.enc.d").iloc[0, 0] == n
    s.close()


def test_flipped_page_byte_is_a_corrupted_file_error(srv):
    s = _open(srv)
    n = 20_000
    for dev in ("d1", "d2"):
        times = list(range(n))
        tab = Tablet(f"root.dmg.{dev}", ["v"], [TSDataType.DOUBLE], [[math.sin(t * 0.37)] for t in times], times)
        s.insert_tablet(tab)
    s.execute_non_query_statement("FLUSH")
    want_d2 = query_df(s, "select v from root.dmg.d2")
    s.close()
    srv.stop()
    [f] = _tsfiles(srv.data_dir, "sequence")
    # the sidecar (docs/tsfile-engine.md) lists the chunks by offset: d1's comes first
    side = f.with_name(f.name + ".checksums").read_bytes()
    assert side[:8] == b"IRSCHK\x01\x01"
    offset, length = int.from_bytes(side[20:28], "big"), int.from_bytes(side[28:36], "big")
    data = bytearray(f.read_bytes())
    data[offset + length * 6 // 10] ^= 0x5A
    f.write_bytes(bytes(data))
    srv.start()
    s, other = _open(srv), _open(srv)
    err = expect_error(604, query_df, s, "select v from root.dmg.d1")
    assert f.name in str(err) and f"offset {offset}" in str(err), err
    # the server, this session and others keep serving the intact series
    assert query_df(s, "select v from root.dmg.d2").equals(want_d2)
    assert query_df(other, "select v from root.dmg.d2").equals(want_d2)
    s.close()
    other.close()
