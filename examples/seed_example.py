"""The examples of IoTDB's 'Python Native API' page, run against a server.

Usage: python examples/seed_example.py [host] [port]

Walks through the page in order (session, DDL, every insert form, SQL, templates,
pandas, DB-API, SQLAlchemy) and prints what the server answers.
"""

import sys
import warnings

import numpy as np
from iotdb.Session import Session
from iotdb.template.MeasurementNode import MeasurementNode
from iotdb.template.Template import Template
from iotdb.utils.IoTDBConstants import Compressor, TSDataType, TSEncoding
from iotdb.utils.NumpyTablet import NumpyTablet
from iotdb.utils.Tablet import Tablet

# The 2.0.x client marks the template API deprecated; the seed page uses it, so keep quiet.
warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", message=".*supports_statement_cache.*")

ip = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port_ = sys.argv[2] if len(sys.argv) > 2 else "6667"
username_ = "root"
password_ = "root"


def show(title, dataset):
    print(f"--- {title}")
    with dataset:
        print(dataset.todf().to_string(index=False))


session = Session(ip, port_, username_, password_, fetch_size=1024, zone_id="UTC+8")
session.open(False)
print("time zone:", session.get_time_zone())

# Start from a clean tree so the example can be re-run.
for sg in ["root.sg_test_01", "root.sg_test_02", "root.sg_test_03", "root.sg_test_04"]:
    if session.check_time_series_exists(sg + ".**"):
        session.delete_storage_group(sg)

# Databases
session.set_storage_group("root.sg_test_01")
session.set_storage_group("root.sg_test_02")
session.set_storage_group("root.sg_test_03")
session.set_storage_group("root.sg_test_04")
session.delete_storage_group("root.sg_test_02")
session.delete_storage_groups(["root.sg_test_03", "root.sg_test_04"])

# Time series
session.create_time_series("root.sg_test_01.d_01.s_01", TSDataType.BOOLEAN, TSEncoding.PLAIN, Compressor.SNAPPY)
session.create_time_series("root.sg_test_01.d_01.s_02", TSDataType.INT32, TSEncoding.PLAIN, Compressor.SNAPPY)
session.create_time_series("root.sg_test_01.d_01.s_03", TSDataType.INT64, TSEncoding.PLAIN, Compressor.SNAPPY)
session.create_time_series(
    "root.sg_test_01.d_02.s_01",
    TSDataType.BOOLEAN,
    TSEncoding.PLAIN,
    Compressor.SNAPPY,
    None,
    {"tag1": "v1"},
    {"description": "v1"},
    "temperature",
)
session.create_multi_time_series(
    ["root.sg_test_01.d_01.s_04", "root.sg_test_01.d_01.s_05", "root.sg_test_01.d_01.s_06"],
    [TSDataType.FLOAT, TSDataType.DOUBLE, TSDataType.TEXT],
    [TSEncoding.PLAIN] * 3,
    [Compressor.SNAPPY] * 3,
)
session.create_aligned_time_series(
    "root.sg_test_01.d_03",
    ["s_01", "s_02"],
    [TSDataType.INT64, TSDataType.DOUBLE],
    [TSEncoding.PLAIN, TSEncoding.GORILLA],
    [Compressor.SNAPPY, Compressor.SNAPPY],
)
session.delete_time_series(["root.sg_test_01.d_01.s_06"])
print("s_06 exists:", session.check_time_series_exists("root.sg_test_01.d_01.s_06"))
print("s_01 exists:", session.check_time_series_exists("root.sg_test_01.d_01.s_01"))

# Tablet and NumpyTablet
measurements_ = ["s_01", "s_02", "s_03", "s_04", "s_05", "s_06"]
data_types_ = [
    TSDataType.BOOLEAN,
    TSDataType.INT32,
    TSDataType.INT64,
    TSDataType.FLOAT,
    TSDataType.DOUBLE,
    TSDataType.TEXT,
]
values_ = [
    [False, 10, 11, 1.1, 10011.1, "test01"],
    [True, 100, 11111, 1.25, 101.0, "test02"],
    [False, 100, 1, 188.1, 688.25, "test03"],
    [True, 0, 0, 0, 6.25, "test04"],
]
session.insert_tablet(Tablet("root.sg_test_01.d_01", measurements_, data_types_, values_, [1, 2, 3, 4]))
np_values_ = [
    np.array([False, True, False, True], TSDataType.BOOLEAN.np_dtype()),
    np.array([10, 100, 100, 0], TSDataType.INT32.np_dtype()),
    np.array([11, 11111, 1, 0], TSDataType.INT64.np_dtype()),
    np.array([1.1, 1.25, 188.1, 0], TSDataType.FLOAT.np_dtype()),
    np.array([10011.1, 101.0, 688.25, 6.25], TSDataType.DOUBLE.np_dtype()),
    np.array(["test01", "test02", "test03", "test04"]),
]
np_timestamps_ = np.array([1, 2, 3, 4], TSDataType.INT64.np_dtype())
session.insert_tablet(NumpyTablet("root.sg_test_01.d_02", measurements_, data_types_, np_values_, np_timestamps_))
session.insert_tablets(
    [
        Tablet("root.sg_test_01.d_01", measurements_, data_types_, values_, [5, 6, 7, 8]),
        Tablet("root.sg_test_01.d_02", measurements_, data_types_, values_, [5, 6, 7, 8]),
    ]
)

# Records
session.insert_record(
    "root.sg_test_01.d_01",
    9,
    ["s_01", "s_02", "s_03"],
    [TSDataType.BOOLEAN, TSDataType.INT32, TSDataType.INT64],
    [False, 22, 33],
)
session.insert_records(
    ["root.sg_test_01.d_01", "root.sg_test_01.d_02"],
    [10, 10],
    [["s_01", "s_02"], ["s_01", "s_02"]],
    [[TSDataType.BOOLEAN, TSDataType.INT32]] * 2,
    [[True, 77], [False, 88]],
)
session.insert_records_of_one_device(
    "root.sg_test_01.d_01",
    [12, 11],
    [["s_01", "s_02"], ["s_01", "s_02"]],
    [[TSDataType.BOOLEAN, TSDataType.INT32]] * 2,
    [[True, 12], [False, 11]],
)
session.insert_str_record("root.sg_test_01.d_04", 1, ["s_01", "s_02", "s_03"], ["true", "3.2", "text"])
session.insert_aligned_record(
    "root.sg_test_01.d_03", 1, ["s_01", "s_02"], [TSDataType.INT64, TSDataType.DOUBLE], [1, 1.5]
)

# SQL
session.execute_non_query_statement("insert into root.sg_test_01.d_01(timestamp, s_02) values(13, 188)")
show("SELECT * FROM root.sg_test_01.d_01", session.execute_query_statement("SELECT * FROM root.sg_test_01.d_01"))
show("SELECT ** FROM root", session.execute_query_statement("SELECT ** FROM root"))
show(
    "SELECT count(s_02), avg(s_02) FROM root.sg_test_01.d_01",
    session.execute_query_statement("SELECT count(s_02), avg(s_02) FROM root.sg_test_01.d_01"),
)
show("SHOW TIMESERIES", session.execute_query_statement("SHOW TIMESERIES"))
show("raw data query", session.execute_raw_data_query(["root.sg_test_01.d_01.s_02"], 1, 5))
show("last data query", session.execute_last_data_query(["root.sg_test_01.d_01.s_02"], 0))

# Schema template
template = Template(name="template_python", share_time=False)
m_node_x = MeasurementNode("x", TSDataType.FLOAT, TSEncoding.RLE, Compressor.SNAPPY)
m_node_y = MeasurementNode("y", TSDataType.INT64, TSEncoding.RLE, Compressor.SNAPPY)
template.add_template(m_node_x)
template.add_template(m_node_y)
session.create_schema_template(template)
session.set_schema_template("template_python", "root.sg_test_01.d_05")
print("templates:", session.show_all_templates())
print("count:", session.count_measurements_in_template("template_python"))
print("is measurement x:", session.is_measurement_in_template("template_python", "x"))
print("path exists y:", session.is_path_exist_in_template("template_python", "y"))
print("measurements:", session.show_measurements_in_template("template_python"))
print("set on:", session.show_paths_template_set_on("template_python"))
print("using on:", session.show_paths_template_using_on("template_python"))
session.unset_schema_template("template_python", "root.sg_test_01.d_05")
session.drop_schema_template("template_python")

# Pandas
show("SELECT * FROM root.*  (todf)", session.execute_query_statement("SELECT * FROM root.*"))
session.close()

# DB-API
from iotdb.dbapi import connect  # noqa: E402

conn = connect(ip, port_, username_, password_, fetch_size=1024, zone_id="UTC+8", sqlalchemy_mode=False)
cursor = conn.cursor()
cursor.executemany(
    "insert into root.cursor(timestamp,temperature) values(%(timestamp)s,%(temperature)s)",
    [{"timestamp": i, "temperature": i} for i in range(1, 6)],
)
cursor.execute("SELECT ** FROM root.cursor WHERE time < %(time)s", {"time": "1970-01-01T08:00:00.004"})
print("--- DB-API description:", cursor.description)
for row in cursor.fetchall():
    print(row)
cursor.close()
conn.close()

# SQLAlchemy
try:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"iotdb://root:root@{ip}:{port_}")
    with engine.connect() as connect:
        result = connect.execute(text("SELECT ** FROM root.cursor"))
        print("--- SQLAlchemy:")
        for row in result.fetchall():
            print(row)
except ImportError as e:
    print("SQLAlchemy not installed:", e)
print("done")
