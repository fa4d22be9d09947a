"""Unit tests of the golden runner (no server needed): `pytest tests/golden`."""

from __future__ import annotations

import glob
import os
import struct
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden
from golden import Expectation, Outcome, Record

CORPUS = sorted(glob.glob(os.path.join(golden.CORPUS_DIR, "*.test")))


def test_corpus_exists_and_is_large_enough():
    total = sum(1 for p in CORPUS for it in golden.parse_file(p) if isinstance(it, Record) and it.kind != "control")
    assert total >= 300


@pytest.mark.parametrize("path", CORPUS, ids=os.path.basename)
def test_every_file_parses_and_renders_back_unchanged(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert golden.render_file(golden.parse_file(path)) == text


@pytest.mark.parametrize("path", CORPUS, ids=os.path.basename)
def test_every_record_has_an_answer_and_files_clean_up(path):
    items = golden.parse_file(path)
    records = [it for it in items if isinstance(it, Record) and it.kind != "control"]
    assert all(r.expect is not None for r in records), "unrecorded statements"
    assert items[0].startswith("#! recorded from Apache IoTDB ")
    created = set()
    for r in records:
        words = r.sql.split()
        head = " ".join(words[:3]).upper()
        if r.expect == "ok" and head.startswith(("CREATE DATABASE", "CREATE STORAGE GROUP", "SET STORAGE GROUP")):
            created.add(words[-1] if head.startswith("SET") else words[2 if head.startswith("CREATE DATABASE") else 3])
    drops = ("DELETE DATABASE", "DROP DATABASE", "DELETE STORAGE GROUP", "DROP STORAGE GROUP")
    deleted = " ".join(r.sql for r in records if r.sql.upper().startswith(drops))
    for db in created:
        assert db in deleted or db.rsplit(".", 1)[0] + ".**" in deleted, f"{db} is not deleted at the end"


def test_float_rendering_is_shortest_and_java_like():
    f32 = lambda x: struct.unpack(">f", struct.pack(">f", x))[0]  # noqa: E731
    assert golden.fmt_float32(f32(0.1)) == "0.1"
    assert golden.fmt_float32(f32(200.0)) == "200.0"
    assert golden.fmt_float32(f32(123456789012.0)) == "1.2345679E11"
    assert golden.fmt_float32(f32(-1.5e10)) == "-1.5E10"
    assert golden.fmt_float64(1e-300) == "1.0E-300"
    assert golden.fmt_float64(0.001) == "0.001"
    assert golden.fmt_float64(0.0001) == "1.0E-4"
    assert golden.fmt_float64(9999999.0) == "9999999.0"
    assert golden.fmt_float64(1e7) == "1.0E7"
    assert golden.fmt_float64(-0.0) == "-0.0"
    assert golden.fmt_float64(float("nan")) == "NaN"
    assert golden.fmt_float64(float("-inf")) == "-Infinity"


def test_text_escaping_keeps_cells_unambiguous():
    assert golden.esc("") == "(empty)"
    assert golden.esc("NULL") == "\\NULL"
    assert golden.esc("a|b") == "a\\|b"
    assert golden.esc("x\ny\\") == "x\\ny\\\\"
    assert golden.esc("  pad ") == "\\s\\spad\\s"
    assert golden.fmt_value(None, "TEXT") == "NULL"
    assert golden.fmt_value(b"caf\xc3\xa9", "TEXT") == "café"
    assert golden.fmt_value(True, "BOOLEAN") == "true"


def _query(result, tags=(), alts=None):
    return Record(
        kind="query", line=1, sql="SELECT 1", expect="rows", result=list(result), tags=list(tags), alts=alts or {}
    )


def test_compare_rows_order_header_and_errors():
    rec = _query(["Time | a:INT32", "1 | 1", "2 | 2"])
    assert golden.compare(rec, Outcome(200, "", "Time | a:INT32", ["1 | 1", "2 | 2"]), None) is None
    assert golden.compare(rec, Outcome(200, "", "Time | a:INT32", ["2 | 2", "1 | 1"]), None) is not None
    assert golden.compare(rec, Outcome(200, "", "Time | a:INT64", ["1 | 1", "2 | 2"]), None) is not None
    assert golden.compare(rec, Outcome(701, "bad"), None) is not None
    assert golden.compare(rec, Outcome(200, ""), None) == ["expected a result set, got a non-query success"]
    sorted_rec = _query(["Time | a:INT32", "1 | 1", "2 | 2"], tags=["rowsort"])
    assert golden.compare(sorted_rec, Outcome(200, "", "Time | a:INT32", ["2 | 2", "1 | 1"]), None) is None
    header_only = _query(["Time | a:INT32"], tags=["header-only"])
    assert golden.compare(header_only, Outcome(200, "", "Time | a:INT32", ["9 | 9"]), None) is None
    err = Record(kind="statement", line=1, sql="X", expect=("error", 501), result=["501: exists"])
    assert golden.compare(err, Outcome(501, "other text"), None) is None
    assert golden.compare(err, Outcome(200, ""), None) is not None
    err.tags.append("message")
    assert golden.compare(err, Outcome(501, "other text"), None) is not None
    ok = Record(kind="statement", line=1, sql="X", expect="ok")
    assert golden.compare(ok, Outcome(400, ""), None) is None  # REDIRECTION_RECOMMEND counts as success
    assert golden.compare(ok, Outcome(700, "parse"), None) is not None


def test_target_version_answers_take_precedence():
    alt = Expectation(("error", 700), ["700: parse error"])
    rec = _query(["c:TEXT", "x"], alts={"1.0.1": alt})
    assert golden.compare(rec, Outcome(700, "p"), "1.0.1") is None
    assert golden.compare(rec, Outcome(700, "p"), "2.0.1-beta") is not None
    assert golden.compare(rec, Outcome(200, "", "c:TEXT", ["x"]), "2.0.1-beta") is None
    hand = Expectation("rows", ["c:TEXT"], tags=["header-only"], by_hand=True)
    rec2 = _query(["c:TEXT", "x"], alts={"1.0.1": hand})
    assert golden.compare(rec2, Outcome(200, "", "c:TEXT", ["y", "z"]), "1.0.1") is None


def test_iotdb_rs_target_follows_the_chosen_version():
    legacy = Expectation(("error", 700), ["700: parse error"])
    rec = _query(["c:TEXT", "x"], alts={"1.0.1": legacy})
    # no choice: iotdb-rs is held to the 1.0.1 answer
    assert golden.compare(rec, Outcome(700, "p"), golden.IOTDB_RS) is None
    assert golden.compare(rec, Outcome(200, "", "c:TEXT", ["x"]), golden.IOTDB_RS) is not None
    # follows-2.0.1-beta: the primary answer, whatever 1.0.1 said
    rec.tags.append("follows-2.0.1-beta")
    assert golden.compare(rec, Outcome(200, "", "c:TEXT", ["x"]), golden.IOTDB_RS) is None
    assert golden.compare(rec, Outcome(700, "p"), golden.IOTDB_RS) is not None
    # the reference targets ignore the choice
    assert golden.compare(rec, Outcome(700, "p"), "1.0.1") is None
    assert golden.compare(rec, Outcome(200, "", "c:TEXT", ["x"]), "2.0.1-beta") is None
    # an iotdb-rs block wins over everything
    rec.alts["iotdb-rs"] = Expectation("rows", ["c:TEXT", "y"], by_hand=True)
    assert golden.compare(rec, Outcome(200, "", "c:TEXT", ["y"]), golden.IOTDB_RS) is None
    assert golden.compare(rec, Outcome(200, "", "c:TEXT", ["x"]), golden.IOTDB_RS) is not None
    assert golden.compare(rec, Outcome(200, "", "c:TEXT", ["x"]), "2.0.1-beta") is None


@pytest.mark.parametrize("path", CORPUS, ids=os.path.basename)
def test_every_divergence_says_why(path):
    items = golden.parse_file(path)
    for i, it in enumerate(items):
        if not isinstance(it, Record) or not (it.follows() or golden.IOTDB_RS in it.alts):
            continue
        j = i - 1
        comments = []
        while j >= 0 and isinstance(items[j], str) and items[j].startswith("#"):
            comments.append(items[j])
            j -= 1
        assert any(c.startswith("# divergence: ") for c in comments), f"line {it.line}: no '# divergence:' comment"
        if it.follows() and it.follows() != golden.PRIMARY:
            assert it.follows() in it.alts, f"line {it.line}: follows a version without an answer block"


def test_record_alt_skips_standalone_gaps_and_identical_answers():
    rec = _query(["c:TEXT", "x"], tags=["also-1.0.1"])
    golden.record_alt(rec, Outcome(305, "getDataPartitionWithUnclosedTimeRange is not supported"), "1.0.1")
    assert "1.0.1" not in rec.alts
    golden.record_alt(rec, Outcome(200, "", "c:TEXT", ["x"]), "1.0.1")
    assert "1.0.1" not in rec.alts
    golden.record_alt(rec, Outcome(200, "", "c:TEXT", ["y"]), "1.0.1")
    assert rec.alts["1.0.1"].result == ["c:TEXT", "y"]
    rec.alts["1.0.1"] = Expectation("rows", ["c:TEXT", "z"], by_hand=True)
    golden.record_alt(rec, Outcome(200, "", "c:TEXT", ["y"]), "1.0.1")
    assert rec.alts["1.0.1"].result == ["c:TEXT", "z"]  # hand-written answers are kept


def test_parser_rejects_malformed_records(tmp_path):
    bad = tmp_path / "bad.test"
    bad.write_text("query ok\nSELECT 1\n")
    with pytest.raises(golden.FormatError):
        golden.parse_file(str(bad))
    bad.write_text("statement error\nX\n")
    with pytest.raises(golden.FormatError):
        golden.parse_file(str(bad))
    bad.write_text("query sorted\nSELECT 1\n")
    with pytest.raises(golden.FormatError):
        golden.parse_file(str(bad))
