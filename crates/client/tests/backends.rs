//! The same session calls through both backends — remote against a real server in this
//! process, embedded on a data directory — must give the same answers.

use client::{
    EmbeddedConfig, EmbeddedSession, Error, RemoteConfig, RemoteSession, Response, Session,
    TemplateAnswer, TemplateQuery, TimeseriesSpec,
};
use model::{
    Column, ColumnData, CompressionType, InsertRow, InsertRows, InsertTablet, PartialPath,
    RowValues, TSDataType, TSEncoding, Value,
};
use server::{Server, ServerConfig};

fn rows(s: &mut dyn Session, sql: &str) -> (Vec<String>, Vec<i64>, Vec<Vec<Option<Value>>>) {
    let Response::Rows(mut r) = s.execute(sql).unwrap() else {
        panic!("{sql}: no rows");
    };
    let b = r.collect_rows().unwrap();
    let cols = r
        .column_index
        .iter()
        .map(|&i| (0..b.len()).map(|k| b.columns[i].value(k)).collect())
        .collect();
    (r.columns.clone(), b.times, cols)
}

fn scenario(s: &mut dyn Session) -> Vec<String> {
    let mut out = Vec::new();
    s.create_database("root.sg").unwrap();
    s.create_timeseries(&[TimeseriesSpec {
        path: PartialPath::parse("root.sg.d1.t").unwrap(),
        data_type: TSDataType::Int64,
        encoding: TSEncoding::Rle,
        compressor: CompressionType::Snappy,
        props: Vec::new(),
        tags: vec![("k".into(), "v".into())],
        attributes: Vec::new(),
        alias: Some("temp".into()),
    }])
    .unwrap();
    let n = 7000; // more than one fetch page
    let tablet = InsertTablet {
        device: PartialPath::parse("root.sg.d1").unwrap(),
        measurements: vec!["t".into(), "x".into()],
        types: vec![TSDataType::Int64, TSDataType::Double],
        times: (0..n).collect(),
        columns: vec![
            Column::new(ColumnData::Int64((0..n).map(|i| i * 2).collect())),
            Column::new(ColumnData::Double((0..n).map(|i| i as f64 / 2.0).collect())),
        ],
        aligned: false,
    };
    s.insert_tablets(vec![tablet]).unwrap();
    s.insert_rows(InsertRows {
        rows: vec![
            InsertRow {
                device: PartialPath::parse("root.sg.d2").unwrap(),
                time: 1,
                measurements: vec!["a".into()],
                values: RowValues::physical(vec![Some(Value::Int32(5))]),
                aligned: false,
            },
            InsertRow {
                device: PartialPath::parse("root.sg.d2").unwrap(),
                time: 2,
                measurements: vec!["b".into()],
                values: RowValues::Strings(vec!["true".into()]),
                aligned: false,
            },
        ],
    })
    .unwrap();
    let (cols, times, vals) = rows(s, "select t, x from root.sg.d1");
    assert_eq!(times.len(), n as usize);
    assert_eq!(vals[0][6999], Some(Value::Int64(13998)));
    out.push(format!("{cols:?} {}", times.len()));
    let (cols, times, vals) = rows(s, "select * from root.sg.d2");
    out.push(format!("{cols:?} {times:?} {vals:?}"));
    let (cols, _, vals) = rows(s, "show timeseries root.sg.d1.t");
    out.push(format!("{cols:?} {vals:?}"));
    let mut r = s.raw_data_query(&["root.sg.d1.t".into()], 10, 12).unwrap();
    out.push(format!("{:?}", r.collect_rows().unwrap().times));
    let mut r = s.last_data_query(&["root.sg.d1.x".into()], 0).unwrap();
    let last = r.collect_rows().unwrap();
    out.push(format!("{:?} {:?}", r.columns, last.times));
    s.delete_data(&["root.sg.d1.t".into()], 0, 6990).unwrap();
    out.push(format!("{:?}", rows(s, "select t from root.sg.d1").1.len()));
    let err = s.create_database("root.sg").unwrap_err();
    assert!(matches!(err, Error::Status { code: 501, .. }), "{err:?}");
    out.push(err.to_string());
    s.execute("create schema template tp (s1 INT32)").unwrap();
    let a = s
        .template_query(TemplateQuery::CountMeasurements, "tp", "")
        .unwrap();
    assert_eq!(a, TemplateAnswer::Count(1));
    s.set_time_zone("UTC+8").unwrap();
    assert_eq!(s.time_zone(), "UTC+8");
    s.close().unwrap();
    assert!(matches!(
        s.execute("show databases"),
        Err(Error::Connection(_))
    ));
    out
}

/// A server on a free loopback port with its data in `dir`, and a remote config for it.
fn start_server(dir: &std::path::Path) -> (Server, RemoteConfig) {
    let mut config = ServerConfig {
        port: 0,
        ..Default::default()
    };
    config.storage.data_dir = dir.to_path_buf();
    let server = Server::start(config).unwrap();
    let addr = server.local_addr();
    let rc = RemoteConfig::new(&addr.ip().to_string(), addr.port());
    (server, rc)
}

#[test]
fn remote_and_embedded_answer_alike() {
    let dir = tempfile::tempdir().unwrap();
    let (server, mut rc) = start_server(&dir.path().join("server"));
    rc.fetch_size = 1000;
    // the first node is dead: failover to the second
    rc.nodes.insert(0, "127.0.0.1:1".into());
    let mut remote = RemoteSession::open(rc).unwrap();
    let mut embedded = EmbeddedSession::open(EmbeddedConfig::new(dir.path().join("emb"))).unwrap();
    let a = scenario(&mut remote);
    let b = scenario(&mut embedded);
    assert_eq!(a, b);
    server.shutdown().unwrap();
}

#[test]
fn wrong_password_and_unreachable_server() {
    let dir = tempfile::tempdir().unwrap();
    let (server, mut rc) = start_server(dir.path());
    rc.password = "wrong".into();
    assert!(matches!(
        RemoteSession::open(rc),
        Err(Error::Status { code: 801, .. })
    ));
    server.shutdown().unwrap();
    let rc = RemoteConfig::new("127.0.0.1", 1);
    assert!(matches!(RemoteSession::open(rc), Err(Error::Connection(_))));
}

/// A whole result read at once (`collect_rows`) comes in large pages fetched ahead of
/// decoding; it must equal the same rows read a page at a time, nulls included, and the
/// embedded engine's answer.
#[test]
fn bulk_reads_match_paged_reads() {
    let dir = tempfile::tempdir().unwrap();
    let (server, mut rc) = start_server(&dir.path().join("server"));
    rc.fetch_size = 3000;
    let mut remote = RemoteSession::open(rc).unwrap();
    let mut embedded = EmbeddedSession::open(EmbeddedConfig::new(dir.path().join("emb"))).unwrap();
    // 1 M rows: several bulk pages of the three fixed-width columns (~1 MiB each)
    let n = 1_000_000usize;
    let mut nulls = model::Bitmap::new(n);
    (0..n).filter(|i| i % 7 == 3).for_each(|i| nulls.set(i));
    let tablet = InsertTablet {
        device: PartialPath::parse("root.bulk.d").unwrap(),
        measurements: vec!["b".into(), "i".into(), "f".into()],
        types: vec![TSDataType::Boolean, TSDataType::Int64, TSDataType::Float],
        times: (0..n as i64).collect(),
        columns: vec![
            Column::new(ColumnData::Boolean((0..n).map(|i| i % 3 == 0).collect())),
            Column {
                data: ColumnData::Int64((0..n as i64).map(|i| i * 31).collect()),
                nulls: Some(nulls),
            },
            Column::new(ColumnData::Float((0..n).map(|i| i as f32 * 0.5).collect())),
        ],
        aligned: false,
    };
    let sql = "select b, i, f from root.bulk.d";
    let mut answers = Vec::new();
    for s in [&mut remote as &mut dyn Session, &mut embedded] {
        s.insert_tablets(vec![tablet.clone()]).unwrap();
        let bulk = rows(s, sql);
        let Response::Rows(mut r) = s.execute(sql).unwrap() else {
            panic!("no rows");
        };
        let mut paged = Vec::new();
        while let Some(b) = r.next_batch().unwrap() {
            paged.push(b);
        }
        let paged = query::result::concat_batches(paged);
        assert_eq!(bulk.1, paged.times);
        assert_eq!(bulk.1.len(), n);
        for (k, &c) in r.column_index.iter().enumerate() {
            let col: Vec<Option<Value>> = (0..n).map(|i| paged.columns[c].value(i)).collect();
            assert_eq!(bulk.2[k], col, "column {k}");
        }
        assert_eq!(bulk.2[1][3], None);
        assert_eq!(bulk.2[1][4], Some(Value::Int64(124)));
        answers.push(bulk);
    }
    assert_eq!(answers[0], answers[1]);
    server.shutdown().unwrap();
}

#[test]
fn embedded_engines_get_the_servers_memory_defaults() {
    let embedded = EmbeddedConfig::new("unused").storage;
    let server = ServerConfig::default().storage;
    assert_eq!(embedded.memtable_budget_bytes, server.memtable_budget_bytes);
    assert!(embedded.memtable_budget_bytes > 0);
    assert_eq!(
        embedded.memtable_size_threshold,
        server.memtable_size_threshold
    );
    assert_eq!(embedded.wal_mode, server.wal_mode);
    let custom = EmbeddedConfig::new("unused").memory_budget_mb(300).storage;
    assert_eq!(custom.memtable_budget_bytes, 100 << 20);
    let none = EmbeddedConfig::new("unused").memory_budget_mb(0).storage;
    assert_eq!(none.memtable_budget_bytes, 0);
}
