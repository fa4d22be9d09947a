"""The SQLAlchemy dialect of our package (``iotdb://`` and ``iotdb+embedded://``), remote and
embedded, on whichever SQLAlchemy the venv has (scripts/test-python runs this file with
SQLAlchemy 2.x and 1.4; the official 1.0.1 test file covers 1.3): the seed's ORM example,
reflection, ``pandas.read_sql``, statement caching, and errors."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")
from sqlalchemy import (  # noqa: E402
    BigInteger,
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    Table,
    Text,
    create_engine,
    exc,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.orm import sessionmaker  # noqa: E402
from sqlalchemy.schema import CreateSchema, CreateTable, DropSchema  # noqa: E402

SA_MAJOR_MINOR = tuple(int(p) for p in sqlalchemy.__version__.split(".")[:2])

FACTORY = [
    "create database root.factory",
    "create database root.other",
    "create timeseries root.factory.room2.device1.temperature with datatype=FLOAT",
    "create timeseries root.factory.room2.device1.status with datatype=FLOAT",
    "create timeseries root.factory.room2.device2.flag with datatype=BOOLEAN",
    "create timeseries root.factory.room2.device2.n with datatype=INT32",
    "create timeseries root.factory.room2.device2.big with datatype=INT64",
    "create timeseries root.factory.room2.device2.d with datatype=DOUBLE",
    "create timeseries root.factory.room2.device2.txt with datatype=TEXT",
    "insert into root.factory.room2.device1(time, temperature, status) values(1, 0.5, 10)",
    "insert into root.factory.room2.device1(time, temperature, status) values(2, 1.5, 11)",
    "insert into root.factory.room2.device1(time, temperature, status) values(3, 2.5, 12)",
    "insert into root.factory.room2.device1(time, status) values(4, 13)",
]


def declarative_base(**kw):
    # the seed imports it from sqlalchemy.ext.declarative (moved to sqlalchemy.orm in 1.4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sqlalchemy.ext.declarative import declarative_base as base

        return base(**kw)


@pytest.fixture
def engine(mode, request, tmp_path):
    if mode != "embedded":
        host, port = request.getfixturevalue("remote_target")
        url = f"iotdb://root:root@{host}:{port}"
    else:
        url = f"iotdb+embedded:///{tmp_path / 'data'}"
    # no registry.register: the dialects come from the package's entry points
    eng = create_engine(url)
    with eng.connect() as conn:
        for sql in FACTORY:
            conn.execute(text(sql))
    yield eng
    eng.dispose()


def device_model():
    # the seed's ORM example
    metadata = MetaData(schema="root.factory")
    Base = declarative_base(metadata=metadata)

    class Device(Base):
        __tablename__ = "room2.device1"
        Time = Column(BigInteger, primary_key=True)
        temperature = Column(Float)
        status = Column(Float)

    return Device


def test_seed_orm_example(engine):
    Device = device_model()
    DbSession = sessionmaker(bind=engine)
    session = DbSession()
    res = session.query(Device.status).filter(Device.temperature > 1)
    assert [tuple(row) for row in res] == [(11.0,), (12.0,)]
    # whole entities, Time anywhere in the select list, order and limit
    got = [(d.Time, d.temperature, d.status) for d in session.query(Device).order_by(Device.Time.desc()).limit(3)]
    assert got == [(4, None, 13.0), (3, 2.5, 12.0), (2, 1.5, 11.0)]
    assert session.query(Device.status, Device.Time).filter(Device.Time >= 3).all() == [(12.0, 3), (13.0, 4)]
    assert [r[0] for r in session.query(Device.Time)] == [1, 2, 3, 4]
    assert session.query(func.count(Device.status)).scalar() == 4
    session.close()
    # the compiler leaves the mapped columns alone (the official one sets column.table = None)
    assert Device.__table__.c.status.table is Device.__table__


def test_seed_execute_statement(engine, mode):
    # the seed's statement reads every database; a reference server may hold other clients' data
    everything = "SELECT ** FROM root.factory" if mode == "reference" else "SELECT ** FROM root"
    with engine.connect() as connect:
        result = connect.execute(text(everything))
        keys = list(result.keys())
        rows = [dict(zip(keys, r)) for r in result.fetchall()]
    assert keys[0] == "Time" and len(keys) == 8
    d1 = "root.factory.room2.device1"
    device1 = [(r["Time"], r[f"{d1}.temperature"], r[f"{d1}.status"]) for r in rows]
    assert device1 == [(1, 0.5, 10.0), (2, 1.5, 11.0), (3, 2.5, 12.0), (4, None, 13.0)]


def test_core_select_and_statement_cache(engine):
    Device = device_model()
    stmt = select(Device.Time, Device.temperature).where(Device.temperature < 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", exc.SAWarning)  # e.g. "will not make use of SQL compilation caching"
        with engine.connect() as conn:
            for _ in range(3):  # the second and third run reuse the cached compiled statement
                assert [tuple(r) for r in conn.execute(stmt)] == [(1, 0.5), (2, 1.5)]
            bound = select(Device.status).where(Device.Time > 1).where(Device.status < 20)
            assert [tuple(r) for r in conn.execute(bound)] == [(11.0,), (12.0,), (13.0,)]
            assert conn.execute(select(Device.status).limit(1).offset(1)).scalar() == 11.0
    assert engine.dialect.supports_statement_cache is True
    if SA_MAJOR_MINOR >= (1, 4):
        # cache hits are visible in the compiled cache
        assert len(engine._compiled_cache) > 0


def test_reflection(engine, mode):
    insp = inspect(engine)
    names = insp.get_schema_names()
    if mode == "reference":  # a reference server may hold other clients' databases
        names = [n for n in names if n.startswith(("root.factory", "root.other"))]
    assert sorted(names) == ["root.factory", "root.other"]
    assert insp.get_table_names("root.factory") == ["room2.device1", "room2.device2"]
    assert insp.get_table_names("root.other") == []
    cols = {c["name"]: c for c in insp.get_columns("room2.device2", schema="root.factory")}
    assert next(iter(cols)) == "Time" and cols["Time"]["nullable"] is False
    types = {name: type(c["type"]).__name__ for name, c in cols.items()}
    assert types == {
        "Time": "BigInteger",
        "flag": "Boolean",
        "n": "Integer",
        "big": "BigInteger",
        "d": "Float",
        "txt": "Text",
    }
    assert insp.get_pk_constraint("room2.device1", schema="root.factory")["constrained_columns"] == ["Time"]
    assert engine.dialect.has_table(engine.connect(), "room2.device1", schema="root.factory")
    with engine.connect() as conn:
        assert engine.dialect.has_table(conn, "room2.device1", schema="root.factory")
        assert not engine.dialect.has_table(conn, "room9", schema="root.factory")
    if SA_MAJOR_MINOR >= (1, 4):
        assert insp.has_table("room2.device1", schema="root.factory")
        # a reflected table queries like a declared one
        t = Table("room2.device1", MetaData(), schema="root.factory", autoload_with=engine)
        assert [c.name for c in t.columns] == ["Time", "temperature", "status"]
        with engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(select(t).where(t.c.Time == 3))] == [(3, 2.5, 12.0)]
    with pytest.raises(exc.NoSuchTableError):
        insp.get_columns("nothing", schema="root.factory")


def test_pandas_read_sql(engine):
    if SA_MAJOR_MINOR < (2, 0) and tuple(int(p) for p in pd.__version__.split(".")[:2]) >= (2, 2):
        pytest.skip("pandas >= 2.2 needs SQLAlchemy 2")
    df = pd.read_sql(text("SELECT temperature, status FROM root.factory.room2.device1"), engine)
    assert list(df.columns) == ["Time", "root.factory.room2.device1.temperature", "root.factory.room2.device1.status"]
    assert df["Time"].tolist() == [1, 2, 3, 4]
    assert df["root.factory.room2.device1.temperature"].isna().tolist() == [False, False, False, True]
    Device = device_model()
    df = pd.read_sql(select(Device.Time, Device.status).where(Device.status > 10), engine)
    assert list(df.columns) == ["Time", "status"]
    assert df.values.tolist() == [[2, 11.0], [3, 12.0], [4, 13.0]]


def test_errors(engine):
    Device = device_model()
    other = Table("d", MetaData(), Column("Time", BigInteger, primary_key=True), Column("x", Float), schema="root.x")
    with engine.connect() as conn:
        with pytest.raises(exc.DatabaseError) as e:
            conn.execute(text("SELECT nothing FROM"))
        assert "700" in str(e.value)
        with pytest.raises(exc.CompileError, match="no joins"):
            conn.execute(select(Device.status, other.c.x).join_from(Device, other, Device.Time == other.c.Time))
        # the connection is still usable after an error
        assert conn.execute(select(func.count(Device.temperature))).scalar() == 3


def test_urls(tmp_path):
    with pytest.raises(exc.ArgumentError, match="data directory"):
        create_engine("iotdb+embedded://").connect()
    with pytest.raises(exc.ArgumentError, match="unknown URL parameter"):
        create_engine("iotdb://root:root@127.0.0.1:1/?nope=1").connect()
    with pytest.raises(exc.ArgumentError, match="not an integer"):
        create_engine("iotdb://root:root@127.0.0.1:1/?fetch_size=x").connect()
    eng = create_engine(f"iotdb+embedded:///{tmp_path / 'd'}?zone_id=UTC%2B8&fetch_size=10")
    with eng.connect() as conn:
        conn.execute(text("insert into root.u.d(time, s) values(2024-01-01T08:00:00, 1)"))
        assert conn.execute(text("select s from root.u.d")).fetchall() == [(1704067200000, 1.0)]
    eng.dispose()


def test_inserts(engine):
    Device = device_model()
    table = Device.__table__
    with engine.connect() as conn:
        conn.execute(table.insert().values(Time=10, temperature=9.5, status=1.0))
        conn.execute(
            table.insert(),
            [{"Time": 11, "temperature": 10.5, "status": None}, {"Time": 12, "temperature": None, "status": 3.0}],
        )
    session = sessionmaker(bind=engine)()
    session.add(Device(Time=13, temperature=12.5, status=4.0))
    session.commit()
    got = session.query(Device.Time, Device.temperature, Device.status).filter(Device.Time >= 10).all()
    assert [tuple(r) for r in got] == [(10, 9.5, 1.0), (11, 10.5, None), (12, None, 3.0), (13, 12.5, 4.0)]
    session.close()


def ddl_tables(metadata):
    plain = Table(
        "room1.dev1",
        metadata,
        Column("Time", BigInteger, primary_key=True),
        Column("temperature", Float),
        Column("d", Float(precision=53)),
        Column("flag", Boolean, iotdb_encoding="RLE"),
        Column("n", Integer),
        Column("big", BigInteger),
        Column("txt", Text, iotdb_compressor="SNAPPY"),
    )
    aligned = Table(
        "dev2",
        metadata,
        Column("Time", BigInteger, primary_key=True),
        Column("a", Float, iotdb_encoding="GORILLA"),
        Column("b", BigInteger),
        iotdb_aligned=True,
    )
    return plain, aligned


def test_ddl_maps_tables_to_devices(engine):
    """``create_all``/``drop_all`` and ``CREATE SCHEMA``: schema = database, table = device,
    column = measurement (time series), with IoTDB's types, encodings and alignment."""
    metadata = MetaData(schema="root.ddl_test")
    plain, aligned = ddl_tables(metadata)
    with engine.connect() as conn:
        conn.execute(CreateSchema("root.ddl_test"))
    metadata.create_all(engine)
    metadata.create_all(engine)  # checkfirst: the tables exist, nothing is created twice
    insp = inspect(engine)
    assert "root.ddl_test" in insp.get_schema_names()
    assert sorted(insp.get_table_names("root.ddl_test")) == ["dev2", "room1.dev1"]
    reflected = {c["name"]: type(c["type"]) for c in insp.get_columns("room1.dev1", schema="root.ddl_test")}
    assert reflected == {
        "Time": BigInteger,
        "temperature": Float,
        "d": Float,
        "flag": Boolean,
        "n": Integer,
        "big": BigInteger,
        "txt": Text,
    }
    with engine.connect() as conn:
        series = {r[0]: r[3:6] for r in conn.execute(text("SHOW TIMESERIES root.ddl_test.**")).fetchall()}
        devices = {r[0]: r[1] for r in conn.execute(text("SHOW DEVICES root.ddl_test.**")).fetchall()}
        assert sorted(series) == sorted(
            [f"root.ddl_test.room1.dev1.{m}" for m in ["temperature", "d", "flag", "n", "big", "txt"]]
            + ["root.ddl_test.dev2.a", "root.ddl_test.dev2.b"]
        )
        assert series["root.ddl_test.room1.dev1.temperature"][0] == "FLOAT"
        assert series["root.ddl_test.room1.dev1.d"][0] == "DOUBLE"
        assert tuple(series["root.ddl_test.room1.dev1.flag"][:2]) == ("BOOLEAN", "RLE")
        assert series["root.ddl_test.room1.dev1.n"][0] == "INT32"
        assert tuple(series["root.ddl_test.room1.dev1.txt"][::2]) == ("TEXT", "SNAPPY")
        assert tuple(series["root.ddl_test.dev2.a"][:2]) == ("FLOAT", "GORILLA")
        assert devices == {"root.ddl_test.room1.dev1": "false", "root.ddl_test.dev2": "true"}
        # rows in and out through the created tables
        conn.execute(plain.insert().values(Time=1, temperature=1.5, d=2.25, flag=True, n=7, big=8, txt="x"))
        conn.execute(aligned.insert(), [{"Time": 1, "a": 0.5, "b": 1}, {"Time": 2, "a": None, "b": 2}])
        assert [tuple(r) for r in conn.execute(select(plain.c.Time, plain.c.d, plain.c.flag, plain.c.txt))] == [
            (1, 2.25, True, "x")
        ]
        assert [tuple(r) for r in conn.execute(select(aligned.c.Time, aligned.c.a, aligned.c.b))] == [
            (1, 0.5, 1),
            (2, None, 2),
        ]
    metadata.drop_all(engine)
    insp = inspect(engine)
    assert insp.get_table_names("root.ddl_test") == []
    with engine.connect() as conn:
        assert conn.execute(text("SHOW TIMESERIES root.ddl_test.**")).fetchall() == []
        conn.execute(DropSchema("root.ddl_test"))
    assert "root.ddl_test" not in inspect(engine).get_schema_names()


def test_ddl_refuses_what_iotdb_cannot_hold(engine):
    dialect = engine.dialect
    no_schema = Table("d", MetaData(), Column("Time", BigInteger, primary_key=True), Column("x", Float))
    only_time = Table("d", MetaData(schema="root.ddl_test"), Column("Time", BigInteger, primary_key=True))
    text_time = Table("d", MetaData(schema="root.ddl_test"), Column("Time", Text), Column("x", Float))
    unique = Table(
        "d",
        MetaData(schema="root.ddl_test"),
        Column("Time", BigInteger, primary_key=True),
        Column("x", Float, unique=True),
    )
    bad_encoding = Table(
        "d", MetaData(schema="root.ddl_test"), Column("Time", BigInteger), Column("x", Float, iotdb_encoding="NOPE")
    )
    for table, message in [
        (no_schema, "needs a schema"),
        (only_time, "besides Time"),
        (text_time, "integer or timestamp"),
        (unique, "UniqueConstraint"),
        (bad_encoding, "unknown IoTDB encoding"),
    ]:
        with pytest.raises(exc.CompileError, match=message):
            CreateTable(table).compile(dialect=dialect)
    with pytest.raises(exc.CompileError, match="plain path"):
        CreateSchema("root.a b").compile(dialect=dialect)
    # a failing statement reaches the caller as a DB-API error (an INT32 series exists)
    with engine.connect() as conn:
        clash = Table("room2.device2", MetaData(schema="root.factory"), Column("Time", BigInteger), Column("n", Float))
        with pytest.raises(exc.DatabaseError):
            conn.execute(CreateTable(clash))
