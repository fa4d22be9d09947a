//! The Prometheus metrics endpoint scraped over HTTP: counters move after inserts,
//! queries, a failing statement and a flush; gauges show sessions, memtable and WAL
//! bytes and resident memory; the endpoint is off unless configured.

use client::{RemoteConfig, RemoteSession, Response, Session};
use server::{Server, ServerConfig};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

fn start(metrics: bool) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig {
        port: 0,
        metrics_enabled: metrics,
        metrics_port: 0,
        ..Default::default()
    };
    config.storage.data_dir = dir.path().join("data");
    (Server::start(config).unwrap(), dir)
}

/// GET `path` over plain HTTP/1.0: (status line, headers and body).
fn http_get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text.lines().next().unwrap_or("").to_string();
    (status, text)
}

/// Every sample line of a scrape: `name{labels}` → value.
fn scrape(addr: SocketAddr) -> HashMap<String, f64> {
    let (status, text) = http_get(addr, "/metrics");
    assert!(status.contains("200"), "{status}");
    assert!(
        text.contains("Content-Type: application/openmetrics-text")
            || text.contains("content-type: application/openmetrics-text"),
        "{text}"
    );
    let body = text.split("\r\n\r\n").nth(1).unwrap();
    assert!(body.trim_end().ends_with("# EOF"), "{body}");
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_string(), v.parse::<f64>().unwrap())
        })
        .collect()
}

fn get(m: &HashMap<String, f64>, key: &str) -> f64 {
    *m.get(key)
        .unwrap_or_else(|| panic!("no sample {key} in {:?}", m.keys().collect::<Vec<_>>()))
}

fn run(s: &mut RemoteSession, sql: &str) {
    match s.execute(sql).unwrap() {
        Response::Done => {}
        Response::Rows(mut r) => {
            r.collect_rows().unwrap();
        }
    }
}

#[test]
fn counters_move_after_inserts_and_queries() {
    let (server, _dir) = start(true);
    let addr = server.metrics_addr().expect("metrics are on");
    let before = scrape(addr);
    assert_eq!(get(&before, "iotdb_sessions"), 0.0);
    assert!(get(&before, "iotdb_process_resident_memory_bytes") > 1e6);
    let points_before = get(&before, "iotdb_points_written_total");

    let mut s =
        RemoteSession::open(RemoteConfig::new("127.0.0.1", server.local_addr().port())).unwrap();
    let values: Vec<String> = (1..=100).map(|t| format!("({t}, {t}.5, {t})")).collect();
    run(
        &mut s,
        &format!(
            "insert into root.m.d1(time, s1, s2) values {}",
            values.join(", ")
        ),
    );
    run(&mut s, "select s1, s2 from root.m.d1 where time >= 10");
    run(&mut s, "select count(s1), avg(s2) from root.m.d1");
    run(&mut s, "select last s1 from root.m.d1");
    assert!(s.execute("select s1 from root.m.d1 where").is_err());
    let mid = scrape(addr);
    assert_eq!(get(&mid, "iotdb_sessions"), 1.0);
    assert!(get(&mid, "iotdb_points_written_total") >= points_before + 200.0);
    assert!(get(&mid, "iotdb_memtable_bytes") > 0.0);
    assert!(get(&mid, "iotdb_wal_bytes") > 0.0);
    for kind in ["insert", "raw_query", "aggregation_query", "last_query"] {
        assert_eq!(
            get(
                &mid,
                &format!("iotdb_statements_total{{type=\"{kind}\",status=\"200\"}}")
            ),
            1.0,
            "{kind}"
        );
        assert_eq!(
            get(
                &mid,
                &format!("iotdb_statement_latency_seconds_count{{type=\"{kind}\"}}")
            ),
            1.0,
            "{kind}"
        );
        assert!(
            get(
                &mid,
                &format!("iotdb_statement_latency_seconds_bucket{{le=\"+Inf\",type=\"{kind}\"}}")
            ) == 1.0
        );
    }
    assert_eq!(
        get(
            &mid,
            "iotdb_statements_total{type=\"invalid\",status=\"700\"}"
        ),
        1.0
    );

    let flushes = get(&mid, "iotdb_flushes_total");
    run(&mut s, "flush");
    let after = scrape(addr);
    assert!(get(&after, "iotdb_flushes_total") > flushes);
    assert!(get(&after, "iotdb_flush_seconds_total") > 0.0);
    assert_eq!(get(&after, "iotdb_memtable_bytes"), 0.0);
    assert_eq!(
        get(
            &after,
            "iotdb_statements_total{type=\"maintenance\",status=\"200\"}"
        ),
        1.0
    );

    let (status, _) = http_get(addr, "/other");
    assert!(status.contains("404"), "{status}");
    s.close().unwrap();
    server.shutdown().unwrap();
    assert!(
        TcpStream::connect(addr).is_err(),
        "the endpoint stops with the server"
    );
}

#[test]
fn metrics_are_off_by_default() {
    let (server, _dir) = start(false);
    assert!(server.metrics_addr().is_none());
    server.shutdown().unwrap();
}

/// The memtables' limit in force follows the process's resident memory: a budget that
/// the process alone already passes leaves them half their share; a budget far above it,
/// all of it.
#[test]
fn the_memtable_limit_follows_resident_memory() {
    for (budget_mb, share, want) in [(3, 1 << 20, 512 << 10), (1 << 20, 1 << 20, 1 << 20)] {
        let dir = tempfile::tempdir().unwrap();
        let mut config = ServerConfig {
            port: 0,
            metrics_enabled: true,
            metrics_port: 0,
            memory_budget_mb: budget_mb,
            ..Default::default()
        };
        config.storage.data_dir = dir.path().join("data");
        config.storage.memtable_budget_bytes = share;
        let srv = Server::start(config).unwrap();
        let addr = srv.metrics_addr().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let limit = get(&scrape(addr), "iotdb_memtable_limit_bytes");
            if limit == want as f64 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "budget {budget_mb} MiB: limit {limit}, want {want}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        srv.shutdown().unwrap();
    }
}
