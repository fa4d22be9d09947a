#!/usr/bin/env python3
"""Golden SQL tests for iotdb-rs: record answers from a real Apache IoTDB, check iotdb-rs against them.

    golden.py record [--port 16667] [FILE ...]   run the corpus against the reference IoTDB
                                                 (scripts/reference-iotdb) and rewrite the
                                                 expected answers in the files
    golden.py check  [--port P] [FILE ...]       run the corpus against a server (iotdb-rs) and
                                                 report pass/fail per statement with a diff; exits
                                                 non-zero only if a statement that is not tagged
                                                 `not-yet` fails
    golden.py stats  [FILE ...]                  count records, tags and unrecorded statements

FILE defaults to every tests/golden/sql/*.test. The corpus format is described in
tests/golden/README.md. The runner talks to the server with the official `apache-iotdb` Python
client (1.0.1: Thrift IClientRPCService, V1 result sets), one session, session time zone +00:00
unless a file says otherwise.
"""

from __future__ import annotations

import argparse
import difflib
import glob
import math
import os
import re
import struct
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS_DIR = os.path.join(HERE, "sql")
SUCCESS_CODES = (200, 400)  # 400 = REDIRECTION_RECOMMEND, which clients treat as success
KNOWN_TAGS = ("rowsort", "not-yet", "header-only", "message")
# Tag prefixes: also-<version> (record that version's answer too), follows-<version> (iotdb-rs
# answers as that version does where the versions conflict).
TAG_PREFIXES = ("also-", "follows-")
SEP = " | "
# The reference the main answers come from (scripts/reference-iotdb's default version).
PRIMARY = "2.0.1-beta"
# The IoTDB version iotdb-rs answers like where versions differ: its answer block where one
# exists ("---- 1.0.1 ..."), else the primary answer.
LEGACY = "1.0.1"
# The default target of `check`: iotdb-rs itself. Its expectation of a record is, in this
# order: the record's own "---- iotdb-rs ..." block (a hand-written answer where iotdb-rs
# deliberately matches neither version), the answer of the version a `follows-<version>` tag
# names (a deliberate choice where the versions conflict), the LEGACY block, the primary answer.
# Every record with a `follows-` tag or an iotdb-rs block carries a `# divergence: <reason>`
# comment right above it (documented in docs/reference-iotdb.md as well).
IOTDB_RS = "iotdb-rs"
DEFAULT_TARGET = IOTDB_RS
# Answers of IoTDB 1.0.1's standalone mode that reflect gaps of that mode, not 1.0.1 behaviour.
STANDALONE_GAPS = re.compile(
    r"getDataPartitionWithUnclosedTimeRange is not supported"
    r"|^Executing [a-z ]+ is not supported"  # StandaloneConfigTaskExecutor
    r"|in standalone mode"
    # the standalone write path (StandaloneScheduler) reports write failures its own way
    r"|^failed to insert measurements"
    r"|is a MeasurementMNode, can not get child"
)


# --------------------------------------------------------------------------------------------
# Corpus format
# --------------------------------------------------------------------------------------------


@dataclass
class Expectation:
    """An expected answer: "ok", ("error", code) or "rows", plus the lines after the separator."""

    expect: object = None  # None = not recorded yet
    result: list = field(default_factory=list)
    tags: list = field(default_factory=list)  # extra tags that apply to this answer only
    by_hand: bool = False  # written from documentation/source, not recorded; record keeps it


@dataclass
class Record:
    """One statement of a corpus file with its expected answers."""

    kind: str  # "statement" | "query" | "control"
    line: int  # 1-based line of the directive in the file
    sql: str = ""
    # Answer of the primary reference (PRIMARY): expect is None (not recorded yet), "ok",
    # ("error", code), or "rows".
    expect: object = None
    tags: list = field(default_factory=list)
    comment: str = ""  # trailing "# ..." of the directive line, kept verbatim
    result: list = field(default_factory=list)  # lines after "----"
    control: list = field(default_factory=list)  # words of a control directive
    # Answers of other IoTDB versions where they differ ("---- <version> ..." blocks).
    alts: dict = field(default_factory=dict)

    def has(self, tag: str) -> bool:
        return tag in self.tags

    def directive(self) -> str:
        """Renders the directive line (kind, expectation, tags, comment)."""
        if self.kind == "control":
            words = ["control", *self.control]
        else:
            words = [self.kind]
            if self.expect == "ok":
                words.append("ok")
            elif isinstance(self.expect, tuple):
                words += ["error", str(self.expect[1])]
            words += self.tags
        text = " ".join(words)
        if self.comment:
            text += "  " + self.comment
        return text

    def follows(self) -> str | None:
        """The version named by a `follows-<version>` tag, if any."""
        for t in self.tags:
            if t.startswith("follows-"):
                return t[len("follows-") :]
        return None

    def expectation(self, target: str | None) -> tuple:
        """(Expectation, tags) to check against for a target version (see DEFAULT_TARGET)."""
        chain = [target]
        if target == IOTDB_RS:
            follows = self.follows()
            chain = [IOTDB_RS, follows if follows != PRIMARY else None, LEGACY]
            if follows == PRIMARY:
                chain = [IOTDB_RS]
        for version in chain:
            if version and version in self.alts:
                alt = self.alts[version]
                return alt, list(self.tags) + [t for t in alt.tags if t not in self.tags]
        return Expectation(self.expect, self.result), list(self.tags)


class FormatError(Exception):
    pass


def parse_expectation(words: list, where: str, allow_rows: bool) -> tuple:
    """Parses "[ok | error <code>] [tags...]" into (expect, tags)."""
    expect = None
    if words and words[0] == "ok":
        expect, words = "ok", words[1:]
    elif words and words[0] == "error":
        if len(words) < 2 or not words[1].isdigit():
            raise FormatError(f"{where}: 'error' needs a status code")
        expect, words = ("error", int(words[1])), words[2:]
    elif allow_rows and words and words[0] == "rows":
        expect, words = "rows", words[1:]
    for t in words:
        if t not in KNOWN_TAGS and not t.startswith(TAG_PREFIXES):
            raise FormatError(
                f"{where}: unknown tag {t!r} (known: {', '.join(KNOWN_TAGS)}, also-<version>, follows-<version>)"
            )
    return expect, list(words)


def parse_file(path: str) -> list:
    """Parses a corpus file into a list of items: str (comment/blank line) or Record."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    items: list = []
    i = 0
    while i < len(lines):
        raw = lines[i]
        stripped = raw.strip()
        if stripped == "" or stripped.startswith("#"):
            items.append(raw)
            i += 1
            continue
        where = f"{path}:{i + 1}"
        directive, comment = stripped, ""
        if " #" in directive:
            directive, comment = directive.split(" #", 1)
            comment = "#" + comment
            directive = directive.strip()
        words = directive.split()
        rec = Record(kind=words[0], line=i + 1, comment=comment)
        if rec.kind == "control":
            rec.control = words[1:]
            items.append(rec)
            i += 1
            continue
        if rec.kind not in ("statement", "query"):
            raise FormatError(f"{where}: expected statement/query/control, got {raw!r}")
        if words[1:2] == ["ok"] and rec.kind == "query":
            raise FormatError(f"{where}: 'query ok' is not a thing; use 'statement ok'")
        rec.expect, rec.tags = parse_expectation(words[1:], where, allow_rows=False)
        i += 1
        sql_lines = []
        while i < len(lines) and lines[i].strip() != "" and not lines[i].startswith("----"):
            sql_lines.append(lines[i])
            i += 1
        if not sql_lines:
            raise FormatError(f"{where}: record without SQL")
        rec.sql = "\n".join(sql_lines)
        if i < len(lines) and lines[i].strip() == "----":
            i += 1
            while i < len(lines) and lines[i].strip() != "" and not lines[i].startswith("----"):
                rec.result.append(lines[i])
                i += 1
            if rec.kind == "query" and rec.expect is None:
                rec.expect = "rows"
        while i < len(lines) and lines[i].startswith("---- "):
            head = lines[i][5:].split()
            here = f"{path}:{i + 1}"
            if not head:
                raise FormatError(f"{here}: '---- <version> ...' needs a version")
            version, rest = head[0], head[1:]
            by_hand = "by-hand" in rest
            rest = [w for w in rest if w != "by-hand"]
            alt = Expectation(by_hand=by_hand)
            alt.expect, alt.tags = parse_expectation(rest, here, allow_rows=True)
            i += 1
            while i < len(lines) and lines[i].strip() != "" and not lines[i].startswith("----"):
                alt.result.append(lines[i])
                i += 1
            if alt.expect is None:
                alt.expect = "rows"
            rec.alts[version] = alt
        items.append(rec)
    return items


def render_file(items: list) -> str:
    out = []
    for it in items:
        if isinstance(it, str):
            out.append(it)
            continue
        out.append(it.directive())
        if it.kind == "control":
            continue
        out.append(it.sql)
        if it.result or it.expect == "rows":
            out.append("----")
            out.extend(it.result)
        for version, alt in it.alts.items():
            words = ["----", version]
            if alt.expect == "ok":
                words.append("ok")
            elif isinstance(alt.expect, tuple):
                words += ["error", str(alt.expect[1])]
            else:
                words.append("rows")
            words += alt.tags
            if alt.by_hand:
                words.append("by-hand")
            out.append(" ".join(words))
            out.extend(alt.result)
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# Rendering of values and results
# --------------------------------------------------------------------------------------------


def esc(text: str) -> str:
    """Escapes a TEXT value so that a cell is one line and the separator stays unambiguous."""
    if text == "":
        return "(empty)"
    s = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    if s in ("NULL", "(empty)"):
        return "\\" + s
    # Leading/trailing blanks would vanish in an editor: write them as \s.
    core = s.strip(" ")
    lead = len(s) - len(s.lstrip(" "))
    trail = len(s) - len(s.rstrip(" "))
    if core == "":
        return "\\s" * len(s)
    return "\\s" * lead + core + "\\s" * trail


def fmt_float32(v: float) -> str:
    """Shortest decimal that reads back as the same 32-bit float, in Java's notation."""
    if math.isnan(v) or math.isinf(v):
        return fmt_float64(v)
    for digits in range(1, 10):
        s = f"{v:.{digits}g}"
        if struct.unpack(">f", struct.pack(">f", float(s)))[0] == v:
            return java_notation(s)
    return java_notation(repr(v))


def fmt_float64(v: float) -> str:
    """Shortest decimal that reads back as the same double, in Java's notation."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return java_notation(repr(v))


def java_notation(s: str) -> str:
    """Writes a decimal like Java's Double.toString: plain for 1e-3 <= |x| < 1e7, else d.dddEn."""
    d = Decimal(s)
    sign = "-" if d.is_signed() else ""
    if d == 0:
        return sign + "0.0"
    t = abs(d).as_tuple()
    digits = "".join(map(str, t.digits))
    exp = t.exponent
    stripped = digits.rstrip("0")
    exp += len(digits) - len(stripped)
    digits = stripped.lstrip("0") or "0"
    point = len(digits) + exp  # digits before the decimal point in plain notation
    e10 = point - 1
    if -3 <= e10 < 7:
        if point <= 0:
            text = "0." + "0" * (-point) + digits
        elif point >= len(digits):
            text = digits + "0" * (point - len(digits)) + ".0"
        else:
            text = digits[:point] + "." + digits[point:]
    else:
        text = digits[0] + "." + (digits[1:] or "0") + "E" + str(e10)
    return sign + text


#: IoTDB 1.3's types decoded as the 1.0 type of the same layout (the 1.0.1 client the runner
#: uses knows only the six 1.0 types); `fmt_value` renders them by their real type.
LAYOUT_1_0 = {"DATE": "INT32", "TIMESTAMP": "INT64", "BLOB": "TEXT", "STRING": "TEXT"}


def fmt_value(v, dtype: str) -> str:
    if v is None:
        return "NULL"
    if dtype == "BOOLEAN":
        return "true" if v else "false"
    if dtype in ("INT32", "INT64", "TIMESTAMP"):
        return str(int(v))
    if dtype == "DATE":
        v = int(v)
        return f"{v // 10000:04d}-{v // 100 % 100:02d}-{v % 100:02d}"
    if dtype == "BLOB":
        return "0x" + bytes(v).hex()
    if dtype == "FLOAT":
        return fmt_float32(float(v))
    if dtype == "DOUBLE":
        return fmt_float64(float(v))
    if isinstance(v, (bytes, bytearray)):
        try:
            v = v.decode("utf-8")
        except UnicodeDecodeError:
            return "0x" + v.hex()
    return esc(str(v))


@dataclass
class Outcome:
    """What the server answered to one statement."""

    code: int
    message: str = ""
    header: str | None = None  # None for non-query answers
    rows: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.code in SUCCESS_CODES


# --------------------------------------------------------------------------------------------
# Talking to a server
# --------------------------------------------------------------------------------------------


class Connection:
    """One session over the official client's Thrift classes (V1 API: executeStatement)."""

    def __init__(self, host: str, port: int, user: str, password: str, zone: str, timeout_s: float):
        from iotdb.thrift.rpc.IClientRPCService import Client
        from iotdb.thrift.rpc.ttypes import TSOpenSessionReq, TSProtocolVersion
        from thrift.protocol import TBinaryProtocol
        from thrift.transport import TSocket, TTransport

        sock = TSocket.TSocket(host, port)
        sock.setTimeout(int(timeout_s * 1000))
        self.transport = TTransport.TFramedTransport(sock)
        self.transport.open()
        self.client = Client(TBinaryProtocol.TBinaryProtocol(self.transport))
        resp = self.client.openSession(
            TSOpenSessionReq(
                client_protocol=TSProtocolVersion.IOTDB_SERVICE_PROTOCOL_V3,
                username=user,
                password=password,
                zoneId=zone,
                configuration={"version": "V_0_13"},
            )
        )
        if resp.status.code not in SUCCESS_CODES:
            raise RuntimeError(f"openSession failed: {resp.status.code}: {resp.status.message}")
        self.session_id = resp.sessionId
        self.statement_id = self.client.requestStatementId(self.session_id)

    def set_time_zone(self, zone: str) -> None:
        from iotdb.thrift.rpc.ttypes import TSSetTimeZoneReq

        st = self.client.setTimeZone(TSSetTimeZoneReq(self.session_id, zone))
        if st.code not in SUCCESS_CODES:
            raise RuntimeError(f"setTimeZone({zone}) failed: {st.code}: {st.message}")

    def execute(self, sql: str) -> Outcome:
        from iotdb.thrift.rpc.ttypes import TSExecuteStatementReq
        from iotdb.utils.SessionDataSet import SessionDataSet

        req = TSExecuteStatementReq(self.session_id, sql, self.statement_id, 1024, 60000)
        resp = self.client.executeStatement(req)
        st = resp.status
        msg = st.message or ""
        if st.code == 302 and st.subStatus:
            subs = ", ".join(f"{s.code}: {s.message}" for s in st.subStatus)
            msg = f"{msg} [{subs}]" if msg else f"[{subs}]"
        if st.code not in SUCCESS_CODES:
            return Outcome(st.code, msg)
        if resp.columns is None:
            return Outcome(st.code, msg)
        types = list(resp.dataTypeList or [])
        names = list(resp.columns)
        cols = [f"{n}:{t}" for n, t in zip(names, types)]
        if not resp.ignoreTimeStamp:
            cols = ["Time", *cols]
        header = SEP.join(esc(c) for c in cols) if cols else "(no columns)"
        rows = []
        if resp.queryDataSet is not None or resp.queryId is not None:
            ds = SessionDataSet(
                sql,
                names,
                [LAYOUT_1_0.get(t, t) for t in types],
                resp.columnNameIndexMap,
                resp.queryId,
                self.client,
                self.statement_id,
                self.session_id,
                resp.queryDataSet,
                resp.ignoreTimeStamp,
            )
            try:
                while ds.has_next():
                    rec = ds.next()
                    cells = [] if resp.ignoreTimeStamp else [str(rec.get_timestamp())]
                    for f, t in zip(rec.get_fields(), types):
                        cells.append(
                            fmt_value(None if f.get_data_type() is None else f.get_object_value(f.get_data_type()), t)
                        )
                    rows.append(SEP.join(cells))
            finally:
                try:
                    ds.close_operation_handle()
                except Exception:
                    pass
        return Outcome(st.code, msg, header, rows)

    def close(self) -> None:
        from iotdb.thrift.rpc.ttypes import TSCloseSessionReq

        try:
            self.client.closeSession(TSCloseSessionReq(self.session_id))
        except Exception:
            pass
        try:
            self.transport.close()
        except Exception:
            pass


class Runner:
    def __init__(self, args):
        self.args = args
        self.conn: Connection | None = None
        self.zone = "+00:00"

    def connect(self) -> Connection:
        if self.conn is None:
            self.conn = Connection(
                self.args.host, self.args.port, self.args.user, self.args.password, self.zone, self.args.timeout
            )
        return self.conn

    def drop(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def execute(self, sql: str) -> Outcome:
        from thrift.Thrift import TException

        try:
            return self.connect().execute(sql)
        except (TException, OSError, EOFError, RuntimeError, struct.error, TypeError, ValueError) as e:
            # A broken connection or an undecodable answer: report it as a failure of this
            # statement and start the next one on a fresh session.
            self.drop()
            return Outcome(-1, f"client error: {type(e).__name__}: {e}")

    def control(self, rec: Record) -> None:
        if rec.control[:1] == ["timezone"] and len(rec.control) == 2:
            self.zone = rec.control[1]
            if self.conn is not None:
                self.conn.set_time_zone(self.zone)
        elif rec.control[:1] == ["sleep"] and len(rec.control) == 2 and rec.control[1].isdigit():
            time.sleep(int(rec.control[1]) / 1000)
        else:
            raise FormatError(f"line {rec.line}: unknown control {' '.join(rec.control)!r}")

    def wait_cluster_running(self, timeout_s: float = 20.0) -> None:
        """Waits while SHOW CLUSTER lists a node that is not Running (a reference-only concern:
        node status reaches IoTDB's ConfigNode by heartbeat, e.g. after SET SYSTEM TO READONLY)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            out = self.execute("SHOW CLUSTER")
            if not out.ok or out.header is None:
                return
            cols = [c.rsplit(":", 1)[0] for c in out.header.split(SEP)]
            if "Status" not in cols:
                return
            k = cols.index("Status")
            if all(r.split(SEP)[k] == "Running" for r in out.rows):
                return
            time.sleep(0.5)

    def reset(self) -> None:
        """Brings the server back to an empty state before a file (errors ignored); with
        --no-reset, does nothing (a reference shared with others: the files then must touch
        only databases of their own)."""
        if getattr(self.args, "no_reset", False):
            return
        self.zone = "+00:00"
        self.drop()
        self.wait_cluster_running()
        out = self.execute("SHOW SCHEMA TEMPLATES")
        templates = [r.split(SEP)[0] for r in out.rows] if out.ok and out.header else []
        for t in templates:
            paths = self.execute(f"SHOW PATHS USING SCHEMA TEMPLATE {t}")
            for p in paths.rows if paths.ok else []:
                self.execute(f"DEACTIVATE SCHEMA TEMPLATE {t} FROM {p.split(SEP)[0]}")
            paths = self.execute(f"SHOW PATHS SET SCHEMA TEMPLATE {t}")
            for p in paths.rows if paths.ok else []:
                self.execute(f"UNSET SCHEMA TEMPLATE {t} FROM {p.split(SEP)[0]}")
            self.execute(f"DROP SCHEMA TEMPLATE {t}")
        self.execute("DELETE DATABASE root.**")
        ttl = self.execute("SHOW ALL TTL")
        for row in ttl.rows if ttl.ok else []:
            path = row.split(SEP)[0]
            if path != "root.**":
                self.execute(f"UNSET TTL TO {path}")
        users = self.execute("LIST USER")
        for u in users.rows if users.ok else []:
            name = u.split(SEP)[0]
            if name != "root":
                self.execute(f"DROP USER {name}")
        roles = self.execute("LIST ROLE")
        for r in roles.rows if roles.ok else []:
            self.execute(f"DROP ROLE {r.split(SEP)[0]}")


# --------------------------------------------------------------------------------------------
# record / check
# --------------------------------------------------------------------------------------------


def answer_of(out: Outcome, tags: list, line: int) -> tuple:
    """Turns what a reference answered into (kind, Expectation)."""
    if not out.ok:
        if out.code == -1:
            raise RuntimeError(f"line {line}: reference did not answer: {out.message}")
        return None, Expectation(("error", out.code), [f"{out.code}: {esc(out.message)}"])
    if out.header is None:
        return "statement", Expectation("ok", [])
    if "header-only" in tags:
        return "query", Expectation("rows", [out.header])
    rows = sorted(out.rows) if "rowsort" in tags else out.rows
    return "query", Expectation("rows", [out.header, *rows])


def record_primary(rec: Record, out: Outcome) -> None:
    """Stores the primary reference's answer as the record's main expectation."""
    kind, exp = answer_of(out, rec.tags, rec.line)
    if kind == "statement" and rec.kind == "query":
        print(f"  note: line {rec.line}: 'query' returned no result set; recorded as statement")
        rec.tags = [t for t in rec.tags if t not in ("rowsort", "header-only")]
    if kind is not None:
        rec.kind = kind
    rec.expect, rec.result = exp.expect, exp.result


def record_alt(rec: Record, out: Outcome, version: str) -> None:
    """Stores another version's answer for a record tagged also-<version>, if it differs."""
    old = rec.alts.get(version)
    if old is not None and old.by_hand:
        return
    if not out.ok and STANDALONE_GAPS.search(out.message):
        # IoTDB 1.0.1's standalone mode lacks this part; its answer says nothing about 1.0.1.
        print(
            f"  warning: line {rec.line}: {version} cannot answer this in standalone mode "
            f"({out.message[:80]}); not recorded"
        )
        return
    _, exp = answer_of(out, rec.tags, rec.line)
    same_error = isinstance(exp.expect, tuple) and exp.expect == rec.expect and not rec.has("message")
    if same_error or (exp.expect == rec.expect and exp.result == rec.result):
        rec.alts.pop(version, None)
        print(f"  note: line {rec.line}: {version} answers like the primary reference")
        return
    rec.alts[version] = exp


def compare(rec: Record, out: Outcome, target: str | None) -> list | None:
    """Returns None when the answer matches the record, else lines describing the difference."""
    exp, tags = rec.expectation(target)
    if exp.expect is None:
        return ["not recorded yet: run `golden.py record` against the reference"]
    if isinstance(exp.expect, tuple):
        want = exp.expect[1]
        got = out.code if not out.ok else f"success ({out.code})"
        if out.code != want:
            return [f"expected error {want}: {exp.result[0] if exp.result else ''}", f"got {got}: {out.message}"]
        if "message" in tags and exp.result and exp.result[0] != f"{out.code}: {esc(out.message)}":
            return [f"expected message: {exp.result[0]}", f"got message:      {out.code}: {esc(out.message)}"]
        return None
    if not out.ok:
        return [f"expected success, got error {out.code}: {out.message}"]
    if exp.expect == "ok":
        return None
    if out.header is None:
        return ["expected a result set, got a non-query success"]
    expected = list(exp.result)
    actual = [out.header] + (sorted(out.rows) if "rowsort" in tags else out.rows)
    if "header-only" in tags:
        expected, actual = expected[:1], actual[:1]
    if expected == actual:
        return None
    return list(difflib.unified_diff(expected, actual, "expected", "actual", lineterm="", n=2))


def corpus_files(args) -> list:
    if args.files:
        return args.files
    return sorted(glob.glob(os.path.join(CORPUS_DIR, "*.test")))


def one_line(sql: str) -> str:
    s = " ".join(sql.split())
    return s if len(s) <= 90 else s[:87] + "..."


def server_version(runner: Runner) -> tuple:
    v = runner.execute("SHOW VERSION")
    if v.ok and v.rows:
        cells = v.rows[0].split(SEP)
        return cells[0], " ".join(cells)
    return "unknown", "unknown version"


def cmd_record(args) -> int:
    runner = Runner(args)
    try:
        runner.connect()
    except Exception as e:
        print(
            f"cannot open a session on {args.host}:{args.port} (scripts/reference-iotdb start?): {e}", file=sys.stderr
        )
        return 2
    version, full = server_version(runner)
    primary = version == PRIMARY
    if not primary:
        print(f"{full} is not the primary reference ({PRIMARY}): recording only records tagged also-{version}")
    total = 0
    for path in corpus_files(args):
        items = parse_file(path)
        runner.reset()
        print(f"== {os.path.relpath(path)}")
        for it in items:
            if isinstance(it, str):
                continue
            if it.kind == "control":
                runner.control(it)
                continue
            out = runner.execute(it.sql)
            if args.verbose:
                status = "ok" if out.ok else f"error {out.code}"
                print(f"  {status:10} {one_line(it.sql)}")
            if primary:
                record_primary(it, out)
                total += 1
            elif it.has(f"also-{version}"):
                record_alt(it, out, version)
                total += 1
        if primary:
            items = [it for it in items if not (isinstance(it, str) and it.startswith("#! recorded from"))]
            items.insert(0, f"#! recorded from Apache IoTDB {full} by tests/golden/golden.py record")
        with open(path, "w", encoding="utf-8") as f:
            f.write(render_file(items))
    runner.reset()
    runner.drop()
    print(f"recorded {total} statements from Apache IoTDB {full}")
    if not primary or args.no_verify:
        return 0
    # Run the freshly recorded files once more: an answer that changes between two runs of the
    # reference is not a usable expectation (unstable order, reference bugs); report it.
    print("verifying: running the recorded files again against the same server")
    verify = argparse.Namespace(**vars(args))
    verify.target, verify.quiet, verify.promote, verify.mark_not_yet, verify.all = PRIMARY, True, False, False, True
    if cmd_check(verify) != 0:
        print(
            "record: some answers differ between two runs of the reference (see FAIL above); "
            "make those statements deterministic (rowsort, other data) or drop them",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_check(args) -> int:
    runner = Runner(args)
    try:
        runner.connect()
    except Exception as e:
        print(f"cannot open a session on {args.host}:{args.port}: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    target = args.target
    passed = failed = notyet = notyet_passing = 0
    for path in corpus_files(args):
        items = parse_file(path)
        rel = os.path.relpath(path, HERE)
        runner.reset()
        changed = False
        for it in items:
            if isinstance(it, str):
                continue
            if it.kind == "control":
                try:
                    runner.control(it)
                except Exception as e:
                    print(f"WARN    {rel}:{it.line}: control failed: {e}")
                continue
            t0 = time.monotonic()
            out = runner.execute(it.sql)
            ms = (time.monotonic() - t0) * 1000
            diff = compare(it, out, target)
            where = f"{rel}:{it.line}"
            if it.has("not-yet") and not args.all:
                notyet += 1
                if diff is None:
                    notyet_passing += 1
                    if args.promote:
                        it.tags.remove("not-yet")
                        changed = True
                    print(f"NOT-YET {where:28} {one_line(it.sql)}  (passes now)")
                elif args.verbose:
                    print(f"NOT-YET {where:28} {one_line(it.sql)}")
                continue
            if diff is None:
                passed += 1
                if not args.quiet:
                    print(f"ok      {where:28} {one_line(it.sql)}  [{ms:.0f} ms]")
                continue
            failed += 1
            if args.mark_not_yet:
                it.tags.append("not-yet")
                changed = True
            exp, _ = it.expectation(target)
            source = next((v for v, a in it.alts.items() if a is exp), PRIMARY)
            alt = f" (expected answer of {source})" if source != PRIMARY else ""
            print(f"FAIL    {where:28} {one_line(it.sql)}{alt}")
            for d in diff:
                print(f"        {d}")
        if changed:
            with open(path, "w", encoding="utf-8") as f:
                f.write(render_file(items))
    runner.drop()
    extra = ""
    if notyet_passing:
        extra = f" ({notyet_passing} of them pass now: rerun with --promote to count them)"
    print(f"{passed} passed, {failed} failed, {notyet} not yet supported{extra}")
    if args.mark_not_yet and failed:
        print(f"marked {failed} failing statements not-yet")
        return 0
    return 1 if failed else 0


def cmd_stats(args) -> int:
    total = notyet = unrecorded = 0
    kinds: dict = {}
    alts: dict = {}
    for path in corpus_files(args):
        for it in parse_file(path):
            if isinstance(it, str) or it.kind == "control":
                continue
            total += 1
            notyet += it.has("not-yet")
            unrecorded += it.expect is None
            key = it.kind if not isinstance(it.expect, tuple) else f"{it.kind} error"
            kinds[key] = kinds.get(key, 0) + 1
            for v, a in it.alts.items():
                k = f"{v}{' by hand' if a.by_hand else ''}"
                alts[k] = alts.get(k, 0) + 1
    print(
        f"{total} statements ({', '.join(f'{v} {k}' for k, v in sorted(kinds.items()))}); "
        f"{notyet} not-yet; {unrecorded} unrecorded; answers of other versions: "
        f"{', '.join(f'{v} {k}' for k, v in sorted(alts.items())) or 'none'}"
    )
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=("record", "check", "stats"))
    p.add_argument("files", nargs="*", help="corpus files (default: tests/golden/sql/*.test)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="default 16667 (record) / 6667 (check)")
    p.add_argument("--user", default="root")
    p.add_argument("--password", default="root")
    p.add_argument("--timeout", type=float, default=30.0, help="socket timeout per call, seconds")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true", help="check: do not print passing statements")
    p.add_argument(
        "--target",
        default=DEFAULT_TARGET,
        help=f"check: whose answers to compare with (default {DEFAULT_TARGET}: the iotdb-rs block, then the "
        f"version a follows- tag names, then {LEGACY}, then the primary answer; '{LEGACY}': its answers where "
        f"the corpus has them; '{PRIMARY}': only the primary answers)",
    )
    p.add_argument("--all", action="store_true", help="check: treat not-yet statements like the others")
    p.add_argument("--no-verify", action="store_true", help="record: skip the second, verifying run")
    p.add_argument(
        "--no-reset",
        action="store_true",
        help="do not empty the server (databases, templates, TTLs, users, roles) before each file: "
        "for a reference that others use too; only for files that touch databases of their own",
    )
    p.add_argument("--promote", action="store_true", help="check: drop the not-yet tag of statements that pass")
    p.add_argument(
        "--mark-not-yet",
        action="store_true",
        help="check: tag every failing statement not-yet (for adopting the corpus, not for hiding regressions)",
    )
    args = p.parse_intermixed_args(argv)
    import logging

    logging.getLogger("thrift").setLevel(logging.CRITICAL)
    if args.port is None:
        args.port = 16667 if args.mode == "record" else 6667
    if args.mode == "record":
        return cmd_record(args)
    if args.mode == "check":
        return cmd_check(args)
    return cmd_stats(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except FormatError as e:
        print(f"corpus format error: {e}", file=sys.stderr)
        sys.exit(2)
