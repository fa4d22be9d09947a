"""IoTDB 1.3's data types DATE, TIMESTAMP, BLOB and STRING as types of their own, through the
official ``apache-iotdb`` 2.0.x client: schema, every insert path (tablet, records, string
records, SQL literals), typed results (TsBlock), ``todf()``, SELECT LAST, aggregations, from
memtables, from TsFiles after a flush and after a restart (WAL/schema replay).
"""

from __future__ import annotations

import datetime

import pytest

from conftest import require_client

require_client("2.")

from iotdb.Session import Session  # noqa: E402
from iotdb.utils.IoTDBConstants import TSDataType  # noqa: E402
from iotdb.utils.Tablet import Tablet  # noqa: E402

NEW = ["d", "ts", "b", "s"]
NEW_TYPES = [TSDataType.DATE, TSDataType.TIMESTAMP, TSDataType.BLOB, TSDataType.STRING]


def rows(session, sql: str) -> list[list]:
    """Every row of a query as [time, *values as strings]."""
    ds = session.execute_query_statement(sql)
    out = []
    while ds.has_next():
        r = ds.next()
        out.append([r.get_timestamp()] + [f.get_string_value() for f in r.get_fields()])
    ds.close_operation_handle()
    return out


def column_types(session, sql: str) -> list[str]:
    ds = session.execute_query_statement(sql)
    types = [t.name if hasattr(t, "name") else str(t) for t in ds.get_column_types()]
    ds.close_operation_handle()
    return types


def series_types(session, pattern: str) -> dict[str, str]:
    ds = session.execute_query_statement(f"show timeseries {pattern}")
    out = {}
    while ds.has_next():
        f = ds.next().get_fields()
        out[f[0].get_string_value()] = f[3].get_string_value()
    ds.close_operation_handle()
    return out


def insert_all_paths(session) -> None:
    # tablet (aligned=False): auto-creates root.ty.t.*
    tablet = Tablet(
        "root.ty.t",
        NEW,
        NEW_TYPES,
        [
            [datetime.date(2024, 4, 1), 1711929600000, b"\x0a\x1b", "one"],
            [datetime.date(2024, 12, 31), 1735603200000, b"\xff\x00", "two"],
        ],
        [1, 2],
    )
    session.insert_tablet(tablet)
    # records: auto-creates root.ty.r.*
    session.insert_record("root.ty.r", 1, NEW, NEW_TYPES, [datetime.date(2024, 4, 1), 5, b"\x01", "rec"])
    # SQL literals into existing series
    session.execute_non_query_statement("create timeseries root.ty.q.d with datatype=DATE")
    session.execute_non_query_statement("create timeseries root.ty.q.b with datatype=BLOB")
    session.execute_non_query_statement("insert into root.ty.q(time, d, b) values (1, '2024-02-29', X'0a1b')")
    # string records into an existing DATE series
    session.insert_str_record("root.ty.q", 2, ["d"], ["2024-03-01"])


def check_all(session) -> None:
    assert series_types(session, "root.ty.t.*") == {
        "root.ty.t.d": "DATE",
        "root.ty.t.ts": "TIMESTAMP",
        "root.ty.t.b": "BLOB",
        "root.ty.t.s": "STRING",
    }
    assert sorted(series_types(session, "root.ty.r.*").values()) == ["BLOB", "DATE", "STRING", "TIMESTAMP"]
    assert column_types(session, "select d, ts, b, s from root.ty.t")[-4:] == ["DATE", "TIMESTAMP", "BLOB", "STRING"]
    df = session.execute_query_statement("select d, ts, b, s from root.ty.t").todf()
    assert list(df["root.ty.t.d"]) == [datetime.date(2024, 4, 1), datetime.date(2024, 12, 31)]
    # the 2.0.x client turns a TIMESTAMP into a pandas Timestamp
    assert [t.value // 1_000_000 for t in df["root.ty.t.ts"]] == [1711929600000, 1735603200000]
    assert list(df["root.ty.t.b"]) == [b"\x0a\x1b", b"\xff\x00"]
    assert list(df["root.ty.t.s"]) == ["one", "two"]
    df = session.execute_query_statement("select d, b from root.ty.q").todf()
    assert list(df["root.ty.q.d"]) == [datetime.date(2024, 2, 29), datetime.date(2024, 3, 1)]
    assert df["root.ty.q.b"].iloc[0] == b"\x0a\x1b"
    # SELECT LAST renders values as IoTDB does: a DATE as yyyy-MM-dd, a BLOB as 0x…
    last = {r[1]: (r[0], r[2], r[3]) for r in rows(session, "select last d, b, s, ts from root.ty.t")}
    assert last["root.ty.t.d"] == (2, "2024-12-31", "DATE")
    assert last["root.ty.t.b"] == (2, "0xff00", "BLOB")
    assert last["root.ty.t.s"] == (2, "two", "STRING")
    assert last["root.ty.t.ts"] == (2, "1735603200000", "TIMESTAMP")
    # aggregations IoTDB allows: count everything, order DATE/TIMESTAMP, first/last of all
    ds = session.execute_query_statement(
        "select count(b), max_value(d), min_value(ts), first_value(b), last_value(s) from root.ty.t"
    )
    assert [t.name for t in ds.get_column_types()][-5:] == ["INT64", "DATE", "TIMESTAMP", "BLOB", "STRING"]
    df = ds.todf()
    count, max_d, min_ts, first_b, last_s = df.iloc[0].tolist()
    assert (count, max_d, first_b, last_s) == (2, datetime.date(2024, 12, 31), b"\x0a\x1b", "two")
    assert min_ts.value // 1_000_000 == 1711929600000
    # a DATE compares with a date string; a number is refused (701) as IoTDB refuses it
    df = session.execute_query_statement("select d from root.ty.t where d = '2024-12-31'").todf()
    assert list(df["Time"]) == [2]
    df = session.execute_query_statement("select d from root.ty.t where d < '2024-12-31'").todf()
    assert list(df["Time"]) == [1]
    with pytest.raises(Exception, match="701"):
        session.execute_query_statement("select d from root.ty.t where d = 20241231")


def test_new_types_all_paths(session, server):
    insert_all_paths(session)
    check_all(session)
    # and from TsFiles after a flush, and after a restart
    session.execute_non_query_statement("flush")
    check_all(session)
    session.close()
    server.restart()
    s = Session(server.host, server.port, "root", "root")
    s.open(False)
    try:
        check_all(s)
    finally:
        s.close()


@pytest.mark.parametrize(
    "sql",
    [
        "select sum(d) from root.ty.t",
        "select avg(ts) from root.ty.t",
        "select max_value(b) from root.ty.t",
    ],
)
def test_aggregations_iotdb_rejects(session, sql):
    insert_all_paths(session)
    with pytest.raises(Exception, match="701"):
        session.execute_query_statement(sql)


def test_bad_literals_rejected(session):
    insert_all_paths(session)
    for sql in [
        "insert into root.ty.q(time, d) values (9, '2024-02-30')",
        "insert into root.ty.q(time, b) values (9, X'0a1')",
    ]:
        with pytest.raises(Exception):
            session.execute_non_query_statement(sql)
    assert len(session.execute_query_statement("select d, b from root.ty.q where time = 9").todf()) == 0
