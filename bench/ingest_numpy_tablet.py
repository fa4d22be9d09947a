#!/usr/bin/env python3
"""Ingestion benchmark through the official apache-iotdb 2.0.x client (a benchmark, not a test).

Workload: ``NumpyTablet`` of ROWS rows x COLS DOUBLE columns (default 10,000 x 10 = 100,000 points),
repeated until at least POINTS points (default 10 M) have been written to one device.

It prints, from one run:

* ``client serialization``: the client's own cost per tablet without any network: building the
  ``NumpyTablet`` (its sort check and dtype conversion), ``Session.gen_insert_tablet_req`` (which
  serializes timestamps and values) and encoding the Thrift message with the accelerated binary
  protocol, i.e. everything ``Session.insert_tablet`` does before bytes reach the socket.
  This is the ceiling for any server as seen from this client.
* ``end-to-end``: ``Session.insert_tablet`` of the same kind of tablets, timed around the call
  (client serialization + network + server), what a user of the client sees.
* ``server``: the same requests, encoded beforehand (untimed), written to the connection and the
  reply read back: the time the server needs to receive, decode, apply and acknowledge a tablet.

and the ratios between them. Run it with ``scripts/bench-ingest`` (starts a release server on a
temporary data directory), or against a running server with ``--host/--port``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
import time

import numpy as np
from iotdb.Session import Session
from iotdb.thrift.rpc.IClientRPCService import Client, TSOpenSessionReq, insertTablet_args
from iotdb.utils.IoTDBConstants import Compressor, TSDataType, TSEncoding
from iotdb.utils.NumpyTablet import NumpyTablet
from thrift.protocol import TBinaryProtocol
from thrift.Thrift import TMessageType
from thrift.transport import TSocket, TTransport


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=6667)
    p.add_argument("--rows", type=int, default=10_000, help="rows per tablet")
    p.add_argument("--cols", type=int, default=10, help="DOUBLE columns per tablet")
    p.add_argument("--points", type=int, default=10_000_000, help="minimum points per phase")
    p.add_argument("--database", default="root.bench")
    return p.parse_args(argv)


class Workload:
    """Values shared by all tablets (big-endian float64, as the client wants them) and per-tablet times."""

    def __init__(self, rows: int, cols: int, points: int):
        self.rows, self.cols = rows, cols
        self.tablets = -(-points // (rows * cols))  # ceil
        rng = np.random.default_rng(42)
        self.values = [rng.random(rows).astype(">f8") for _ in range(cols)]
        self.measurements = [f"v{i}" for i in range(cols)]
        self.types = [TSDataType.DOUBLE] * cols
        self.base = np.arange(rows, dtype=">i8")

    @property
    def points_per_tablet(self) -> int:
        return self.rows * self.cols

    def timestamps(self, i: int) -> np.ndarray:
        """Times of tablet ``i``: consecutive, so every tablet appends."""
        return self.base + np.int64(i * self.rows)

    def tablet(self, device: str, ts: np.ndarray) -> NumpyTablet:
        return NumpyTablet(device, self.measurements, self.types, list(self.values), ts)


def encode_insert_tablet(session: Session, tablet: NumpyTablet, session_id: int | None = None) -> bytes:
    """The bytes ``Client.insertTablet`` would put in the frame for this tablet."""
    req = session.gen_insert_tablet_req(tablet)
    if session_id is not None:
        req.sessionId = session_id
    buf = TTransport.TMemoryBuffer()
    proto = TBinaryProtocol.TBinaryProtocolAccelerated(buf)
    proto.writeMessageBegin("insertTablet", TMessageType.CALL, 0)
    insertTablet_args(req=req).write(proto)
    proto.writeMessageEnd()
    return buf.getvalue()


def phase_client_serialization(session: Session, w: Workload, device: str) -> tuple[float, int]:
    """Seconds spent by the client building and encoding ``w.tablets`` tablets, and bytes produced."""
    spent, size = 0.0, 0
    for i in range(w.tablets):
        ts = w.timestamps(i)
        t0 = time.perf_counter()
        payload = encode_insert_tablet(session, w.tablet(device, ts))
        spent += time.perf_counter() - t0
        size += len(payload)
    return spent, size


def phase_end_to_end(session: Session, w: Workload, device: str) -> float:
    """Seconds spent in ``Session.insert_tablet`` for ``w.tablets`` tablets (tablet building included)."""
    spent = 0.0
    for i in range(w.tablets):
        ts = w.timestamps(i)
        t0 = time.perf_counter()
        session.insert_tablet(w.tablet(device, ts))
        spent += time.perf_counter() - t0
    return spent


def phase_server(host: str, port: int, session: Session, w: Workload, device: str) -> float:
    """Seconds between writing a pre-encoded insertTablet frame and reading its reply, summed."""
    transport = TTransport.TFramedTransport(TSocket.TSocket(host, port))
    transport.open()
    try:
        client = Client(TBinaryProtocol.TBinaryProtocolAccelerated(transport))
        resp = client.openSession(
            TSOpenSessionReq(
                client_protocol=2,
                zoneId="UTC",
                username="root",
                password="root",
                configuration={"version": "V_1_0"},
            )
        )
        if resp.status.code != 200:
            raise RuntimeError(f"openSession failed: {resp.status}")
        sid = resp.sessionId
        client.requestStatementId(sid)
        spent = 0.0
        for i in range(w.tablets):
            payload = encode_insert_tablet(session, w.tablet(device, w.timestamps(i)), sid)
            t0 = time.perf_counter()
            transport.write(payload)
            transport.flush()
            status = client.recv_insertTablet()
            spent += time.perf_counter() - t0
            if status.code != 200:
                raise RuntimeError(f"insertTablet #{i} failed: {status}")
        return spent
    finally:
        transport.close()


def create_schema(session: Session, database: str, devices: list[str], w: Workload) -> None:
    session.set_storage_group(database)
    for d in devices:
        paths = [f"{d}.{m}" for m in w.measurements]
        session.create_multi_time_series(paths, w.types, [TSEncoding.GORILLA] * w.cols, [Compressor.SNAPPY] * w.cols)


def count_points(session: Session, device: str) -> int:
    ds = session.execute_query_statement(f"select count(*) from {device}")
    try:
        df = ds.todf()
    finally:
        ds.close_operation_handle()
    return int(df.iloc[0].sum())


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    w = Workload(args.rows, args.cols, args.points)
    total = w.tablets * w.points_per_tablet
    e2e_dev, raw_dev = f"{args.database}.e2e", f"{args.database}.raw"

    session = Session(args.host, args.port, "root", "root")
    session.open(False)
    try:
        create_schema(session, args.database, [e2e_dev, raw_dev], w)
        # warm-up (not counted): one tablet per device at negative times
        warm = w.base - np.int64(2 * args.rows)
        session.insert_tablet(w.tablet(e2e_dev, warm))
        session.insert_tablet(w.tablet(raw_dev, warm))

        ser_s, ser_bytes = phase_client_serialization(session, w, f"{args.database}.ser")
        e2e_s = phase_end_to_end(session, w, e2e_dev)
        srv_s = phase_server(args.host, args.port, session, w, raw_dev)

        stored = {d: count_points(session, d) for d in (e2e_dev, raw_dev)}
    finally:
        session.close()

    expected = total + w.points_per_tablet
    for d, n in stored.items():
        if n != expected:
            print(f"ERROR: {d} holds {n} points, expected {expected}", file=sys.stderr)
            return 1

    ser_rate, e2e_rate, srv_rate = total / ser_s, total / e2e_s, total / srv_s
    version = importlib.metadata.version("apache-iotdb")
    mb = ser_bytes / w.tablets / 1e6
    print(f"NumpyTablet ingestion, apache-iotdb {version} client, {args.host}:{args.port}")
    print(
        f"workload: {w.tablets} tablets x {args.rows:,} rows x {args.cols} DOUBLE = {total:,} points "
        f"per phase ({mb:.2f} MB per request)"
    )
    print(f"  client serialization (no network) : {ser_rate / 1e6:8.2f} M points/s  ({ser_s:6.2f} s)")
    print(f"  end-to-end Session.insert_tablet  : {e2e_rate / 1e6:8.2f} M points/s  ({e2e_s:6.2f} s)")
    print(f"  server (pre-encoded requests)     : {srv_rate / 1e6:8.2f} M points/s  ({srv_s:6.2f} s)")
    print(f"  ratio end-to-end / client serialization : {e2e_rate / ser_rate:5.2f}")
    print(f"  ratio server / client serialization     : {srv_rate / ser_rate:5.2f}")
    print(f"  all {2 * expected:,} written points read back with count(*)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
