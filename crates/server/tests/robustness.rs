//! The server against bad peers: malformed, oversized and truncated frames, requests
//! without a session, unknown methods, slow clients — each gets an error or a closed
//! connection, and the server keeps serving every other session.

use protocol::client::{
    IClientRPCServiceSyncClient, TIClientRPCServiceSyncClient, TSExecuteStatementReq,
    TSFetchResultsReq, TSOpenSessionReq, TSProtocolVersion,
};
use protocol::thrift::protocol::{
    TBinaryInputProtocol, TBinaryOutputProtocol, TCompactInputProtocol, TCompactOutputProtocol,
};
use protocol::thrift::transport::{
    ReadHalf, TFramedReadTransport, TFramedWriteTransport, TIoChannel, TTcpChannel, WriteHalf,
};
use server::{Server, ServerConfig};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

type Client = IClientRPCServiceSyncClient<
    TBinaryInputProtocol<TFramedReadTransport<ReadHalf<TTcpChannel>>>,
    TBinaryOutputProtocol<TFramedWriteTransport<WriteHalf<TTcpChannel>>>,
>;

fn start(max_frame_size: usize) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig {
        port: 0,
        max_frame_size,
        ..Default::default()
    };
    config.storage.data_dir = dir.path().join("data");
    (Server::start(config).unwrap(), dir)
}

fn client(addr: SocketAddr) -> Client {
    let mut ch = TTcpChannel::new();
    ch.open(addr.to_string()).unwrap();
    let (r, w) = ch.split().unwrap();
    IClientRPCServiceSyncClient::new(
        TBinaryInputProtocol::new(TFramedReadTransport::new(r), true),
        TBinaryOutputProtocol::new(TFramedWriteTransport::new(w), true),
    )
}

fn open_req(user: &str, password: &str) -> TSOpenSessionReq {
    let mut conf = BTreeMap::new();
    conf.insert("version".to_string(), "V_1_0".to_string());
    TSOpenSessionReq::new(
        TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3,
        "+08:00".to_string(),
        user.to_string(),
        Some(password.to_string()),
        Some(conf),
    )
}

fn login(c: &mut Client) -> i64 {
    let resp = c.open_session(open_req("root", "root")).unwrap();
    assert_eq!(resp.status.code, 200, "{:?}", resp.status);
    resp.session_id.unwrap()
}

fn exec(c: &mut Client, sid: i64, sql: &str) -> protocol::client::TSExecuteStatementResp {
    c.execute_statement(TSExecuteStatementReq::new(
        sid,
        sql.to_string(),
        1,
        Some(1000),
        None::<i64>,
        None::<bool>,
        None::<bool>,
    ))
    .unwrap()
}

/// A healthy session still works: write, read back one row.
fn assert_serving(addr: SocketAddr, tag: &str) {
    let mut c = client(addr);
    let sid = login(&mut c);
    let r = exec(
        &mut c,
        sid,
        &format!("insert into root.health.{tag}(timestamp, s) values(1, 7)"),
    );
    assert_eq!(r.status.code, 200, "{:?}", r.status);
    let r = exec(&mut c, sid, &format!("select s from root.health.{tag}"));
    assert_eq!(r.status.code, 200, "{:?}", r.status);
    assert_eq!(r.columns.unwrap(), vec![format!("root.health.{tag}.s")]);
    assert_eq!(r.query_data_set.unwrap().time.len(), 8);
}

fn raw(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(bytes).unwrap();
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

#[test]
fn bad_frames_close_only_their_connection() {
    let (server, _dir) = start(1 << 20);
    let addr = server.local_addr();
    // A session opened before the attacks keeps working after them.
    let mut survivor = client(addr);
    let sid = login(&mut survivor);

    // Oversized declared length: closed without a reply and without allocating.
    assert!(raw(addr, &[0x7f, 0xff, 0xff, 0xff, 0x80]).is_empty());
    // Negative length.
    assert!(raw(addr, &[0xff, 0xff, 0xff, 0xfe]).is_empty());
    // Not Thrift at all.
    assert!(raw(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").is_empty());
    // Truncated frame: length says 100, 3 bytes follow, then EOF.
    assert!(raw(addr, &[0, 0, 0, 100, 0x80, 1, 0]).is_empty());
    // Unknown protocol byte inside a well-formed frame.
    assert!(raw(addr, &[0, 0, 0, 4, 0x42, 0, 0, 0]).is_empty());

    let r = exec(&mut survivor, sid, "show databases");
    assert_eq!(r.status.code, 200);
    assert_serving(addr, "after_frames");
    server.shutdown().unwrap();
}

#[test]
fn forged_lengths_inside_a_call_get_an_exception_reply() {
    let (server, _dir) = start(1 << 20);
    let addr = server.local_addr();
    // openSession call whose args struct claims a 2 GB string.
    let mut payload = vec![0x80, 0x01, 0x00, 0x01];
    payload.extend_from_slice(&11i32.to_be_bytes());
    payload.extend_from_slice(b"openSession");
    payload.extend_from_slice(&0i32.to_be_bytes());
    payload.extend_from_slice(&[0x0c, 0x00, 0x01, 0x0b, 0x00, 0x02]);
    payload.extend_from_slice(&0x7fff_0000i32.to_be_bytes());
    let mut frame = (payload.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&payload);
    let reply = raw(addr, &frame);
    assert!(reply.len() > 8, "expected an exception reply");
    // Message type EXCEPTION (3) in the strict binary header.
    assert_eq!(&reply[4..8], &[0x80, 0x01, 0x00, 0x03]);
    assert_serving(addr, "after_forged");
    server.shutdown().unwrap();
}

#[test]
fn unknown_methods_and_missing_sessions_get_errors() {
    let (server, _dir) = start(1 << 20);
    let addr = server.local_addr();
    // Unknown method name → TApplicationException UNKNOWN_METHOD.
    let mut payload = vec![0x80, 0x01, 0x00, 0x01];
    payload.extend_from_slice(&8i32.to_be_bytes());
    payload.extend_from_slice(b"noSuchOp");
    payload.extend_from_slice(&0i32.to_be_bytes());
    payload.push(0);
    let mut frame = (payload.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&payload);
    let reply = raw(addr, &frame);
    assert_eq!(&reply[4..8], &[0x80, 0x01, 0x00, 0x03]);

    // No openSession on this connection → 802 for statements and fetches.
    let mut c = client(addr);
    let r = exec(&mut c, 12345, "show databases");
    assert_eq!(r.status.code, 802);
    let f = c
        .fetch_results(TSFetchResultsReq::new(
            1,
            None::<String>,
            100,
            1,
            Some(true),
            None::<i64>,
            None::<i64>,
        ))
        .unwrap();
    assert_eq!(f.status.code, 802);

    // Wrong password → 801.
    let resp = c.open_session(open_req("root", "wrong")).unwrap();
    assert_eq!(resp.status.code, 801);
    // Bad SQL → 700, and the session stays usable.
    let sid = login(&mut c);
    assert_eq!(exec(&mut c, sid, "selec * from root").status.code, 700);
    assert_eq!(exec(&mut c, sid, "show version").status.code, 200);
    server.shutdown().unwrap();
}

#[test]
fn compact_protocol_and_many_sessions() {
    let (server, _dir) = start(1 << 20);
    let addr = server.local_addr();
    let mut ch = TTcpChannel::new();
    ch.open(addr.to_string()).unwrap();
    let (r, w) = ch.split().unwrap();
    let mut compact = IClientRPCServiceSyncClient::new(
        TCompactInputProtocol::new(TFramedReadTransport::new(r)),
        TCompactOutputProtocol::new(TFramedWriteTransport::new(w)),
    );
    let resp = compact.open_session(open_req("root", "root")).unwrap();
    assert_eq!(resp.status.code, 200);

    // A client that sends half a frame and stalls must not block other sessions.
    let mut stalled = TcpStream::connect(addr).unwrap();
    stalled.write_all(&[0, 0, 0, 50, 0x80]).unwrap();

    let threads: Vec<_> = (0..8)
        .map(|i| std::thread::spawn(move || assert_serving(addr, &format!("t{i}"))))
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    drop(stalled);
    server.shutdown().unwrap();
}
