"""Seed examples that only the seed's own client (apache-iotdb 1.0.1) can run as written.

* ``create_schema_template`` with ``InternalNode`` (removed from the client in 1.1+),
* the SQLAlchemy examples on SQLAlchemy 1.3 (``connect.execute("SELECT ** FROM root")`` with a
  plain string, and the ORM query, which the 1.3.x/2.0.x dialects fail to compile),
* ``todf()`` dtypes as the 1.0.1 client builds them (reference: client-protocol §4.6),
* the 1.0.1 way of reporting errors (return value -1 instead of an exception).
"""

from __future__ import annotations

import numpy as np
import pytest
from iotdb.Session import Session
from iotdb.utils.IoTDBConstants import Compressor, TSDataType, TSEncoding
from iotdb.utils.NumpyTablet import NumpyTablet
from iotdb.utils.Tablet import Tablet

from clientutil import assert_values, df_records, dtype_name, query_df
from conftest import require_client

require_client("1.0")

from iotdb.template.InternalNode import InternalNode  # noqa: E402  (1.0.x only)
from iotdb.template.MeasurementNode import MeasurementNode  # noqa: E402
from iotdb.template.Template import Template  # noqa: E402

MEASUREMENTS = ["s_01", "s_02", "s_03", "s_04", "s_05", "s_06"]
DATA_TYPES = [
    TSDataType.BOOLEAN,
    TSDataType.INT32,
    TSDataType.INT64,
    TSDataType.FLOAT,
    TSDataType.DOUBLE,
    TSDataType.TEXT,
]


def test_seed_create_schema_template_with_internal_nodes(session):
    template_name = "template_python"
    # the seed's example, verbatim
    template = Template(name=template_name, share_time=True)
    i_node_gps = InternalNode(name="GPS", share_time=False)
    i_node_v = InternalNode(name="vehicle", share_time=True)
    m_node_x = MeasurementNode("x", TSDataType.FLOAT, TSEncoding.RLE, Compressor.SNAPPY)
    i_node_gps.add_child(m_node_x)
    i_node_v.add_child(m_node_x)
    template.add_template(i_node_gps)
    template.add_template(i_node_v)
    template.add_template(m_node_x)
    assert session.create_schema_template(template) == 0

    assert session.show_all_templates() == [template_name]
    assert session.count_measurements_in_template(template_name) == 3
    assert sorted(session.show_measurements_in_template(template_name)) == ["GPS.x", "vehicle.x", "x"]
    assert session.is_measurement_in_template(template_name, "vehicle.x") is True
    assert session.is_measurement_in_template(template_name, "vehicle") is False
    assert session.is_path_exist_in_template(template_name, "vehicle") is True
    assert session.is_path_exist_in_template(template_name, "GPS.y") is False

    # modify, set, show paths, unset, drop
    assert (
        session.add_measurements_in_template(
            template_name, ["speed"], [TSDataType.DOUBLE], [TSEncoding.GORILLA], [Compressor.SNAPPY], True
        )
        == 0
    )
    assert session.count_measurements_in_template(template_name) == 4
    assert session.delete_node_in_template(template_name, "speed") == 0
    assert session.count_measurements_in_template(template_name) == 3
    session.set_storage_group("root.car")
    assert session.set_schema_template(template_name, "root.car.d1") == 0
    assert session.show_paths_template_set_on(template_name) == ["root.car.d1"]
    assert session.execute_non_query_statement("create timeseries of schema template on root.car.d1") == 0
    assert session.show_paths_template_using_on(template_name) == ["root.car.d1"]
    df = query_df(session, "SHOW TIMESERIES root.car.d1.**")
    assert sorted(df["Timeseries"]) == ["root.car.d1.GPS.x", "root.car.d1.vehicle.x", "root.car.d1.x"]
    assert session.execute_non_query_statement("deactivate schema template template_python from root.car.d1") == 0
    assert session.unset_schema_template(template_name, "root.car.d1") == 0
    assert session.drop_schema_template("template_python") == 0
    assert session.show_all_templates() == []


def test_errors_are_reported_as_minus_one(session):
    assert session.set_storage_group("root.sg") == 0
    assert session.set_storage_group("root.sg") == -1
    assert session.create_time_series("root.sg.d.s", TSDataType.INT32, TSEncoding.RLE, Compressor.SNAPPY) == 0
    assert session.create_time_series("root.sg.d.s", TSDataType.INT32, TSEncoding.RLE, Compressor.SNAPPY) == -1
    assert session.execute_non_query_statement("this is not sql") == -1
    with pytest.raises(RuntimeError):
        session.execute_statement("this is not sql")


def test_todf_dtypes_with_and_without_nulls(session):
    rows = [
        [None, 10, 11, 1.1, 10011.1, "test01"],
        [True, None, 11111, 1.25, 101.0, "test02"],
        [False, 100, 1, None, 688.25, "test03"],
        [True, 0, 0, 0, None, None],
    ]
    session.insert_tablet(Tablet("root.pd.d1", MEASUREMENTS, DATA_TYPES, rows, [1, 2, 3, 4]))
    full = [[False, 10, 11, 1.1, 10011.1, "test01"], [True, 100, 11111, 1.25, 101.0, "test02"]]
    session.insert_tablet(Tablet("root.pd.d2", MEASUREMENTS, DATA_TYPES, full, [1, 2]))

    df = query_df(session, "select " + ", ".join(MEASUREMENTS) + " from root.pd.d1")
    assert list(df.columns) == ["Time"] + [f"root.pd.d1.{m}" for m in MEASUREMENTS]
    got = [dtype_name(df[c]) for c in df.columns]
    assert got == ["int64", "boolean", "Int32", "int64", "float32", "float64", "object"]
    cols = [list(c) for c in zip(*rows)]
    for i, m in enumerate(MEASUREMENTS):
        assert_values(df[f"root.pd.d1.{m}"], cols[i], float32=(i == 3))

    df = query_df(session, "select " + ", ".join(MEASUREMENTS) + " from root.pd.d2")
    got = [dtype_name(df[c]) for c in df.columns]
    assert got == ["int64", "bool", "int32", "int64", "float32", "float64", "object"]
    assert df_records(df) == [
        [1, False, 10, 11, float(np.float32(1.1)), 10011.1, "test01"],
        [2, True, 100, 11111, 1.25, 101.0, "test02"],
    ]


def test_numpy_tablet_and_multi_fetch(session):
    n = 2500
    ts = np.arange(n, dtype=">i8")
    v = (np.arange(n) % 7).astype(">i4")
    session.insert_tablet(NumpyTablet("root.np.d1", ["v"], [TSDataType.INT32], [v], ts))
    ds = session.execute_query_statement("select v from root.np.d1")
    ds.set_fetch_size(1000)  # later pages come through fetchResults
    df = ds.todf()
    ds.close_operation_handle()
    assert list(df["Time"]) == list(range(n))
    assert list(df["root.np.d1.v"]) == [i % 7 for i in range(n)]


def _engine(server):
    from sqlalchemy import create_engine
    from sqlalchemy.dialects import registry

    registry.register("iotdb", "iotdb.sqlalchemy.IoTDBDialect", "IoTDBDialect")
    return create_engine(f"iotdb://root:root@{server.host}:{server.port}")


def _factory(session):
    session.set_storage_group("root.factory")
    session.create_multi_time_series(
        ["root.factory.room2.device1.temperature", "root.factory.room2.device1.status"],
        [TSDataType.FLOAT, TSDataType.FLOAT],
        [TSEncoding.GORILLA] * 2,
        [Compressor.SNAPPY] * 2,
    )
    rows = [[0.5, 10.0], [1.5, 11.0], [2.5, 12.0]]
    session.insert_tablet(
        Tablet("root.factory.room2.device1", ["temperature", "status"], [TSDataType.FLOAT] * 2, rows, [1, 2, 3])
    )


def test_seed_sqlalchemy_execute_statement(server, session):
    _factory(session)
    engine = _engine(server)
    connect = engine.connect()
    result = connect.execute("SELECT ** FROM root")
    rows = [tuple(r) for r in result.fetchall()]
    assert {(r[0], *sorted(r[1:])) for r in rows} == {(1, 0.5, 10.0), (2, 1.5, 11.0), (3, 2.5, 12.0)}
    connect.close()
    engine.dispose()


def test_seed_sqlalchemy_orm(server, session):
    from sqlalchemy import BigInteger, Column, Float, MetaData
    from sqlalchemy.ext.declarative import declarative_base
    from sqlalchemy.orm import sessionmaker

    _factory(session)
    # the seed's ORM example, verbatim apart from host and port
    metadata = MetaData(schema="root.factory")
    Base = declarative_base(metadata=metadata)

    class Device(Base):
        __tablename__ = "room2.device1"
        Time = Column(BigInteger, primary_key=True)
        temperature = Column(Float)
        status = Column(Float)

    engine = _engine(server)
    DbSession = sessionmaker(bind=engine)
    db_session = DbSession()
    res = db_session.query(Device.status).filter(Device.temperature > 1)
    assert [tuple(row) for row in res] == [(11.0,), (12.0,)]
    db_session.close()
    engine.dispose()


def test_seed_open_example(server):
    # "How to use": the port is a string, zone from the client's default
    session = Session(server.host, str(server.port), "root", "root")
    session.open(False)
    zone = session.get_time_zone()
    assert zone
    session.close()
