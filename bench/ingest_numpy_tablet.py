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

and the ratios between them. The three are measured interleaved, tablet by tablet, so that noise
from other processes affects them alike. Run it with ``scripts/bench-ingest`` (starts a release server on a
temporary data directory), or against a running server with ``--host/--port``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
import time

import numpy as np
from benchutil import count_points
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


class RawConnection:
    """A second connection that sends pre-encoded insertTablet frames and reads the replies."""

    def __init__(self, host: str, port: int):
        self.transport = TTransport.TFramedTransport(TSocket.TSocket(host, port))
        self.transport.open()
        self.client = Client(TBinaryProtocol.TBinaryProtocolAccelerated(self.transport))
        resp = self.client.openSession(
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
        self.session_id = resp.sessionId
        self.client.requestStatementId(self.session_id)

    def send(self, payload: bytes) -> float:
        """Writes one frame, reads the reply; returns the seconds in between."""
        t0 = time.perf_counter()
        self.transport.write(payload)
        self.transport.flush()
        status = self.client.recv_insertTablet()
        spent = time.perf_counter() - t0
        if status.code != 200:
            raise RuntimeError(f"insertTablet failed: {status}")
        return spent

    def close(self) -> None:
        self.transport.close()


def run_phases(
    session: Session, raw: RawConnection, w: Workload, devices: dict[str, str]
) -> tuple[dict[str, list[float]], int]:
    """Runs the three measurements interleaved tablet by tablet, so machine noise hits them alike.

    Returns the per-tablet seconds of each phase (``ser``, ``e2e``, ``srv``) and the total bytes of
    the encoded requests.
    """
    spent: dict[str, list[float]] = {"ser": [], "e2e": [], "srv": []}
    size = 0
    for i in range(w.tablets):
        ts = w.timestamps(i)
        # client serialization: tablet building + request building + Thrift encoding, no I/O
        t0 = time.perf_counter()
        payload = encode_insert_tablet(session, w.tablet(devices["ser"], ts))
        spent["ser"].append(time.perf_counter() - t0)
        size += len(payload)
        # end-to-end through the official client
        t0 = time.perf_counter()
        session.insert_tablet(w.tablet(devices["e2e"], ts))
        spent["e2e"].append(time.perf_counter() - t0)
        # server: the same request, encoded beforehand (untimed)
        payload = encode_insert_tablet(session, w.tablet(devices["srv"], ts), raw.session_id)
        spent["srv"].append(raw.send(payload))
    return spent, size


def create_schema(session: Session, database: str, devices: list[str], w: Workload) -> None:
    session.set_storage_group(database)
    for d in devices:
        paths = [f"{d}.{m}" for m in w.measurements]
        session.create_multi_time_series(paths, w.types, [TSEncoding.GORILLA] * w.cols, [Compressor.SNAPPY] * w.cols)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    w = Workload(args.rows, args.cols, args.points)
    total = w.tablets * w.points_per_tablet
    e2e_dev, raw_dev = f"{args.database}.e2e", f"{args.database}.raw"

    session = Session(args.host, args.port, "root", "root")
    session.open(False)
    raw = RawConnection(args.host, args.port)
    devices = {"ser": f"{args.database}.ser", "e2e": e2e_dev, "srv": raw_dev}
    try:
        create_schema(session, args.database, [e2e_dev, raw_dev], w)
        # warm-up (not counted): one tablet per device at negative times
        warm = w.base - np.int64(2 * args.rows)
        session.insert_tablet(w.tablet(e2e_dev, warm))
        session.insert_tablet(w.tablet(raw_dev, warm))
        spent, ser_bytes = run_phases(session, raw, w, devices)
        stored = {d: count_points(session, d) for d in (e2e_dev, raw_dev)}
    finally:
        raw.close()
        session.close()

    expected = total + w.points_per_tablet
    for d, n in stored.items():
        if n != expected:
            print(f"ERROR: {d} holds {n} points, expected {expected}", file=sys.stderr)
            return 1

    ppt = w.points_per_tablet
    rate = {k: total / sum(v) for k, v in spent.items()}  # overall: points / summed seconds
    p50 = {k: ppt / float(np.median(v)) for k, v in spent.items()}  # robust to noisy neighbours
    version = importlib.metadata.version("apache-iotdb")
    mb = ser_bytes / w.tablets / 1e6
    print(f"NumpyTablet ingestion, apache-iotdb {version} client, {args.host}:{args.port}")
    print(
        f"workload: {w.tablets} tablets x {args.rows:,} rows x {args.cols} DOUBLE = {total:,} points "
        f"per phase ({mb:.2f} MB per request), phases interleaved per tablet"
    )
    print(f"{'':38}{'overall':>12}{'median tablet':>16}   per-tablet ms: p50 / p90 / max")
    labels = {
        "ser": "client serialization (no network)",
        "e2e": "end-to-end Session.insert_tablet",
        "srv": "server (pre-encoded requests)",
    }
    for k, label in labels.items():
        ms = np.percentile(np.array(spent[k]) * 1e3, [50, 90, 100])
        print(
            f"  {label:36}{rate[k] / 1e6:8.2f} M/s{p50[k] / 1e6:12.2f} M/s   {ms[0]:6.2f} / {ms[1]:6.2f} / {ms[2]:7.2f}"
        )
    print(
        f"  ratio end-to-end / client serialization : {rate['e2e'] / rate['ser']:5.2f} "
        f"(median {p50['e2e'] / p50['ser']:.2f})"
    )
    print(
        f"  ratio server / client serialization     : {rate['srv'] / rate['ser']:5.2f} "
        f"(median {p50['srv'] / p50['ser']:.2f})"
    )
    print(f"  all {2 * expected:,} written points read back with count(*)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
