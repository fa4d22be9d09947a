"""DB-API 2.0 (``iotdb.dbapi``) of our package: the seed's examples, remote and embedded; errors are
raised (the official cursor swallows them) and string parameters cannot inject SQL."""

from __future__ import annotations

import numpy as np
import pytest
from iotdb.dbapi import DatabaseError, InterfaceError, ProgrammingError, connect
from iotdb.utils.IoTDBConstants import TSDataType

T_2017_11_01_CST = 1509465600000


@pytest.fixture
def conn(mode, request, tmp_path):
    if mode != "embedded":
        host, port = request.getfixturevalue("remote_target")
        c = connect(host, str(port), "root", "root", fetch_size=1024, zone_id="UTC+8", sqlalchemy_mode=False)
    else:
        c = connect(embedded=str(tmp_path / "data"), zone_id="UTC+8")
    yield c
    c.close()


def test_seed_examples(conn, mode):
    cursor = conn.cursor()
    cursor.execute("create database root.cursor")
    assert cursor.rowcount == 0 and cursor.description is None
    cursor.execute("create timeseries root.cursor.temperature with datatype=FLOAT,encoding=RLE")
    sql = "insert into root.cursor(timestamp,temperature) values(%(timestamp)s,%(temperature)s)"
    cursor.executemany(sql, [{"timestamp": i, "temperature": i} for i in range(1, 6)])
    t_filter = T_2017_11_01_CST + 8 * 60 * 1000
    cursor.execute(sql, {"timestamp": t_filter - 1, "temperature": 0.3})
    cursor.execute(sql, {"timestamp": t_filter, "temperature": 0.4})
    # the seed's statement reads every database; a reference server may hold other clients' data
    everything = "SELECT ** FROM root.cursor" if mode == "reference" else "SELECT ** FROM root"
    cursor.execute(everything)
    rows = cursor.fetchall()
    assert [list(r) for r in rows] == [[i, float(i)] for i in range(1, 6)] + [
        [t_filter - 1, float(np.float32(0.3))],
        [t_filter, float(np.float32(0.4))],
    ]
    assert cursor.rowcount == 7
    assert cursor.description == (
        ("Time", TSDataType.INT64.value, None, None, None, None, True),
        ("root.cursor.temperature", TSDataType.FLOAT.value, None, None, None, None, False),
    )
    cursor.execute(everything + " WHERE time < %(time)s", {"time": "2017-11-01T00:08:00.000"})
    assert [r[0] for r in cursor.fetchall()] == [1, 2, 3, 4, 5, t_filter - 1]
    cursor.execute("select * from root.cursor")
    assert cursor.fetchone()[0] == 1
    assert [r[0] for r in cursor.fetchmany(2)] == [2, 3]
    assert [r[0] for r in cursor] == [4, 5, t_filter - 1, t_filter]
    cursor.close()
    with pytest.raises(InterfaceError):
        cursor.execute("show databases")


def test_errors_are_raised(conn):
    with conn.cursor() as cursor:
        with pytest.raises(ProgrammingError) as e:
            cursor.execute("select from nowhere")
        assert e.value.code == 700
        cursor.execute("create database root.e")
        with pytest.raises(DatabaseError) as e:
            cursor.execute("create database root.e")
        assert e.value.code == 501


def test_string_parameters_cannot_inject(conn):
    cursor = conn.cursor()
    cursor.execute("create timeseries root.inj.d.s with datatype=TEXT")
    evil = "x'); delete timeseries root.inj.** ; insert into root.inj.d(time, s) values(9, 'y"
    cursor.execute("insert into root.inj.d(time, s) values(1, %(v)s)", {"v": evil})
    cursor.execute("insert into root.inj.d(time, s) values(2, %s)", ("it's",))
    cursor.execute("select s from root.inj.d")
    assert cursor.fetchall() == [(1, evil), (2, "it's")]
    with pytest.raises(ProgrammingError):
        cursor.execute("insert into root.inj.d(time, s) values(3, %(v)s)", {"v": "\\' or 1=1"})
    cursor.execute("select count(s) from root.inj.d where s = %(v)s", {"v": "it's"})
    assert cursor.fetchall() == [(1,)]
