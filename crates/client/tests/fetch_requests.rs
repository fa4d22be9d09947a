//! The fetch requests the remote session sends while paging a result, read off the wire
//! between the session and a real server: they must carry what Apache IoTDB requires of a
//! `TSFetchResultsReq` (the statement text, field 2, is a required field there; a fetch
//! without it is refused with a Thrift protocol error), and the session's statement id.
//!
//! Our server accepts a fetch without the statement, so only the bytes on the wire show the
//! difference; `tests/python_pkg/test_reference.py` pages the same way against the real
//! Apache IoTDB when one runs.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use client::{RemoteConfig, RemoteSession, Response, Session};
use model::{Column, ColumnData, InsertTablet, PartialPath, TSDataType};
use protocol::client::TSFetchResultsReq;
use protocol::thrift::protocol::{TBinaryInputProtocol, TInputProtocol, TSerializable};
use server::{Server, ServerConfig};

/// Forwards one connection to `target` and keeps a copy of every byte the client sent.
fn recording_proxy(target: SocketAddr) -> (SocketAddr, Arc<Mutex<Vec<u8>>>, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let copy = sent.clone();
    let handle = std::thread::spawn(move || {
        let (mut client, _) = listener.accept().unwrap();
        let mut server = TcpStream::connect(target).unwrap();
        let (mut client_r, mut server_w) =
            (client.try_clone().unwrap(), server.try_clone().unwrap());
        let up = std::thread::spawn(move || {
            let mut buf = [0u8; 64 * 1024];
            loop {
                match client_r.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        copy.lock().unwrap().extend_from_slice(&buf[..n]);
                        if server_w.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = server_w.shutdown(Shutdown::Write);
        });
        let _ = std::io::copy(&mut server, &mut client);
        let _ = client.shutdown(Shutdown::Write);
        up.join().unwrap();
    });
    (addr, sent, handle)
}

/// The `fetchResultsV2` requests among the framed binary-protocol messages in `bytes`.
fn fetch_requests(bytes: &[u8]) -> Vec<TSFetchResultsReq> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 4 {
        let len = i32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        let frame = &rest[4..4 + len];
        rest = &rest[4 + len..];
        let mut p = TBinaryInputProtocol::new(frame, true);
        let msg = p.read_message_begin().unwrap();
        if msg.name != "fetchResultsV2" {
            continue;
        }
        // the arguments struct: field 1 is the request
        p.read_struct_begin().unwrap();
        let field = p.read_field_begin().unwrap();
        assert_eq!(field.id, Some(1));
        out.push(TSFetchResultsReq::read_from_in_protocol(&mut p).unwrap());
    }
    out
}

#[test]
fn paged_and_bulk_fetches_carry_the_statement_and_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig {
        port: 0,
        ..Default::default()
    };
    config.storage.data_dir = dir.path().to_path_buf();
    let server = Server::start(config).unwrap();
    let (addr, sent, proxy) = recording_proxy(server.local_addr());
    let mut rc = RemoteConfig::new("127.0.0.1", addr.port());
    rc.fetch_size = 100;
    let mut s = RemoteSession::open(rc).unwrap();

    let n = 1000i64;
    s.insert_tablets(vec![InsertTablet {
        device: PartialPath::parse("root.fetch.d").unwrap(),
        measurements: vec!["v".into()],
        types: vec![TSDataType::Int64],
        times: (0..n).collect(),
        columns: vec![Column::new(ColumnData::Int64((0..n).collect()))],
        aligned: false,
    }])
    .unwrap();
    let sql = "select v from root.fetch.d";
    // a page at a time, then the whole result at once
    let Response::Rows(mut r) = s.execute(sql).unwrap() else {
        panic!("no rows");
    };
    let mut paged = 0;
    while let Some(b) = r.next_batch().unwrap() {
        paged += b.len();
    }
    assert_eq!(paged, n as usize);
    drop(r);
    let Response::Rows(mut r) = s.execute(sql).unwrap() else {
        panic!("no rows");
    };
    assert_eq!(r.collect_rows().unwrap().len(), n as usize);
    drop(r);
    // a raw data query pages with an empty statement, as the official clients send
    let mut r = s.raw_data_query(&["root.fetch.d.v".into()], 0, n).unwrap();
    assert_eq!(r.collect_rows().unwrap().len(), n as usize);
    drop(r);
    s.close().unwrap();
    proxy.join().unwrap();
    server.shutdown().unwrap();

    let reqs = fetch_requests(&sent.lock().unwrap());
    // 9 paged fetches after the first page; at least one bulk fetch for each later query
    assert!(reqs.len() >= 11, "{} fetch requests", reqs.len());
    let statements: Vec<&str> = reqs
        .iter()
        .map(|r| {
            r.statement
                .as_deref()
                .expect("a fetch without its statement")
        })
        .collect();
    assert!(
        statements.iter().filter(|&&t| t == sql).count() >= 10,
        "{statements:?}"
    );
    assert_eq!(statements.last(), Some(&""));
    let first = reqs[0]
        .statement_id
        .expect("a fetch without the statement id");
    assert!(reqs.iter().all(|r| r.statement_id == Some(first)));
    assert!(reqs.iter().all(|r| r.is_align == Some(true)));
    assert_eq!(reqs[0].fetch_size, 100);
}
