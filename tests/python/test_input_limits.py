"""Hostile paths through the official 2.0.x client: a device path of 10,000 levels or a node
name of several MiB is refused with ILLEGAL_PATH (509) at decode/parse time, the server keeps
serving every session, and paths right at the limits still insert, query and flush."""

from __future__ import annotations

import numpy as np
import pytest
from iotdb.Session import Session
from iotdb.utils.IoTDBConstants import TSDataType
from iotdb.utils.NumpyTablet import NumpyTablet

from clientutil import expect_error, query_df
from conftest import require_client

require_client("2.0")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ILLEGAL_PATH = 509
#: The limits iotdb-rs enforces (model::path::MAX_PATH_DEPTH / MAX_NODE_NAME_BYTES).
MAX_DEPTH = 4096
MAX_NODE_BYTES = 1 << 20


def deep_device(prefix: str, levels: int) -> str:
    """A device path of exactly ``levels`` levels, ``root`` included."""
    extra = levels - prefix.count(".") - 1
    return prefix + "".join(f".n{i}" for i in range(extra))


def one_point_tablet(device: str, measurement: str = "s1") -> NumpyTablet:
    return NumpyTablet(
        device,
        [measurement],
        [TSDataType.INT64],
        [np.array([7], dtype=">i8")],
        np.array([1], dtype=">i8"),
    )


def assert_other_session_serves(server) -> None:
    other = Session(server.host, server.port, "root", "root")
    other.open(False)
    try:
        other.execute_non_query_statement("insert into root.ok.d(time, s) values(1, 5)")
        assert query_df(other, "select s from root.ok.d")["root.ok.d.s"].tolist() == [5]
    finally:
        other.close()


def test_deep_paths_are_refused_and_the_server_keeps_serving(server, session):
    too_deep = deep_device("root.lim", 10_000)
    err = expect_error(ILLEGAL_PATH, session.insert_tablet, one_point_tablet(too_deep))
    assert "10000 levels" in str(err)
    expect_error(
        ILLEGAL_PATH,
        session.execute_non_query_statement,
        f"insert into {too_deep}(time, s1) values(1, 1)",
    )
    expect_error(ILLEGAL_PATH, session.execute_query_statement, f"select s1 from {too_deep}")
    # The refused requests left nothing behind, and the same session still works.
    assert query_df(session, "count timeseries root.**").iloc[0, 0] == 0
    session.execute_non_query_statement("flush")
    assert_other_session_serves(server)


def test_paths_at_the_limits_insert_query_and_flush(server, session):
    at_limit = deep_device("root.lim", MAX_DEPTH - 1)  # + the measurement = MAX_DEPTH levels
    session.insert_tablet(one_point_tablet(at_limit))
    long_name = "d" + "x" * (MAX_NODE_BYTES - 1)
    session.insert_tablet(one_point_tablet(f"root.lim.{long_name}"))
    counts = query_df(session, "select count(*) from root.**")
    assert counts.shape == (1, 2) and counts.iloc[0].tolist() == [1, 1]
    session.execute_non_query_statement("flush")
    counts = query_df(session, "select count(*) from root.**")
    assert counts.iloc[0].tolist() == [1, 1]
    assert_other_session_serves(server)


def test_huge_node_names_are_refused(server, session):
    huge = "d" + "x" * (4 << 20)
    err = expect_error(ILLEGAL_PATH, session.insert_tablet, one_point_tablet(f"root.lim.{huge}"))
    assert len(str(err)) < 1000, "the error message must not echo megabytes of input"
    expect_error(
        ILLEGAL_PATH,
        session.execute_non_query_statement,
        f"insert into root.lim.{huge}(time, s1) values(1, 1)",
    )
    assert_other_session_serves(server)
