//! Query RPCs end to end through the generated Thrift client: raw, last and aggregation
//! data queries, paging with fetchResults (V1 TSQueryDataSet and V2 TsBlock), closeOperation.

use model::{TSDataType, Value};
use protocol::client::{
    IClientRPCServiceSyncClient, TIClientRPCServiceSyncClient, TSAggregationQueryReq,
    TSCloseOperationReq, TSExecuteStatementReq, TSExecuteStatementResp, TSFetchResultsReq,
    TSLastDataQueryReq, TSOpenSessionReq, TSProtocolVersion, TSRawDataQueryReq,
};
use protocol::codec::{dataset::decode_query_data_set, tsblock::decode_tsblock};
use protocol::common::TAggregationType;
use protocol::thrift::protocol::{TBinaryInputProtocol, TBinaryOutputProtocol};
use protocol::thrift::transport::{
    ReadHalf, TFramedReadTransport, TFramedWriteTransport, TIoChannel, TTcpChannel, WriteHalf,
};
use server::{Server, ServerConfig};

type Client = IClientRPCServiceSyncClient<
    TBinaryInputProtocol<TFramedReadTransport<ReadHalf<TTcpChannel>>>,
    TBinaryOutputProtocol<TFramedWriteTransport<WriteHalf<TTcpChannel>>>,
>;

struct Fixture {
    server: Option<Server>,
    client: Client,
    sid: i64,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = ServerConfig {
            port: 0,
            ..Default::default()
        };
        config.storage.data_dir = dir.path().join("data");
        let server = Server::start(config).unwrap();
        let mut ch = TTcpChannel::new();
        ch.open(server.local_addr().to_string()).unwrap();
        let (r, w) = ch.split().unwrap();
        let mut client = IClientRPCServiceSyncClient::new(
            TBinaryInputProtocol::new(TFramedReadTransport::new(r), true),
            TBinaryOutputProtocol::new(TFramedWriteTransport::new(w), true),
        );
        let resp = client
            .open_session(TSOpenSessionReq::new(
                TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3,
                "UTC".to_string(),
                "root".to_string(),
                Some("root".to_string()),
                None,
            ))
            .unwrap();
        assert_eq!(resp.status.code, 200);
        Fixture {
            server: Some(server),
            client,
            sid: resp.session_id.unwrap(),
            _dir: dir,
        }
    }

    fn req(&self, sql: &str, fetch_size: i32) -> TSExecuteStatementReq {
        TSExecuteStatementReq::new(
            self.sid,
            sql.to_string(),
            1,
            Some(fetch_size),
            None::<i64>,
            None::<bool>,
            None::<bool>,
        )
    }

    fn exec(&mut self, sql: &str) -> TSExecuteStatementResp {
        let r = self.client.execute_statement(self.req(sql, 1000)).unwrap();
        assert_eq!(r.status.code, 200, "{sql}: {:?}", r.status);
        r
    }

    fn fetch(&mut self, query_id: i64, v2: bool) -> protocol::client::TSFetchResultsResp {
        let req = TSFetchResultsReq::new(
            self.sid,
            None::<String>,
            2,
            query_id,
            Some(true),
            None::<i64>,
            None::<i64>,
        );
        if v2 {
            self.client.fetch_results_v2(req).unwrap()
        } else {
            self.client.fetch_results(req).unwrap()
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().unwrap();
        }
    }
}

fn v1_rows(r: &TSExecuteStatementResp) -> (Vec<i64>, Vec<Option<Value>>) {
    let types: Vec<TSDataType> = r
        .data_type_list
        .as_ref()
        .unwrap()
        .iter()
        .map(|t| TSDataType::from_name(t).unwrap())
        .collect();
    let batch = decode_query_data_set(r.query_data_set.as_ref().unwrap(), &types).unwrap();
    let first: Vec<Option<Value>> = (0..batch.len())
        .map(|i| batch.columns[0].value(i))
        .collect();
    (batch.times, first)
}

#[test]
fn raw_and_last_data_queries() {
    let mut f = Fixture::new();
    f.exec("insert into root.sg.d1(time, s1, s2) values (1, 10, 1.5), (2, 20, 2.5), (3, 30, 3.5)");
    f.exec("insert into root.sg.d2(time, s1) values (2, 200)");

    let raw = f
        .client
        .execute_raw_data_query(TSRawDataQueryReq::new(
            f.sid,
            vec!["root.sg.d1.s1".to_string(), "root.sg.d2.s1".to_string()],
            Some(100),
            1,
            3,
            1,
            Some(false),
            None::<bool>,
            None::<i64>,
            None::<bool>,
        ))
        .unwrap();
    assert_eq!(raw.status.code, 200, "{:?}", raw.status);
    assert_eq!(
        raw.columns.as_ref().unwrap(),
        &vec!["root.sg.d1.s1".to_string(), "root.sg.d2.s1".to_string()]
    );
    // [start, end): time 3 is excluded.
    let (times, s1) = v1_rows(&raw);
    assert_eq!(times, vec![1, 2]);
    assert_eq!(s1, vec![Some(Value::Float(10.0)), Some(Value::Float(20.0))]);

    let last = f
        .client
        .execute_last_data_query(TSLastDataQueryReq::new(
            f.sid,
            vec!["root.sg.d1.s1".to_string(), "root.sg.d1.s2".to_string()],
            Some(100),
            2,
            1,
            Some(false),
            None::<bool>,
            None::<i64>,
            None::<bool>,
        ))
        .unwrap();
    assert_eq!(last.status.code, 200, "{:?}", last.status);
    assert_eq!(last.ignore_time_stamp, Some(false));
    let (times, series) = v1_rows(&last);
    assert_eq!(times, vec![3, 3]);
    let names: Vec<String> = series
        .into_iter()
        .map(|v| v.unwrap().to_iotdb_string())
        .collect();
    assert!(names.contains(&"root.sg.d1.s1".to_string()), "{names:?}");
    assert!(names.contains(&"root.sg.d1.s2".to_string()), "{names:?}");
}

#[test]
fn paging_v1_and_v2() {
    let mut f = Fixture::new();
    f.exec("insert into root.pg.d(time, v) values (1, 1), (2, 2), (3, 3), (4, 4), (5, 5)");

    // V1: first batch of 2 rows, then 2, then 1, then no more.
    let r = f
        .client
        .execute_query_statement(f.req("select v from root.pg.d", 2))
        .unwrap();
    assert_eq!(r.status.code, 200);
    let qid = r.query_id.unwrap();
    let mut times = v1_rows(&r).0;
    loop {
        let page = f.fetch(qid, false);
        assert_eq!(page.status.code, 200);
        if !page.has_result_set {
            break;
        }
        let ds = page.query_data_set.unwrap();
        assert!(!ds.time.is_empty(), "hasResultSet=true needs rows");
        let b = decode_query_data_set(&ds, &[TSDataType::Float]).unwrap();
        times.extend(b.times);
    }
    assert_eq!(times, vec![1, 2, 3, 4, 5]);

    // V2: TsBlocks with moreData.
    let r = f
        .client
        .execute_query_statement_v2(f.req("select v from root.pg.d", 2))
        .unwrap();
    assert_eq!(r.status.code, 200);
    assert_eq!(r.more_data, Some(true));
    assert_eq!(r.column_index2_ts_block_column_index_list, Some(vec![0]));
    let qid = r.query_id.unwrap();
    let mut times: Vec<i64> = Vec::new();
    for block in r.query_result.unwrap() {
        times.extend(decode_tsblock(&block).unwrap().batch.times);
    }
    let mut more = true;
    while more {
        let page = f.fetch(qid, true);
        assert_eq!(page.status.code, 200);
        more = page.more_data.unwrap_or(false);
        for block in page.query_result.unwrap_or_default() {
            times.extend(decode_tsblock(&block).unwrap().batch.times);
        }
    }
    assert_eq!(times, vec![1, 2, 3, 4, 5]);

    // closeOperation frees the query; fetching afterwards reports no result set.
    let r = f
        .client
        .execute_query_statement(f.req("select v from root.pg.d", 2))
        .unwrap();
    let qid = r.query_id.unwrap();
    let st = f
        .client
        .close_operation(TSCloseOperationReq::new(f.sid, Some(qid), Some(1)))
        .unwrap();
    assert_eq!(st.code, 200);
    assert!(!f.fetch(qid, false).has_result_set);
}

/// Sends an aggregation request, V2 (TsBlock) or V1 (TSQueryDataSet).
fn agg(f: &mut Fixture, v2: bool, req: TSAggregationQueryReq) -> TSExecuteStatementResp {
    if v2 {
        f.client.execute_aggregation_query_v2(req).unwrap()
    } else {
        f.client.execute_aggregation_query(req).unwrap()
    }
}

fn agg_req(
    sid: i64,
    paths: &[&str],
    aggregations: &[TAggregationType],
    range: Option<(i64, i64)>,
    interval: Option<i64>,
    step: Option<i64>,
) -> TSAggregationQueryReq {
    TSAggregationQueryReq::new(
        sid,
        1,
        paths.iter().map(|p| p.to_string()).collect(),
        aggregations.to_vec(),
        range.map(|r| r.0),
        range.map(|r| r.1),
        interval,
        step,
        Some(100),
        None::<i64>,
        None::<bool>,
    )
}

/// Every column of a V2 answer as values (TsBlocks of the first response; the answers here fit).
fn v2_columns(r: &TSExecuteStatementResp) -> (Vec<i64>, Vec<Vec<Option<Value>>>) {
    let mut times = Vec::new();
    let mut cols: Vec<Vec<Option<Value>>> = Vec::new();
    for block in r.query_result.clone().unwrap_or_default() {
        let b = decode_tsblock(&block).unwrap().batch;
        cols.resize(b.columns.len(), Vec::new());
        for (c, col) in b.columns.iter().enumerate() {
            cols[c].extend((0..b.len()).map(|i| col.value(i)));
        }
        times.extend(b.times);
    }
    (times, cols)
}

#[test]
fn aggregation_queries() {
    let mut f = Fixture::new();
    f.exec("create timeseries root.ag.d1.s1 with datatype=INT32");
    f.exec("create timeseries root.ag.d1.s2 with datatype=DOUBLE");
    f.exec(
        "insert into root.ag.d1(time, s1, s2) values (1, 10, 1.5), (2, 20, 2.5), (3, 30, 3.5), (7, 70, 7.5)",
    );
    let paths = ["root.ag.d1.s1", "root.ag.d1.s2", "root.ag.d1.s1"];
    let aggs = [
        TAggregationType::COUNT,
        TAggregationType::SUM,
        TAggregationType::MAX_VALUE,
    ];

    // Whole series, V1: one row, no time column, IoTDB's column names and types.
    let req = agg_req(f.sid, &paths, &aggs, None, None, None);
    let r = agg(&mut f, false, req);
    assert_eq!(r.status.code, 200, "{:?}", r.status);
    assert_eq!(
        r.columns.clone().unwrap(),
        vec![
            "COUNT(root.ag.d1.s1)",
            "SUM(root.ag.d1.s2)",
            "MAX_VALUE(root.ag.d1.s1)"
        ]
    );
    assert_eq!(
        r.data_type_list.clone().unwrap(),
        vec!["INT64", "DOUBLE", "INT32"]
    );
    assert_eq!(r.ignore_time_stamp, Some(true));
    let types = [TSDataType::Int64, TSDataType::Double, TSDataType::Int32];
    let b = decode_query_data_set(r.query_data_set.as_ref().unwrap(), &types).unwrap();
    let row: Vec<Option<Value>> = b.columns.iter().map(|c| c.value(0)).collect();
    assert_eq!(
        row,
        vec![
            Some(Value::Int64(4)),
            Some(Value::Double(15.0)),
            Some(Value::Int32(70))
        ]
    );

    // startTime/endTime without interval: WHERE time >= 2 AND time < 7, V2.
    let req = agg_req(f.sid, &paths, &aggs, Some((2, 7)), None, None);
    let r = agg(&mut f, true, req);
    assert_eq!(r.status.code, 200, "{:?}", r.status);
    let (_, cols) = v2_columns(&r);
    assert_eq!(cols[0], vec![Some(Value::Int64(2))]);
    assert_eq!(cols[1], vec![Some(Value::Double(6.0))]);
    assert_eq!(cols[2], vec![Some(Value::Int32(30))]);

    // Interval: GROUP BY ([0, 8), 4ms): windows 0 and 4.
    let req = agg_req(f.sid, &paths[..1], &aggs[..1], Some((0, 8)), Some(4), None);
    let r = agg(&mut f, true, req);
    assert_eq!(r.status.code, 200, "{:?}", r.status);
    assert_eq!(r.ignore_time_stamp, Some(false));
    let (times, cols) = v2_columns(&r);
    assert_eq!(times, vec![0, 4]);
    assert_eq!(cols[0], vec![Some(Value::Int64(3)), Some(Value::Int64(1))]);

    // Sliding step: windows [0, 4), [2, 6), [4, 8), [6, 10) of ([0, 8), 4ms, 2ms).
    let req = agg_req(
        f.sid,
        &paths[..1],
        &aggs[..1],
        Some((0, 8)),
        Some(4),
        Some(2),
    );
    let r = agg(&mut f, false, req);
    assert_eq!(r.status.code, 200, "{:?}", r.status);
    let (times, counts) = v1_rows(&r);
    assert_eq!(times, vec![0, 2, 4, 6]);
    let counts: Vec<Option<Value>> = counts;
    assert_eq!(
        counts,
        vec![
            Some(Value::Int64(3)),
            Some(Value::Int64(2)),
            Some(Value::Int64(1)),
            Some(Value::Int64(1))
        ]
    );

    // Errors: a numeric aggregation of TEXT, list lengths that differ, a bad interval.
    f.exec("insert into root.ag.d1(time, t) values (1, 'x')");
    let req = agg_req(
        f.sid,
        &["root.ag.d1.t"],
        &[TAggregationType::SUM],
        None,
        None,
        None,
    );
    let r = agg(&mut f, false, req);
    assert_ne!(r.status.code, 200);
    let req = agg_req(f.sid, &paths, &aggs[..1], None, None, None);
    let r = agg(&mut f, false, req);
    assert_eq!(r.status.code, 303, "{:?}", r.status);
    let req = agg_req(f.sid, &paths[..1], &aggs[..1], Some((0, 8)), Some(0), None);
    let r = agg(&mut f, true, req);
    assert_ne!(r.status.code, 200);
    // The session still serves.
    f.exec("select count(s1) from root.ag.d1");
}
