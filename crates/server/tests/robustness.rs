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

#[test]
fn a_peer_stalling_mid_frame_is_dropped_but_an_idle_client_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig {
        port: 0,
        frame_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    config.storage.data_dir = dir.path().join("data");
    let server = Server::start(config).unwrap();
    let addr = server.local_addr();

    // Idle between requests for longer than the timeout: still served.
    let mut idle = client(addr);
    let sid = login(&mut idle);
    std::thread::sleep(Duration::from_millis(900));
    assert_eq!(exec(&mut idle, sid, "show databases").status.code, 200);

    // Half a length prefix, then half a frame: both dropped after the timeout.
    for partial in [&[0u8, 0][..], &[0, 0, 0, 50, 0x80, 1][..]] {
        let mut stalled = TcpStream::connect(addr).unwrap();
        stalled
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stalled.write_all(partial).unwrap();
        let t0 = std::time::Instant::now();
        let mut out = Vec::new();
        let n = stalled.read_to_end(&mut out).unwrap();
        assert_eq!(n, 0, "closed without a reply");
        let waited = t0.elapsed();
        assert!(
            waited >= Duration::from_millis(250) && waited < Duration::from_secs(5),
            "{waited:?}"
        );
    }
    assert_serving(addr, "after_stall");
    server.shutdown().unwrap();
}

#[test]
fn illegal_measurement_names_in_tablets_and_records_are_refused_like_iotdb() {
    use protocol::client::{TSInsertRecordReq, TSInsertStringRecordReq, TSInsertTabletReq};
    let (server, _dir) = start(1 << 20);
    let mut c = client(server.local_addr());
    let sid = login(&mut c);
    let value = 7i64.to_be_bytes().to_vec();
    let time = 1i64.to_be_bytes().to_vec();
    let tablet = |m: &str| {
        TSInsertTabletReq::new(
            sid,
            "root.v.d".into(),
            vec![m.to_string()],
            value.clone(),
            time.clone(),
            vec![2],
            1,
            None::<bool>,
            None::<bool>,
            None::<Vec<i8>>,
            None::<bool>,
            None::<Vec<i8>>,
            None::<i8>,
        )
    };
    let mut record_value = vec![2u8];
    record_value.extend_from_slice(&value);
    for bad in ["*", "", "a.b", "s*", "**", "1", "time", "`a`b`"] {
        let expected = format!("{bad} is not a legal path");
        let st = c.insert_tablet(tablet(bad)).unwrap();
        assert_eq!((st.code, st.message.as_deref()), (509, Some(&*expected)));
        let st = c
            .insert_record(TSInsertRecordReq::new(
                sid,
                "root.v.d".into(),
                vec!["ok".into(), bad.into()],
                [record_value.clone(), record_value.clone()].concat(),
                1,
                None::<bool>,
                None::<bool>,
                None::<Vec<i8>>,
            ))
            .unwrap();
        assert_eq!((st.code, st.message.as_deref()), (509, Some(&*expected)));
        let st = c
            .insert_string_record(TSInsertStringRecordReq::new(
                sid,
                "root.v.d".into(),
                vec![bad.into()],
                vec!["1".into()],
                1,
                None::<bool>,
                None::<i64>,
            ))
            .unwrap();
        assert_eq!((st.code, st.message.as_deref()), (509, Some(&*expected)));
    }
    // nothing was written by the refused requests
    let r = exec(&mut c, sid, "show timeseries root.v.**");
    assert_eq!(r.query_data_set.unwrap().time.len(), 0);
    // a back-quoted legal name is accepted and stored in canonical form
    assert_eq!(c.insert_tablet(tablet("`s1`")).unwrap().code, 200);
    let r = exec(&mut c, sid, "select s1 from root.v.d");
    assert_eq!(r.columns.unwrap(), vec!["root.v.d.s1".to_string()]);
    server.shutdown().unwrap();
}

#[test]
fn fetching_an_unknown_query_is_an_error_but_refetching_a_finished_one_is_not() {
    let (server, _dir) = start(1 << 20);
    let mut c = client(server.local_addr());
    let sid = login(&mut c);
    let fetch = |c: &mut Client, id: i64| {
        c.fetch_results(TSFetchResultsReq::new(
            sid,
            None::<String>,
            100,
            id,
            Some(true),
            None::<i64>,
            None::<i64>,
        ))
        .unwrap()
    };
    let f = fetch(&mut c, 987_654);
    assert_eq!(f.status.code, 301, "{:?}", f.status);
    assert_eq!(
        f.status.message.as_deref(),
        Some("Has not executed query 987654")
    );
    // a query whose rows all came with the first answer is finished; fetching once more
    // (as clients that ignore moreData do) is answered with no rows
    let r = exec(&mut c, sid, "show version");
    let f = fetch(&mut c, r.query_id.unwrap());
    assert_eq!(f.status.code, 200);
    assert!(!f.has_result_set);
    server.shutdown().unwrap();
}

/// One call on a raw connection: `args` written as field 1 of the method's args struct,
/// `patch` applied to the payload bytes, the reply payload returned.
fn raw_call<A: protocol::thrift::protocol::TSerializable>(
    s: &mut TcpStream,
    method: &str,
    args: &A,
    patch: impl Fn(&mut Vec<u8>),
) -> Vec<u8> {
    use protocol::thrift::protocol::{
        TFieldIdentifier, TMessageIdentifier, TMessageType, TOutputProtocol, TStructIdentifier,
        TType,
    };
    let mut payload = Vec::new();
    {
        let mut o = TBinaryOutputProtocol::new(&mut payload, true);
        o.write_message_begin(&TMessageIdentifier::new(method, TMessageType::Call, 0))
            .unwrap();
        o.write_struct_begin(&TStructIdentifier::new("args"))
            .unwrap();
        o.write_field_begin(&TFieldIdentifier::new("req", TType::Struct, 1))
            .unwrap();
        args.write_to_out_protocol(&mut o).unwrap();
        o.write_field_end().unwrap();
        o.write_field_stop().unwrap();
        o.write_struct_end().unwrap();
        o.write_message_end().unwrap();
    }
    patch(&mut payload);
    let mut frame = (payload.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&payload);
    s.write_all(&frame).unwrap();
    let mut len = [0u8; 4];
    s.read_exact(&mut len).unwrap();
    let mut reply = vec![0u8; i32::from_be_bytes(len) as usize];
    s.read_exact(&mut reply).unwrap();
    reply
}

/// The success value of a reply payload (an exception reply fails the test).
fn reply_value<T: protocol::thrift::protocol::TSerializable>(reply: &[u8]) -> T {
    use protocol::thrift::protocol::{TInputProtocol, TMessageType};
    let mut input = reply;
    let mut i = TBinaryInputProtocol::new(&mut input, true);
    let m = i.read_message_begin().unwrap();
    assert_eq!(m.message_type, TMessageType::Reply, "not a normal reply");
    i.read_struct_begin().unwrap();
    assert_eq!(i.read_field_begin().unwrap().id, Some(0));
    T::read_from_in_protocol(&mut i).unwrap()
}

fn replace_bytes(payload: &mut [u8], from: &[u8], to: &[u8]) {
    let at = payload
        .windows(from.len())
        .position(|w| w == from)
        .expect("marker in payload");
    payload[at..at + to.len()].copy_from_slice(to);
}

#[test]
fn invalid_utf8_in_a_request_string_gets_a_status_not_an_exception() {
    use protocol::client::{TSExecuteStatementResp, TSOpenSessionResp};
    let (server, _dir) = start(1 << 20);
    let mut s = TcpStream::connect(server.local_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // user name with invalid UTF-8: a status, no session
    let reply = raw_call(&mut s, "openSession", &open_req("rooXX", "root"), |p| {
        replace_bytes(p, b"XX", &[0xff, 0xfe])
    });
    let resp: TSOpenSessionResp = reply_value(&reply);
    assert_eq!(resp.status.code, 303, "{:?}", resp.status);
    assert!(resp.status.message.unwrap().contains("not valid UTF-8"));
    let reply = raw_call(&mut s, "openSession", &open_req("root", "root"), |_| {});
    let resp: TSOpenSessionResp = reply_value(&reply);
    assert_eq!(resp.status.code, 200);
    let sid = resp.session_id.unwrap();
    // a statement with invalid UTF-8: a status, and nothing is executed
    let req = TSExecuteStatementReq::new(
        sid,
        "create database root.utfXX".to_string(),
        1,
        Some(1000),
        None::<i64>,
        None::<bool>,
        None::<bool>,
    );
    let reply = raw_call(&mut s, "executeStatement", &req, |p| {
        replace_bytes(p, b"XX", &[0xc3, 0x28])
    });
    let resp: TSExecuteStatementResp = reply_value(&reply);
    assert_eq!(resp.status.code, 303, "{:?}", resp.status);
    // the connection and session keep working
    let req = TSExecuteStatementReq::new(
        sid,
        "show databases".to_string(),
        1,
        Some(1000),
        None::<i64>,
        None::<bool>,
        None::<bool>,
    );
    let resp: TSExecuteStatementResp =
        reply_value(&raw_call(&mut s, "executeStatement", &req, |_| {}));
    assert_eq!(resp.status.code, 200);
    assert_eq!(resp.query_data_set.unwrap().time.len(), 0);
    server.shutdown().unwrap();
}
