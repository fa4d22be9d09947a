"""``Session``: the official client's session API, remote (IoTDB client protocol) or embedded.

Remote: ``Session(host, port, user, password, fetch_size=..., zone_id=...)`` or
``Session.init_from_node_urls(["h1:6667", "h2:6667"], ...)`` (failover between nodes).
Embedded: ``Session.embedded("./data")`` runs the engine in this process on a data
directory in the server's format. Every call goes to the Rust core (``iotdb._native``).
"""

from __future__ import annotations

import time

from iotdb._native import NativeSession
from iotdb.template.TemplateQueryType import TemplateQueryType
from iotdb.utils._dataframe import tablet_args
from iotdb.utils.exception import IoTDBConnectionException, StatementExecutionException
from iotdb.utils.Field import date_to_int
from iotdb.utils.IoTDBConstants import TSDataType
from iotdb.utils.SessionDataSet import SessionDataSet

__all__ = ["IoTDBConnectionException", "Session", "StatementExecutionException"]


def _pairs(d):
    return None if not d else [(str(k), str(v)) for k, v in d.items()]


def _pick(lst, i):
    return None if lst is None else lst[i]


def _specs(what, paths, data_types, encodings, compressors, props=None, tags=None, attributes=None, aliases=None):
    """Series specs as the native layer takes them, one per path (lists checked for length)."""
    n = len(paths)
    if not (len(data_types) == len(encodings) == len(compressors) == n):
        raise ValueError(
            f"{what}: {n} paths, {len(data_types)} data types, {len(encodings)} encodings, "
            f"{len(compressors)} compressors"
        )
    return [
        (
            paths[i],
            data_types[i].value,
            encodings[i].value,
            compressors[i].value,
            _pairs(_pick(props, i)),
            _pairs(_pick(tags, i)),
            _pairs(_pick(attributes, i)),
            _pick(aliases, i),
        )
        for i in range(n)
    ]


def _record_values(data_types, values):
    return [date_to_int(v) if t == TSDataType.DATE else v for t, v in zip(data_types, values)]


class Session:
    DEFAULT_FETCH_SIZE = 5000
    DEFAULT_USER = "root"
    DEFAULT_PASSWORD = "root"
    DEFAULT_ZONE_ID = time.strftime("%z")

    def __init__(
        self,
        host=None,
        port=None,
        user=DEFAULT_USER,
        password=DEFAULT_PASSWORD,
        fetch_size=DEFAULT_FETCH_SIZE,
        zone_id=DEFAULT_ZONE_ID,
        enable_redirection=True,
        use_ssl=False,
        ca_certs=None,
        connection_timeout_in_ms=None,
        max_retry=None,
    ):
        self.__host = host
        self.__port = port
        self.__node_urls = None if host is None else [f"{host}:{port}"]
        self.__user = user
        self.__password = password
        self.__fetch_size = fetch_size
        self.__zone_id = zone_id
        self.__connect_timeout_ms = connection_timeout_in_ms or 10_000
        self.__embedded_path = None
        self.__wal_mode = None
        self.__memory_budget_mb = None
        self.__native = None
        if use_ssl:
            raise IoTDBConnectionException("SSL connections are not supported by this client")

    @classmethod
    def init_from_node_urls(
        cls,
        node_urls,
        user=DEFAULT_USER,
        password=DEFAULT_PASSWORD,
        fetch_size=DEFAULT_FETCH_SIZE,
        zone_id=DEFAULT_ZONE_ID,
        enable_redirection=True,
        use_ssl=False,
        ca_certs=None,
        connection_timeout_in_ms=None,
        max_retry=None,
    ):
        if not node_urls:
            raise ValueError("node_urls is empty")
        s = cls(
            None,
            None,
            user,
            password,
            fetch_size,
            zone_id,
            enable_redirection,
            use_ssl,
            ca_certs,
            connection_timeout_in_ms,
        )
        s._Session__node_urls = list(node_urls)
        return s

    @classmethod
    def embedded(
        cls,
        path,
        zone_id=DEFAULT_ZONE_ID,
        user=DEFAULT_USER,
        wal_mode=None,
        fetch_size=DEFAULT_FETCH_SIZE,
        memory_budget_mb=None,
    ):
        """A session on an in-process engine over data directory ``path`` (opened by ``open()``).

        ``wal_mode`` is ``"SYNC"``, ``"ASYNC"`` (default) or ``"DISABLE"``; closing the last
        session on a directory flushes its data into TsFiles. ``memory_budget_mb`` is the
        server's ``memory_budget_mb`` (default 2048): a third of it bounds the memtables, and
        writes wait for the background flush only when they hold that much (0: no budget; a
        writer then flushes on its own thread once a memtable reaches twice its threshold).
        The first session opened on a directory sets these for the engine.
        """
        s = cls(None, None, user, cls.DEFAULT_PASSWORD, fetch_size, zone_id)
        s._Session__embedded_path = str(path)
        s._Session__wal_mode = wal_mode
        s._Session__memory_budget_mb = memory_budget_mb
        return s

    # ------------------------------------------------------------------ connection
    def open(self, enable_rpc_compression=False):
        if self.__native is not None and self.__native.is_open():
            return
        if self.__embedded_path is not None:
            self.__native = NativeSession.embedded(
                self.__embedded_path, self.__zone_id, self.__user, self.__wal_mode, self.__memory_budget_mb
            )
        else:
            self.__native = NativeSession.remote(
                self.__node_urls,
                self.__user,
                self.__password,
                int(self.__fetch_size),
                self.__zone_id,
                bool(enable_rpc_compression),
                int(self.__connect_timeout_ms),
            )

    def is_open(self):
        return self.__native is not None and self.__native.is_open()

    def close(self):
        if self.__native is not None:
            self.__native.close()

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def _s(self):
        if self.__native is None:
            raise IoTDBConnectionException("the session is not open")
        return self.__native

    def get_time_zone(self):
        return self._s.time_zone() if self.__native is not None else self.__zone_id

    def set_time_zone(self, zone_id):
        self._s.set_time_zone(zone_id)
        self.__zone_id = zone_id

    # ------------------------------------------------------------------ databases
    def set_storage_group(self, group_name):
        self._s.create_database(group_name)
        return 0

    def create_database(self, database):
        self._s.create_database(database)
        return 0

    def delete_storage_group(self, storage_group):
        self._s.delete_databases([storage_group])
        return 0

    def delete_storage_groups(self, storage_group_lst):
        self._s.delete_databases(list(storage_group_lst))
        return 0

    def delete_database(self, database):
        self.delete_storage_group(database)
        return 0

    def delete_databases(self, databases):
        self.delete_storage_groups(databases)
        return 0

    # ------------------------------------------------------------------ time series

    def create_time_series(
        self, ts_path, data_type, encoding, compressor, props=None, tags=None, attributes=None, alias=None
    ):
        spec = (
            ts_path,
            data_type.value,
            encoding.value,
            compressor.value,
            _pairs(props),
            _pairs(tags),
            _pairs(attributes),
            alias,
        )
        self._s.create_timeseries([spec])
        return 0

    def create_multi_time_series(
        self,
        ts_path_lst,
        data_type_lst,
        encoding_lst,
        compressor_lst,
        props_lst=None,
        tags_lst=None,
        attributes_lst=None,
        alias_lst=None,
    ):
        specs = _specs(
            "create_multi_time_series",
            ts_path_lst,
            data_type_lst,
            encoding_lst,
            compressor_lst,
            props_lst,
            tags_lst,
            attributes_lst,
            alias_lst,
        )
        self._s.create_timeseries(specs)
        return 0

    def create_aligned_time_series(
        self,
        device_id,
        measurements_lst,
        data_type_lst,
        encoding_lst,
        compressor_lst,
        measurement_alias_lst=None,
        tags_lst=None,
        attributes_lst=None,
    ):
        specs = _specs(
            "create_aligned_time_series",
            measurements_lst,
            data_type_lst,
            encoding_lst,
            compressor_lst,
            None,
            tags_lst,
            attributes_lst,
            measurement_alias_lst,
        )
        self._s.create_aligned_timeseries(device_id, specs)
        return 0

    def delete_time_series(self, paths_list):
        self._s.delete_timeseries(list(paths_list))
        return 0

    def check_time_series_exists(self, path):
        ds = self.execute_query_statement(f"SHOW TIMESERIES {path}")
        try:
            return ds.has_next()
        finally:
            ds.close_operation_handle()

    def delete_data(self, paths_list, end_time):
        self._s.delete_data(list(paths_list), -(2**63), end_time)
        return 0

    def delete_data_in_range(self, paths_list, start_time, end_time):
        self._s.delete_data(list(paths_list), start_time, end_time)
        return 0

    # ------------------------------------------------------------------ inserts

    def insert_tablet(self, tablet):
        self._s.insert_tablets([tablet._native_args()], False)
        return 0

    def insert_aligned_tablet(self, tablet):
        self._s.insert_tablets([tablet._native_args()], True)
        return 0

    def insert_tablets(self, tablet_lst):
        self._s.insert_tablets([t._native_args() for t in tablet_lst], False)
        return 0

    def insert_aligned_tablets(self, tablet_lst):
        self._s.insert_tablets([t._native_args() for t in tablet_lst], True)
        return 0

    def insert_dataframe(self, df, device_id, time_column=None, aligned=False, data_types=None):
        """Writes a pandas DataFrame to ``device_id`` in one call (one tablet, serialized in Rust).

        Times come from ``time_column`` or, when it is None, the index: integers as they are
        (epoch time in the server's precision) or datetimes (naive = UTC) as epoch
        milliseconds; unsorted times are sorted. Every other column is a measurement named
        after it, typed by its dtype (see ``iotdb.utils._dataframe``) unless ``data_types``
        (``{column: TSDataType}``) says otherwise; NaN/None/NaT/``pd.NA`` are nulls.
        ``aligned=True`` writes an aligned device. Bad input raises ``TypeError`` or
        ``ValueError`` before anything is sent.
        """
        args = tablet_args(df, device_id, time_column, data_types)
        if args is not None:
            self._s.insert_tablets([args], bool(aligned))
        return 0

    def _records(self, device_ids, times, measurements_lst, types_lst, values_lst, aligned):
        n = len(device_ids)
        if not (len(times) == len(measurements_lst) == len(types_lst) == len(values_lst) == n):
            raise ValueError("insert_records: device_ids, times, measurements, types and values differ in length")
        ms_out, ts_out, vs_out = [], [], []
        for ms, ts, vs in zip(measurements_lst, types_lst, values_lst):
            if not (len(ms) == len(ts) == len(vs)):
                raise ValueError(f"insert_records: {len(ms)} measurements, {len(ts)} data types, {len(vs)} values")
            keep = [k for k, v in enumerate(vs) if v is not None]
            ms_out.append([ms[k] for k in keep])
            ts_out.append([ts[k].value for k in keep])
            vs_out.append(_record_values([ts[k] for k in keep], [vs[k] for k in keep]))
        self._s.insert_records(list(device_ids), list(times), ms_out, ts_out, vs_out, aligned)
        return 0

    def insert_record(self, device_id, timestamp, measurements, data_types, values):
        self._records([device_id], [timestamp], [measurements], [data_types], [values], False)
        return 0

    def insert_aligned_record(self, device_id, timestamp, measurements, data_types, values):
        self._records([device_id], [timestamp], [measurements], [data_types], [values], True)
        return 0

    def insert_records(self, device_ids, times, measurements_lst, types_lst, values_lst):
        self._records(device_ids, times, measurements_lst, types_lst, values_lst, False)
        return 0

    def insert_aligned_records(self, device_ids, times, measurements_lst, types_lst, values_lst):
        self._records(device_ids, times, measurements_lst, types_lst, values_lst, True)
        return 0

    def insert_records_of_one_device(self, device_id, times_list, measurements_list, types_list, values_list):
        order = sorted(range(len(times_list)), key=lambda i: times_list[i])
        self.insert_records_of_one_device_sorted(
            device_id,
            [times_list[i] for i in order],
            [measurements_list[i] for i in order],
            [types_list[i] for i in order],
            [values_list[i] for i in order],
        )
        return 0

    def insert_records_of_one_device_sorted(self, device_id, times_list, measurements_list, types_list, values_list):
        self._records([device_id] * len(times_list), times_list, measurements_list, types_list, values_list, False)
        return 0

    def insert_aligned_records_of_one_device(self, device_id, times_list, measurements_list, types_list, values_list):
        order = sorted(range(len(times_list)), key=lambda i: times_list[i])
        self._records(
            [device_id] * len(times_list),
            [times_list[i] for i in order],
            [measurements_list[i] for i in order],
            [types_list[i] for i in order],
            [values_list[i] for i in order],
            True,
        )
        return 0

    def _str_records(self, device_ids, times, measurements_lst, values_lst, aligned):
        self._s.insert_string_records(
            list(device_ids),
            list(times),
            [list(m) for m in measurements_lst],
            [[str(v) for v in vs] for vs in values_lst],
            aligned,
        )
        return 0

    def insert_str_record(self, device_id, timestamp, measurements, string_values):
        if isinstance(measurements, str):
            measurements, string_values = [measurements], [string_values]
        self._str_records([device_id], [timestamp], [measurements], [string_values], False)
        return 0

    def insert_aligned_str_record(self, device_id, timestamp, measurements, string_values):
        if isinstance(measurements, str):
            measurements, string_values = [measurements], [string_values]
        self._str_records([device_id], [timestamp], [measurements], [string_values], True)
        return 0

    def insert_string_records_of_one_device(self, device_id, times, measurements_list, values_list, have_sorted=False):
        self._str_records([device_id] * len(times), times, measurements_list, values_list, False)
        return 0

    def insert_aligned_string_records_of_one_device(
        self, device_id, times, measurements_list, values, have_sorted=False
    ):
        self._str_records([device_id] * len(times), times, measurements_list, values, True)
        return 0

    def test_insert_tablet(self, tablet):
        tablet._native_args()

    def test_insert_tablets(self, tablet_list):
        for t in tablet_list:
            t._native_args()

    def test_insert_record(self, device_id, timestamp, measurements, data_types, values):
        self._s.is_open()

    def test_insert_records(self, device_ids, times, measurements_lst, types_lst, values_lst):
        self._s.is_open()

    # ------------------------------------------------------------------ SQL
    def execute_query_statement(self, sql, timeout=0):
        return SessionDataSet(self._s.execute(sql))

    def execute_non_query_statement(self, sql):
        res = self._s.execute(sql)
        if res is not None:
            res.close()
        return 0

    def execute_statement(self, sql, timeout=0):
        res = self._s.execute(sql)
        return None if res is None else SessionDataSet(res)

    def execute_raw_data_query(self, paths, start_time, end_time):
        return SessionDataSet(self._s.raw_data_query(list(paths), start_time, end_time))

    def execute_last_data_query(self, paths, last_time):
        return SessionDataSet(self._s.last_data_query(list(paths), last_time))

    # ------------------------------------------------------------------ templates
    def create_schema_template(self, template):
        self._s.create_template(template.get_name(), bool(template.is_share_time()), template._measurements())
        return 0

    def drop_schema_template(self, template_name):
        self._s.drop_template(template_name)
        return 0

    def add_measurements_in_template(
        self, template_name, measurements_path, data_types, encodings, compressors, is_aligned=False
    ):
        rows = [
            (p, bool(is_aligned), t.value, e.value, c.value)
            for p, t, e, c in zip(measurements_path, data_types, encodings, compressors)
        ]
        self._s.append_template(template_name, rows)
        return 0

    def delete_node_in_template(self, template_name, path):
        self._s.prune_template(template_name, path)
        return 0

    def set_schema_template(self, template_name, prefix_path):
        self._s.set_template(template_name, prefix_path)
        return 0

    def unset_schema_template(self, template_name, prefix_path):
        self._s.unset_template(template_name, prefix_path)
        return 0

    def create_timeseries_using_schema_template(self, device_path_list):
        self._s.activate_template(list(device_path_list))
        return 0

    def _template(self, kind, name, path=""):
        return self._s.template_query(kind.value, name, path or "")

    def count_measurements_in_template(self, template_name):
        return self._template(TemplateQueryType.COUNT_MEASUREMENTS, template_name)

    def is_measurement_in_template(self, template_name, path):
        return self._template(TemplateQueryType.IS_MEASUREMENT, template_name, path)

    def is_path_exist_in_template(self, template_name, path):
        return self._template(TemplateQueryType.PATH_EXIST, template_name, path)

    def show_measurements_in_template(self, template_name, pattern=""):
        return self._template(TemplateQueryType.SHOW_MEASUREMENTS, template_name, pattern)

    def show_all_templates(self):
        return self._template(TemplateQueryType.SHOW_TEMPLATES, "")

    def show_paths_template_set_on(self, template_name):
        return self._template(TemplateQueryType.SHOW_SET_TEMPLATES, template_name)

    def show_paths_template_using_on(self, template_name):
        return self._template(TemplateQueryType.SHOW_USING_TEMPLATES, template_name)
