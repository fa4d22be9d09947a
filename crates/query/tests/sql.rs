//! End-to-end tests: SQL strings through `Executor::execute_sql` against a real storage
//! engine on a temporary directory.

use model::time::TimeZone;
use model::{Result, TSDataType, Value};
use query::{Executor, Outcome, QueryResult, SessionContext};
use std::sync::Arc;
use storage::{Engine, StorageConfig};

struct Db {
    _dir: tempfile::TempDir,
    ex: Executor,
    ctx: SessionContext,
}

/// A materialized result: header plus rows of rendered values (`None` = null).
#[derive(Debug)]
struct Table {
    columns: Vec<String>,
    types: Vec<TSDataType>,
    ignore_timestamp: bool,
    column_index: Vec<usize>,
    rows: Vec<(i64, Vec<Option<String>>)>,
}

fn render(v: Option<Value>) -> Option<String> {
    v.map(|v| v.to_iotdb_string())
}

fn collect(mut r: QueryResult, batch: usize) -> Table {
    let mut rows = Vec::new();
    while let Some(b) = r.stream.next_batch(batch).unwrap() {
        assert!(b.len() <= batch.max(1), "batch larger than asked");
        assert!(!b.is_empty(), "empty batch instead of None");
        for i in 0..b.len() {
            let vals = r
                .column_index
                .iter()
                .map(|&c| render(b.columns[c].value(i)))
                .collect();
            rows.push((b.times[i], vals));
        }
    }
    Table {
        columns: r.columns,
        types: r.types,
        ignore_timestamp: r.ignore_timestamp,
        column_index: r.column_index,
        rows,
    }
}

impl Db {
    fn new() -> Db {
        Db::with_zone("+00:00")
    }

    fn with_zone(zone: &str) -> Db {
        // Tiny read slices: every query of this suite crosses many slice boundaries, so the
        // answers below also check that slicing never changes a result.
        query::scan::set_slice_points(7);
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(StorageConfig::with_data_dir(dir.path())).unwrap();
        Db {
            _dir: dir,
            ex: Executor::new(Arc::new(engine)),
            ctx: SessionContext::new("root", TimeZone::parse(zone).unwrap()),
        }
    }

    fn try_run(&self, sql: &str) -> Result<Outcome> {
        self.ex.execute_sql(sql, &self.ctx)
    }

    fn run(&self, sql: &str) {
        match self.try_run(sql) {
            Ok(_) => {}
            Err(e) => panic!("{sql}: {e}"),
        }
    }

    fn query_batched(&self, sql: &str, batch: usize) -> Table {
        let table = match self.try_run(sql) {
            Ok(Outcome::Rows(r)) => collect(r, batch),
            Ok(Outcome::Done) => panic!("{sql}: no result set"),
            Err(e) => panic!("{sql}: {e}"),
        };
        // a plain SELECT again, its rows taken in blocks (as the server's pages take them):
        // the same rows
        let lower = sql.to_lowercase();
        if lower.starts_with("select") && !lower.contains(" into ") && !lower.contains("now(") {
            if let Ok(Outcome::Rows(mut r)) = self.try_run(sql) {
                let mut rows = Vec::new();
                while let Some(b) = r.stream.next_block(batch).unwrap() {
                    assert!(!b.is_empty(), "{sql}: empty block instead of None");
                    for i in 0..b.len() {
                        let vals: Vec<_> = r
                            .column_index
                            .iter()
                            .map(|&c| render(b.columns[c].value(i)))
                            .collect();
                        rows.push((b.times[i], vals));
                    }
                }
                assert_eq!(rows, table.rows, "{sql}: rows taken in blocks differ");
            }
        }
        table
    }

    fn query(&self, sql: &str) -> Table {
        self.query_batched(sql, 1000)
    }

    fn code(&self, sql: &str) -> i32 {
        match self.try_run(sql) {
            Ok(_) => 200,
            Err(e) => e.status_code().code(),
        }
    }

    fn err(&self, sql: &str) -> String {
        match self.try_run(sql) {
            Ok(_) => panic!("{sql}: expected an error"),
            Err(e) => e.to_string(),
        }
    }
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn cols(t: &Table) -> Vec<&str> {
    t.columns.iter().map(String::as_str).collect()
}

/// Two devices of a small weather database used by several tests.
fn weather() -> Db {
    let db = Db::new();
    db.run("CREATE DATABASE root.ln");
    db.run("CREATE TIMESERIES root.ln.wf01.wt01.status WITH DATATYPE=BOOLEAN, ENCODING=PLAIN");
    db.run("CREATE TIMESERIES root.ln.wf01.wt01.temperature WITH DATATYPE=FLOAT, ENCODING=RLE");
    db.run("CREATE TIMESERIES root.ln.wf01.wt02.hardware WITH DATATYPE=TEXT, ENCODING=PLAIN");
    db.run("CREATE TIMESERIES root.ln.wf01.wt02.status WITH DATATYPE=BOOLEAN, ENCODING=PLAIN");
    db.run("INSERT INTO root.ln.wf01.wt01(timestamp, status, temperature) VALUES (1, true, 25.5), (2, false, 24.0), (4, true, 26.25)");
    db.run("INSERT INTO root.ln.wf01.wt01(timestamp, temperature) VALUES (5, 20.0)");
    db.run("INSERT INTO root.ln.wf01.wt02(timestamp, hardware, status) VALUES (2, 'v1', true), (3, 'v2', false), (5, 'x9', true)");
    db
}

#[test]
fn seed_insert_and_select_device() {
    let db = Db::new();
    db.run("insert into root.cursor(timestamp,temperature) values(1,0.3)");
    db.run("insert into root.cursor(timestamp,temperature) values(2,1)");
    let t = db.query("select * from root.cursor");
    assert_eq!(cols(&t), vec!["root.cursor.temperature"]);
    assert_eq!(t.types, vec![TSDataType::Float]);
    assert!(!t.ignore_timestamp);
    assert_eq!(t.rows, vec![(1, vec![s("0.3")]), (2, vec![s("1.0")])]);
}

#[test]
fn seed_wildcards_root_star_and_double_star() {
    let db = Db::new();
    db.run("insert into root.device0(timestamp, pressure) values(1, 1.5)");
    db.run("insert into root.sg.d1(timestamp, s1) values(2, 7)");
    let t = db.query("SELECT * FROM root.*");
    assert_eq!(cols(&t), vec!["root.device0.pressure"]);
    assert_eq!(t.rows, vec![(1, vec![s("1.5")])]);
    let t = db.query("SELECT ** FROM root");
    let mut c = cols(&t);
    c.sort();
    assert_eq!(c, vec!["root.device0.pressure", "root.sg.d1.s1"]);
    assert_eq!(t.rows.len(), 2);
}

#[test]
fn seed_datetime_filter_in_session_zone() {
    let db = Db::with_zone("+08:00");
    // 2017-11-01T00:07:00+08:00 and 00:09:00+08:00
    db.run("insert into root.ln.d(timestamp, s) values(2017-11-01T00:07:00.000, 1.0)");
    db.run("insert into root.ln.d(timestamp, s) values(1509466140000, 2.0)");
    let t = db.query("select s from root.ln.d where time < 2017-11-01T00:08:00.000");
    assert_eq!(t.rows, vec![(1509466020000, vec![s("1.0")])]);
    let t = db.query("select s from root.ln.d where time >= 2017-11-01T00:08:00.000+08:00");
    assert_eq!(t.rows, vec![(1509466140000, vec![s("2.0")])]);
}

#[test]
fn align_by_time_is_a_union_of_timestamps() {
    let db = weather();
    let t = db.query("select temperature, hardware from root.ln.wf01.wt01, root.ln.wf01.wt02");
    assert_eq!(
        cols(&t),
        vec![
            "root.ln.wf01.wt01.temperature",
            "root.ln.wf01.wt02.hardware"
        ]
    );
    assert_eq!(t.types, vec![TSDataType::Float, TSDataType::Text]);
    assert_eq!(
        t.rows,
        vec![
            (1, vec![s("25.5"), None]),
            (2, vec![s("24.0"), s("v1")]),
            (3, vec![None, s("v2")]),
            (4, vec![s("26.25"), None]),
            (5, vec![s("20.0"), s("x9")]),
        ]
    );
    // The same rows in batches of two.
    let b = db.query_batched(
        "select temperature, hardware from root.ln.wf01.wt01, root.ln.wf01.wt02",
        2,
    );
    assert_eq!(b.rows, t.rows);
}

#[test]
fn value_filters() {
    let db = weather();
    let q = |w: &str| {
        db.query(&format!(
            "select temperature from root.ln.wf01.wt01 where {w}"
        ))
        .rows
        .into_iter()
        .map(|r| r.0)
        .collect::<Vec<_>>()
    };
    assert_eq!(q("temperature > 24.5"), vec![1, 4]);
    assert_eq!(q("temperature > 24.5 and time > 1"), vec![4]);
    assert_eq!(q("status = true or temperature < 21"), vec![1, 4, 5]);
    assert_eq!(q("not status"), vec![2]);
    assert_eq!(q("temperature between 24 and 25.5"), vec![1, 2]);
    assert_eq!(q("temperature not between 24 and 25.5"), vec![4, 5]);
    assert_eq!(q("temperature in (20, 24)"), vec![2, 5]);
    assert_eq!(q("status is null"), vec![5]);
    assert_eq!(q("time != 4 and time <> 2"), vec![1, 5]);
    // Filter on a series of another device (full path); a matching time where the selected
    // series has no value is still a row (NULL), as in IoTDB.
    assert_eq!(q("root.ln.wf01.wt02.hardware like 'v%'"), vec![2, 3]);
    assert_eq!(q("root.ln.wf01.wt02.hardware regexp '^x'"), vec![5]);
    assert_eq!(q("root.ln.wf01.wt02.hardware like '_9'"), vec![5]);
}

#[test]
fn expressions_headers_and_types() {
    let db = weather();
    let t = db.query("select temperature + 1, -temperature, (temperature + 1) * 2 from root.ln.wf01.wt01 where time <= 2");
    assert_eq!(
        cols(&t),
        vec![
            "root.ln.wf01.wt01.temperature + 1",
            "-root.ln.wf01.wt01.temperature",
            "(root.ln.wf01.wt01.temperature + 1) * 2"
        ]
    );
    assert_eq!(
        t.types,
        vec![TSDataType::Double, TSDataType::Float, TSDataType::Double]
    );
    assert_eq!(t.rows[0], (1, vec![s("26.5"), s("-25.5"), s("53.0")]));
    let t = db.query("select temperature as t, status from root.ln.wf01.wt01 where time = 2");
    assert_eq!(cols(&t), vec!["t", "root.ln.wf01.wt01.status"]);
    assert_eq!(t.rows, vec![(2, vec![s("24.0"), s("false")])]);
    let t = db.query("select cast(temperature as INT32), cast(status as TEXT) from root.ln.wf01.wt01 where time <= 2");
    assert_eq!(
        cols(&t),
        vec![
            "CAST(root.ln.wf01.wt01.temperature AS INT32)",
            "CAST(root.ln.wf01.wt01.status AS TEXT)"
        ]
    );
    assert_eq!(t.types, vec![TSDataType::Int32, TSDataType::Text]);
    // Floating point to integer rounds like Java's Math.round (25.5 -> 26).
    assert_eq!(t.rows[0], (1, vec![s("26"), s("true")]));
    // Type errors are semantic errors.
    assert_eq!(db.code("select hardware + 1 from root.ln.wf01.wt02"), 701);
}

#[test]
fn duplicates_share_a_data_column() {
    let db = weather();
    let t = db.query("select temperature, temperature from root.ln.wf01.wt01 where time = 1");
    assert_eq!(t.columns.len(), 2);
    assert_eq!(t.column_index, vec![0, 0]);
    assert_eq!(t.rows, vec![(1, vec![s("25.5"), s("25.5")])]);
}

#[test]
fn limit_offset_slimit_soffset_and_desc() {
    let db = weather();
    let t = db.query("select temperature from root.ln.wf01.wt01 limit 2 offset 1");
    assert_eq!(t.rows.iter().map(|r| r.0).collect::<Vec<_>>(), vec![2, 4]);
    let t = db.query("select temperature from root.ln.wf01.wt01 order by time desc limit 2");
    assert_eq!(t.rows.iter().map(|r| r.0).collect::<Vec<_>>(), vec![5, 4]);
    let all = db.query("select * from root.ln.wf01.wt01");
    assert_eq!(all.columns.len(), 2);
    let t = db.query("select * from root.ln.wf01.wt01 slimit 1 soffset 1");
    assert_eq!(t.columns, vec![all.columns[1].clone()]);
    let t = db.query_batched("select * from root.ln.** order by time desc", 1);
    assert_eq!(
        t.rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![5, 4, 3, 2, 1]
    );
}

#[test]
fn aggregations_without_group_by() {
    let db = weather();
    let t = db.query("select count(temperature), SUM(temperature), avg(temperature), max_value(temperature), min_value(temperature), extreme(temperature), first_value(temperature), last_value(temperature), max_time(temperature), min_time(temperature) from root.ln.wf01.wt01");
    assert_eq!(
        cols(&t),
        vec![
            "count(root.ln.wf01.wt01.temperature)",
            "SUM(root.ln.wf01.wt01.temperature)",
            "avg(root.ln.wf01.wt01.temperature)",
            "max_value(root.ln.wf01.wt01.temperature)",
            "min_value(root.ln.wf01.wt01.temperature)",
            "extreme(root.ln.wf01.wt01.temperature)",
            "first_value(root.ln.wf01.wt01.temperature)",
            "last_value(root.ln.wf01.wt01.temperature)",
            "max_time(root.ln.wf01.wt01.temperature)",
            "min_time(root.ln.wf01.wt01.temperature)",
        ]
    );
    use TSDataType::*;
    assert_eq!(
        t.types,
        vec![Int64, Double, Double, Float, Float, Float, Float, Float, Int64, Int64]
    );
    assert!(t.ignore_timestamp);
    assert_eq!(
        t.rows,
        vec![(
            0,
            vec![
                s("4"),
                s("95.75"),
                s("23.9375"),
                s("26.25"),
                s("20.0"),
                s("26.25"),
                s("25.5"),
                s("20.0"),
                s("5"),
                s("1")
            ]
        )]
    );
    // Empty input: count 0, others null.
    let t = db.query(
        "select count(temperature), avg(temperature) from root.ln.wf01.wt01 where time > 100",
    );
    assert_eq!(t.rows, vec![(0, vec![s("0"), None])]);
    // Value filter applies before aggregation.
    let t = db.query("select count(temperature) from root.ln.wf01.wt01 where status = true");
    assert_eq!(t.rows, vec![(0, vec![s("2")])]);
    // count(*) expands.
    let t = db.query("select count(*) from root.ln.wf01.wt02");
    assert_eq!(t.columns.len(), 2);
    assert!(t
        .columns
        .iter()
        .all(|c| c.starts_with("count(root.ln.wf01.wt02.")));
    assert_eq!(t.rows, vec![(0, vec![s("3"), s("3")])]);
    // Mixing raw and aggregated items.
    assert_eq!(
        db.code("select count(temperature), status from root.ln.wf01.wt01"),
        701
    );
    assert_eq!(db.code("select sum(hardware) from root.ln.wf01.wt02"), 701);
}

#[test]
fn group_by_time_windows() {
    let db = weather();
    let t = db.query("select count(temperature), max_value(temperature) from root.ln.wf01.wt01 group by ([1, 7), 2ms)");
    assert!(!t.ignore_timestamp);
    assert_eq!(
        t.rows,
        vec![
            (1, vec![s("2"), s("25.5")]),
            (3, vec![s("1"), s("26.25")]),
            (5, vec![s("1"), s("20.0")]),
        ]
    );
    let t = db.query("select count(temperature) from root.ln.wf01.wt01 group by ((0, 6], 3ms) order by time desc");
    assert_eq!(t.rows, vec![(6, vec![s("2")]), (3, vec![s("2")])]);
    let t = db.query(
        "select count(temperature) from root.ln.wf01.wt01 group by ([1, 10), 2ms) limit 2 offset 3",
    );
    assert_eq!(t.rows, vec![(7, vec![s("0")]), (9, vec![s("0")])]);
}

#[test]
fn last_queries() {
    let db = weather();
    let t = db.query("select last * from root.ln.wf01.wt01");
    assert_eq!(cols(&t), vec!["Timeseries", "Value", "DataType"]);
    assert!(!t.ignore_timestamp);
    let mut rows = t.rows.clone();
    rows.sort_by(|a, b| a.1[0].cmp(&b.1[0]));
    assert_eq!(
        rows,
        vec![
            (
                4,
                vec![s("root.ln.wf01.wt01.status"), s("true"), s("BOOLEAN")]
            ),
            (
                5,
                vec![s("root.ln.wf01.wt01.temperature"), s("20.0"), s("FLOAT")]
            ),
        ]
    );
    let t = db.query("select last status from root.ln.wf01.wt01, root.ln.wf01.wt02 where time < 4 order by timeseries desc");
    assert_eq!(
        t.rows,
        vec![
            (
                3,
                vec![s("root.ln.wf01.wt02.status"), s("false"), s("BOOLEAN")]
            ),
            (
                2,
                vec![s("root.ln.wf01.wt01.status"), s("false"), s("BOOLEAN")]
            ),
        ]
    );
    let ctx = &db.ctx;
    let r = db
        .ex
        .last_data_query(&["root.ln.wf01.wt02.hardware".into()], 3, ctx)
        .unwrap();
    let t = collect(r, 10);
    assert_eq!(
        t.rows,
        vec![(5, vec![s("root.ln.wf01.wt02.hardware"), s("x9"), s("TEXT")])]
    );
}

#[test]
fn raw_data_query_rpc() {
    let db = weather();
    let r = db
        .ex
        .raw_data_query(
            &[
                "root.ln.wf01.wt01.temperature".into(),
                "root.ln.wf01.wt02.hardware".into(),
            ],
            2,
            5,
            &db.ctx,
        )
        .unwrap();
    let t = collect(r, 10);
    assert_eq!(
        t.rows,
        vec![
            (2, vec![s("24.0"), s("v1")]),
            (3, vec![None, s("v2")]),
            (4, vec![s("26.25"), None]),
        ]
    );
}

#[test]
fn delete_with_time_conditions() {
    let db = weather();
    db.run("delete from root.ln.wf01.wt01.temperature where time >= 2 and time <= 4");
    let t = db.query("select temperature from root.ln.wf01.wt01");
    assert_eq!(t.rows.iter().map(|r| r.0).collect::<Vec<_>>(), vec![1, 5]);
    let e = db.err("delete from root.ln.** where time < 1 or time > 3");
    assert!(e.contains("atomic expressions"), "{e}");
    assert_eq!(db.code("delete from root.ln.** where temperature > 1"), 701);
    db.run("delete from root.ln.wf01.wt02.*");
    assert!(db.query("select * from root.ln.wf01.wt02").rows.is_empty());
    // No error for paths that do not exist.
    db.run("delete from root.nothing.here");
}

#[test]
fn show_and_count_statements() {
    let db = weather();
    db.run("CREATE TIMESERIES root.ln.wf02.wt01.speed WITH DATATYPE=INT64, ENCODING=RLE, COMPRESSOR=SNAPPY TAGS(unit='rpm', owner=\"a\") ATTRIBUTES(maker='acme')");
    let t = db.query("show timeseries root.ln.wf02.**");
    assert_eq!(
        cols(&t),
        vec![
            "Timeseries",
            "Alias",
            "Database",
            "DataType",
            "Encoding",
            "Compression",
            "Tags",
            "Attributes",
            "Deadband",
            "DeadbandParameters"
        ]
    );
    assert!(t.ignore_timestamp);
    assert!(t.types.iter().all(|t| *t == TSDataType::Text));
    let row = &t.rows[0].1;
    assert_eq!(row[0], s("root.ln.wf02.wt01.speed"));
    assert_eq!(row[1], None);
    assert_eq!(row[2], s("root.ln"));
    assert_eq!(row[3], s("INT64"));
    assert_eq!(row[4], s("RLE"));
    assert_eq!(row[5], s("SNAPPY"));
    let tags = row[6].clone().unwrap();
    assert!(
        tags == r#"{"unit":"rpm","owner":"a"}"# || tags == r#"{"owner":"a","unit":"rpm"}"#,
        "{tags}"
    );
    assert_eq!(row[7], s(r#"{"maker":"acme"}"#));
    assert_eq!(row[8], None);

    let t = db.query("show timeseries");
    assert_eq!(t.rows.len(), 5);
    let t = db.query("show timeseries limit 2 offset 4");
    assert_eq!(t.rows.len(), 1);

    let t = db.query("show databases");
    assert_eq!(
        cols(&t),
        vec![
            "Database",
            "TTL(ms)",
            "SchemaReplicationFactor",
            "DataReplicationFactor",
            "TimePartitionInterval",
            "SchemaRegionNum",
            "DataRegionNum"
        ]
    );
    assert_eq!(
        t.types,
        vec![
            TSDataType::Text,
            TSDataType::Int64,
            TSDataType::Int32,
            TSDataType::Int32,
            TSDataType::Int64,
            TSDataType::Int32,
            TSDataType::Int32
        ]
    );
    assert_eq!(t.rows[0].1[0], s("root.ln"));
    assert_eq!(t.rows[0].1[1], None);
    assert_eq!(t.rows[0].1[2], s("1"));

    let t = db.query("count timeseries root.ln.**");
    assert_eq!(cols(&t), vec!["count(timeseries)"]);
    assert_eq!(t.types, vec![TSDataType::Int64]);
    assert_eq!(t.rows, vec![(0, vec![s("5")])]);
    let t = db.query("count timeseries root.ln.** group by level = 2");
    assert_eq!(cols(&t), vec!["Column", "count(timeseries)"]);
    assert_eq!(
        t.rows,
        vec![
            (0, vec![s("root.ln.wf01"), s("4")]),
            (0, vec![s("root.ln.wf02"), s("1")])
        ]
    );

    let t = db.query("show devices");
    assert_eq!(cols(&t), vec!["Device", "IsAligned"]);
    assert_eq!(t.rows.len(), 3);
    let t = db.query("show devices root.ln.wf01.** with database");
    assert_eq!(cols(&t), vec!["Device", "Database", "IsAligned"]);
    assert_eq!(t.rows.len(), 2);
    assert_eq!(t.rows[0].1[1], s("root.ln"));
    assert_eq!(t.rows[0].1[2], s("false"));
    let t = db.query("count devices");
    assert_eq!(t.rows, vec![(0, vec![s("3")])]);
    let t = db.query("count databases");
    assert_eq!(cols(&t), vec!["count"]);
    assert_eq!(t.types, vec![TSDataType::Int32]);
    assert_eq!(t.rows, vec![(0, vec![s("1")])]);

    let t = db.query("show version");
    assert_eq!(cols(&t), vec!["Version", "BuildInfo"]);
    assert_eq!(t.rows.len(), 1);
}

#[test]
fn insert_type_handling() {
    let db = Db::new();
    db.run("insert into root.t.d(timestamp, a, b, c, d, e, f) values(1, 1, 2.5, true, 'txt', NaN, 123456789)");
    let t = db.query("show timeseries root.t.d.*");
    let types: std::collections::HashMap<String, String> = t
        .rows
        .iter()
        .map(|r| (r.1[0].clone().unwrap(), r.1[3].clone().unwrap()))
        .collect();
    assert_eq!(types["root.t.d.a"], "FLOAT");
    assert_eq!(types["root.t.d.b"], "FLOAT");
    assert_eq!(types["root.t.d.c"], "BOOLEAN");
    assert_eq!(types["root.t.d.d"], "TEXT");
    assert_eq!(types["root.t.d.e"], "DOUBLE");
    assert_eq!(types["root.t.d.f"], "DOUBLE");
    // Existing series keep their type; null skips a cell.
    db.run("create timeseries root.t.x.i with datatype=INT64, encoding=RLE");
    db.run("create timeseries root.t.x.s with datatype=TEXT, encoding=PLAIN");
    db.run("insert into root.t.x(time, i, s) values(5, 42, 7), (6, null, 'y')");
    let t = db.query("select i, s from root.t.x");
    assert_eq!(t.types, vec![TSDataType::Int64, TSDataType::Text]);
    assert_eq!(
        t.rows,
        vec![(5, vec![s("42"), s("7")]), (6, vec![None, s("y")])]
    );
    // A text literal into an INT64 series is a type mismatch.
    assert_ne!(
        db.code("insert into root.t.x(time, i) values(7, 'abc')"),
        200
    );
    // Aligned insert and no time column (server time).
    db.run("insert into root.t.al(time, p) aligned values(1, 2.0)");
    db.run("insert into root.t.now(v) values(1)");
    assert_eq!(db.query("select v from root.t.now").rows.len(), 1);
    let before = model::time::now_ms();
    db.run("insert into root.t.now2(time, v) values(now(), 1), (now() - 1d, 2)");
    let t = db.query("select v from root.t.now2");
    assert_eq!(t.rows.len(), 2);
    assert!(t.rows[1].0 >= before);
    let gap = t.rows[1].0 - t.rows[0].0;
    assert!((86_400_000..86_401_000).contains(&gap), "{gap}");
    assert_eq!(
        db.query("select v from root.t.now2 where time > now() - 1h")
            .rows
            .len(),
        1
    );
}

#[test]
fn unsupported_features_say_so() {
    let db = weather();
    for sql in [
        "select avg(temperature) from root.ln.** group by tags(city)",
        "select m4(temperature, 'windowSize'='2') from root.ln.wf01.wt01",
        "select stddev(temperature) from root.ln.wf01.wt01",
    ] {
        assert_eq!(db.code(sql), 300, "{sql}");
    }
    // A function IoTDB does not know is a user-defined function that is not registered.
    assert_eq!(
        db.code("select no_such_udf(temperature) from root.ln.wf01.wt01"),
        701
    );
}

#[test]
fn having_filters_aggregated_rows() {
    let db = weather();
    let t = db.query("select count(temperature) from root.ln.wf01.wt01 group by ([1, 9), 2ms) having count(temperature) > 0");
    assert_eq!(
        t.rows,
        vec![(1, vec![s("2")]), (3, vec![s("1")]), (5, vec![s("1")])]
    );
    // HAVING may use aggregations that are not selected; LIMIT/OFFSET apply afterwards.
    let t = db.query("select max_value(temperature) from root.ln.wf01.wt01 group by ([1, 9), 2ms) having count(temperature) = 1 limit 1 offset 1");
    assert_eq!(t.rows, vec![(5, vec![s("20.0")])]);
    let t = db.query("select count(status) from root.ln.** group by ([1, 7), 3ms), level = 1 having count(status) > 3");
    assert_eq!(t.rows, vec![(1, vec![s("4")])]);
    let t =
        db.query("select count(temperature) from root.ln.wf01.wt01 having count(temperature) > 10");
    assert!(t.rows.is_empty());
    assert_eq!(
        db.code("select temperature from root.ln.wf01.wt01 having temperature > 1"),
        701
    );
}

#[test]
fn fill_methods() {
    let db = weather();
    let base = "select temperature, hardware from root.ln.wf01.wt01, root.ln.wf01.wt02";
    let t = db.query(&format!("{base} fill(previous)"));
    assert_eq!(
        t.rows,
        vec![
            (1, vec![s("25.5"), None]),
            (2, vec![s("24.0"), s("v1")]),
            (3, vec![s("24.0"), s("v2")]),
            (4, vec![s("26.25"), s("v2")]),
            (5, vec![s("20.0"), s("x9")]),
        ]
    );
    // FILL happens before OFFSET/LIMIT.
    let t = db.query_batched(&format!("{base} fill(previous) limit 2 offset 2"), 1);
    assert_eq!(
        t.rows,
        vec![
            (3, vec![s("24.0"), s("v2")]),
            (4, vec![s("26.25"), s("v2")])
        ]
    );
    let t = db.query(&format!("{base} fill(linear)"));
    assert_eq!(t.rows[2], (3, vec![s("25.125"), s("v2")]));
    assert_eq!(t.rows[0], (1, vec![s("25.5"), None]));
    let t = db.query(&format!("{base} fill(0)"));
    assert_eq!(t.rows[0], (1, vec![s("25.5"), s("0")]));
    assert_eq!(t.rows[2], (3, vec![s("0.0"), s("v2")]));
    let t = db.query(&format!("{base} fill('n/a')"));
    assert_eq!(t.rows[2], (3, vec![None, s("v2")]));
    assert_eq!(t.rows[0], (1, vec![s("25.5"), s("n/a")]));
    // GROUP BY windows are filled too.
    let t = db.query("select max_value(temperature) from root.ln.wf01.wt01 group by ([1, 9), 2ms) fill(previous)");
    assert_eq!(
        t.rows,
        vec![
            (1, vec![s("25.5")]),
            (3, vec![s("26.25")]),
            (5, vec![s("20.0")]),
            (7, vec![s("20.0")]),
        ]
    );
}

#[test]
fn align_by_device() {
    let db = weather();
    let t = db.query("select status from root.ln.wf01.* align by device");
    assert_eq!(cols(&t), vec!["Device", "status"]);
    assert_eq!(t.types, vec![TSDataType::Text, TSDataType::Boolean]);
    assert!(!t.ignore_timestamp);
    let w1 = s("root.ln.wf01.wt01");
    let w2 = s("root.ln.wf01.wt02");
    assert_eq!(
        t.rows,
        vec![
            (1, vec![w1.clone(), s("true")]),
            (2, vec![w1.clone(), s("false")]),
            (4, vec![w1.clone(), s("true")]),
            (2, vec![w2.clone(), s("true")]),
            (3, vec![w2.clone(), s("false")]),
            (5, vec![w2.clone(), s("true")]),
        ]
    );
    let t = db.query_batched(
        "select status from root.ln.wf01.* order by device desc, time desc limit 3 offset 1 align by device",
        2,
    );
    assert_eq!(
        t.rows,
        vec![
            (3, vec![w2.clone(), s("false")]),
            (2, vec![w2.clone(), s("true")]),
            (4, vec![w1.clone(), s("true")]),
        ]
    );
    let t = db.query("select * from root.ln.** align by device");
    assert_eq!(t.columns.len(), 4);
    assert_eq!(t.columns[0], "Device");
    let mut m: Vec<&str> = t.columns[1..].iter().map(String::as_str).collect();
    m.sort();
    assert_eq!(m, vec!["hardware", "status", "temperature"]);
    let hw = t.columns.iter().position(|c| c == "hardware").unwrap();
    let row = t.rows.iter().find(|r| r.1[0] == w1 && r.0 == 1).unwrap();
    assert_eq!(row.1[hw], None);
    let t =
        db.query("select count(status), last_value(status) from root.ln.wf01.* align by device");
    assert!(t.ignore_timestamp);
    assert_eq!(
        cols(&t),
        vec!["Device", "count(status)", "last_value(status)"]
    );
    assert_eq!(
        t.rows,
        vec![
            (0, vec![w1.clone(), s("3"), s("true")]),
            (0, vec![w2.clone(), s("3"), s("true")]),
        ]
    );
    assert_eq!(
        db.code("select root.ln.wf01.wt01.status from root.ln.** align by device"),
        701
    );
}

#[test]
fn group_by_level() {
    let db = weather();
    let t = db.query("select count(status) from root.ln.** group by level = 1");
    assert_eq!(cols(&t), vec!["count(root.ln.*.*.status)"]);
    assert!(t.ignore_timestamp);
    assert_eq!(t.rows, vec![(0, vec![s("6")])]);
    let t = db.query("select count(status) from root.ln.** group by level = 3");
    let mut c = cols(&t);
    c.sort();
    assert_eq!(
        c,
        vec!["count(root.*.*.wt01.status)", "count(root.*.*.wt02.status)"]
    );
    assert_eq!(t.rows, vec![(0, vec![s("3"), s("3")])]);
    // count(*) merges every measurement: IoTDB shows the measurement as `*`
    let t = db.query("select count(*) from root.ln.** group by level = 1");
    assert_eq!(cols(&t), vec!["count(root.ln.*.*.*)"]);
    let t = db.query("select count(status) from root.ln.** group by ([1, 5), 2ms), level = 1");
    assert!(!t.ignore_timestamp);
    assert_eq!(t.rows, vec![(1, vec![s("3")]), (3, vec![s("2")])]);
    // expressions over the merged aggregations
    let t =
        db.query("select count(status) + 1, count(status) * 2 from root.ln.** group by level = 1");
    assert_eq!(
        cols(&t),
        vec![
            "count(root.ln.*.*.status) + 1",
            "count(root.ln.*.*.status) * 2"
        ]
    );
    assert_eq!(t.types, vec![TSDataType::Double, TSDataType::Double]);
    assert_eq!(t.rows, vec![(0, vec![s("7.0"), s("12.0")])]);
}

#[test]
fn missing_series_are_no_columns() {
    let db = weather();
    let t = db.query("select nothing from root.ln.wf01.wt01");
    assert!(t.columns.is_empty());
    assert!(t.rows.is_empty());
    let t = db.query("select temperature, nothing from root.ln.wf01.wt01 where time = 1");
    assert_eq!(cols(&t), vec!["root.ln.wf01.wt01.temperature"]);
}

#[test]
fn schema_templates_via_sql() {
    let db = Db::new();
    db.run("CREATE DATABASE root.sg1");
    db.run("CREATE SCHEMA TEMPLATE t1 (temperature FLOAT encoding=RLE, status BOOLEAN encoding=PLAIN compression=SNAPPY)");
    let t = db.query("SHOW SCHEMA TEMPLATES");
    assert_eq!(cols(&t), vec!["TemplateName"]);
    assert_eq!(t.rows, vec![(0, vec![s("t1")])]);
    let t = db.query("SHOW NODES IN SCHEMA TEMPLATE t1");
    assert_eq!(
        cols(&t),
        vec!["ChildNodes", "DataType", "Encoding", "Compression"]
    );
    let mut rows: Vec<Vec<Option<String>>> = t.rows.into_iter().map(|r| r.1).collect();
    rows.sort();
    assert_eq!(
        rows,
        vec![
            vec![s("status"), s("BOOLEAN"), s("PLAIN"), s("SNAPPY")],
            vec![s("temperature"), s("FLOAT"), s("RLE"), s("SNAPPY")],
        ]
    );
    assert_eq!(db.code("SHOW NODES IN SCHEMA TEMPLATE nope"), 507);
    db.run("SET SCHEMA TEMPLATE t1 TO root.sg1.d1");
    let t = db.query("SHOW PATHS SET SCHEMA TEMPLATE t1");
    assert_eq!(cols(&t), vec!["Paths"]);
    assert_eq!(t.rows, vec![(0, vec![s("root.sg1.d1")])]);
    db.run("CREATE TIMESERIES OF SCHEMA TEMPLATE ON root.sg1.d1");
    let t = db.query("SHOW PATHS USING SCHEMA TEMPLATE t1");
    assert_eq!(t.rows, vec![(0, vec![s("root.sg1.d1")])]);
    assert_eq!(db.query("show timeseries root.sg1.d1.*").rows.len(), 2);
    db.run("insert into root.sg1.d1(time, temperature) values (1, 36.6)");
    let t = db.query("select temperature from root.sg1.d1");
    assert_eq!(t.rows, vec![(1, vec![s("36.6")])]);
    db.run("DEACTIVATE SCHEMA TEMPLATE t1 FROM root.sg1.d1");
    db.run("UNSET SCHEMA TEMPLATE t1 FROM root.sg1.d1");
    db.run("DROP SCHEMA TEMPLATE t1");
    assert!(db.query("SHOW SCHEMA TEMPLATES").rows.is_empty());
}

#[test]
fn users_via_sql() {
    let db = Db::new();
    db.run("CREATE USER alice 'secret1'");
    let t = db.query("LIST USER");
    assert_eq!(cols(&t), vec!["user"]);
    let users: Vec<Option<String>> = t.rows.into_iter().map(|r| r.1[0].clone()).collect();
    assert!(users.contains(&s("alice")) && users.contains(&s("root")));
    db.run("ALTER USER alice SET PASSWORD 'other22'");
    assert!(db.ex.engine().users().check("alice", "other22"));
    db.run("DROP USER alice");
    assert_ne!(db.code("DROP USER alice"), 200);
    assert_eq!(db.code("CREATE ROLE admin"), 200);
    assert_eq!(db.code("CREATE ROLE admin"), 809);
    assert_eq!(db.code("DROP ROLE nobody"), 808);
}

#[test]
fn schema_navigation_ttl_and_tag_filters() {
    let db = weather();
    let t = db.query("show child paths root.ln");
    assert_eq!(cols(&t), vec!["ChildPaths", "NodeTypes"]);
    assert_eq!(t.rows, vec![(0, vec![s("root.ln.wf01"), s("INTERNAL")])]);
    let t = db.query("show child nodes root.ln.wf01");
    assert_eq!(cols(&t), vec!["ChildNodes"]);
    let mut nodes: Vec<Option<String>> = t.rows.into_iter().map(|r| r.1[0].clone()).collect();
    nodes.sort();
    assert_eq!(nodes, vec![s("wt01"), s("wt02")]);
    let t = db.query("count nodes root.ln.** level = 3");
    assert_eq!(cols(&t), vec!["count(nodes)"]);
    assert_eq!(t.rows, vec![(0, vec![s("2")])]);

    db.run("set ttl to root.ln 3600000");
    let t = db.query("show all ttl");
    assert_eq!(cols(&t), vec!["Database", "TTL(ms)"]);
    assert_eq!(t.rows, vec![(0, vec![s("root.ln"), s("3600000")])]);
    let t = db.query("show ttl on root.ln");
    assert_eq!(t.rows, vec![(0, vec![s("root.ln"), s("3600000")])]);
    db.run("unset ttl to root.ln");
    assert_eq!(
        db.query("show all ttl").rows,
        vec![(0, vec![s("root.ln"), None])]
    );

    db.run(
        "create timeseries root.ln.wf03.d.s1 with datatype=INT32, encoding=RLE tags(city=beijing)",
    );
    db.run(
        "create timeseries root.ln.wf03.d.s2 with datatype=INT32, encoding=RLE tags(city=shanghai)",
    );
    let t = db.query("show timeseries root.ln.** where city = 'beijing'");
    assert_eq!(t.rows.len(), 1);
    assert_eq!(t.rows[0].1[0], s("root.ln.wf03.d.s1"));
    let t = db.query("show timeseries root.ln.** where city contains 'hai'");
    assert_eq!(t.rows.len(), 1);
    assert_eq!(t.rows[0].1[0], s("root.ln.wf03.d.s2"));
    let t = db.query("count timeseries root.ln.** where city contains 'i'");
    assert_eq!(t.rows, vec![(0, vec![s("2")])]);
}

#[test]
fn ddl_errors_carry_iotdb_codes() {
    let db = weather();
    assert_eq!(db.code("create database root.ln"), 501);
    assert_eq!(
        db.code("create timeseries root.ln.wf01.wt01.status with datatype=BOOLEAN"),
        503
    );
    assert_eq!(db.code("delete timeseries root.ln.nothing.s"), 508);
    assert_eq!(
        db.code("create timeseries root.ln.a.b with datatype=BOOLEAN, encoding=TS_2DIFF"),
        507
    );
    assert_eq!(db.code("selec * from root.ln"), 700);
    assert_eq!(
        db.code("insert into root.ln.x(time, a, b) values (1, 2), (2, 3, 4)"),
        701
    );
    db.run("delete database root.ln");
    assert!(db.query("show databases").rows.is_empty());
    assert!(db.query("select * from root.ln.**").columns.is_empty());
}

#[test]
fn executor_is_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Executor>();
    let db = Arc::new(weather());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let db = db.clone();
            std::thread::spawn(move || {
                let sql = format!("insert into root.mt.d{i}(time, v) values ({i}, {i})");
                db.ex.execute_sql(&sql, &db.ctx).unwrap();
                let r = match db
                    .ex
                    .execute_sql("select count(status) from root.ln.**", &db.ctx)
                {
                    Ok(Outcome::Rows(r)) => collect(r, 10),
                    other => panic!("{other:?}"),
                };
                assert_eq!(r.rows, vec![(0, vec![s("3"), s("3")])]);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(
        db.query("count devices root.mt.**").rows,
        vec![(0, vec![s("4")])]
    );
}

#[test]
fn single_node_cluster_shows() {
    let db = weather();
    let t = db.query("show regions");
    assert_eq!(
        cols(&t),
        vec![
            "RegionId",
            "Type",
            "Status",
            "Database",
            "SeriesSlotNum",
            "TimeSlotNum",
            "DataNodeId",
            "RpcAddress",
            "RpcPort",
            "Role"
        ]
    );
    let dbs = db.query("count databases").rows[0].1[0].clone();
    let n: usize = dbs.as_deref().unwrap_or("0").parse().unwrap();
    assert_eq!(t.rows.len(), 2 * n);
    let t = db.query("show data regions");
    assert_eq!(t.rows.len(), n);
    assert!(t.rows.iter().all(|r| r.1[1] == s("DataRegion")));
    let t = db.query("show datanodes");
    assert_eq!(t.rows.len(), 1);
    assert_eq!(t.rows[0].1[4], s(&n.to_string()));
    assert_eq!(db.query("show triggers").rows.len(), 0);
    assert_eq!(db.query("show continuous queries").rows.len(), 0);
    let t = db.query("show functions");
    assert!(t
        .rows
        .iter()
        .any(|r| r.1[0] == s("COUNT") && r.1[1] == s("native")));
    assert!(t.rows.iter().any(|r| r.1[0] == s("STRING_CONTAINS")));
}

#[test]
fn whole_series_functions() {
    let db = weather();
    let t = db.query(
        "select difference(temperature), top_k(temperature, 'k'='1') from root.ln.wf01.wt01",
    );
    assert_eq!(
        cols(&t),
        vec![
            "difference(root.ln.wf01.wt01.temperature)",
            "top_k(root.ln.wf01.wt01.temperature, \"k\"=\"1\")"
        ]
    );
    assert_eq!(t.types, vec![TSDataType::Float, TSDataType::Float]);
    // No row where neither function has a point; the first point has no difference.
    assert!(t.rows.iter().all(|r| r.1.iter().any(Option::is_some)));
    // Only in the SELECT list of raw queries.
    assert_eq!(
        db.code("select temperature from root.ln.wf01.wt01 where difference(temperature) > 0"),
        701
    );
    assert_eq!(
        db.code("select count(difference(temperature)) from root.ln.wf01.wt01"),
        701
    );
}

#[test]
fn fill_previous_within_a_bound() {
    let db = Db::new();
    db.run("CREATE DATABASE root.fw");
    db.run("INSERT INTO root.fw.d(time, a) VALUES (1, 1), (10, 10)");
    db.run("INSERT INTO root.fw.d(time, b) VALUES (3, 3), (20, 20)");
    let t = db.query("select a, b from root.fw.d fill(previous, 2ms)");
    let a: Vec<(i64, Option<String>)> = t.rows.iter().map(|r| (r.0, r.1[0].clone())).collect();
    // 3 is within 2 ms of 1; 20 is 10 ms after 10.
    assert_eq!(
        a,
        vec![(1, s("1.0")), (3, s("1.0")), (10, s("10.0")), (20, None)]
    );
    let t = db.query("select a, b from root.fw.d fill(previous)");
    assert_eq!(t.rows[3].1[0], s("10.0"));
    assert_eq!(db.code("select a from root.fw.d fill(previous, 1mo)"), 300);
}

#[test]
fn sql_insert_type_inference() {
    let db = Db::new();
    db.run("CREATE DATABASE root.inf");
    db.run(
        "INSERT INTO root.inf.d(time, a, b, c, d, e) VALUES (1, 1e3, 2.5, 16777217, -16777217, 7)",
    );
    let t = db.query("select a, b, c, d, e from root.inf.d");
    // IoTDB 1.0 defaults: numbers without '.' that are not a long above 2^24 -> FLOAT;
    // `1e3` is no Java long -> long_string_infer_type (DOUBLE); with '.' -> FLOAT.
    assert_eq!(
        t.types,
        vec![
            TSDataType::Double,
            TSDataType::Float,
            TSDataType::Double,
            TSDataType::Float,
            TSDataType::Float
        ]
    );
}

#[test]
fn illegal_database_and_series_paths() {
    let db = Db::new();
    assert_eq!(db.code("CREATE DATABASE root.`db quoted`"), 509);
    assert_eq!(db.code("CREATE DATABASE root.`db-dash`"), 509);
    assert_eq!(db.code("CREATE DATABASE root.中文_db1"), 200);
    assert_eq!(db.code("CREATE DATABASE root.ok"), 200);
    assert_eq!(
        db.code("CREATE TIMESERIES root.ok WITH DATATYPE=INT32"),
        509
    );
    assert_eq!(
        db.code("CREATE TIMESERIES root.ok.s WITH DATATYPE=INT32"),
        200
    );
}

#[test]
fn read_only_mode_refuses_writes() {
    let db = Db::new();
    db.run("CREATE DATABASE root.ro");
    db.run("INSERT INTO root.ro.d(time, s) VALUES (1, 1)");
    db.run("SET SYSTEM TO READONLY");
    assert_eq!(db.code("INSERT INTO root.ro.d(time, s) VALUES (2, 2)"), 600);
    assert_eq!(db.code("CREATE DATABASE root.ro2"), 600);
    assert_eq!(db.code("DELETE FROM root.ro.d.s"), 600);
    assert_eq!(db.query("select s from root.ro.d").rows.len(), 1);
    db.run("SET SYSTEM TO RUNNING");
    db.run("INSERT INTO root.ro.d(time, s) VALUES (3, 3)");
    assert_eq!(db.query("select s from root.ro.d").rows.len(), 2);
}

/// Aggregations over flushed chunks (answered from chunk statistics where a chunk fits a
/// window) equal the same aggregations over the same points never flushed.
#[test]
fn aggregation_from_chunk_statistics_matches_raw_points() {
    let flushed = Db::new();
    let raw = Db::new();
    for db in [&flushed, &raw] {
        db.run("CREATE DATABASE root.st");
        db.run("CREATE TIMESERIES root.st.d.x WITH DATATYPE=INT64, ENCODING=TS_2DIFF");
        db.run("CREATE TIMESERIES root.st.d.y WITH DATATYPE=DOUBLE, ENCODING=GORILLA");
        db.run("CREATE TIMESERIES root.st.d.t WITH DATATYPE=TEXT, ENCODING=PLAIN");
    }
    // chunks of 100 points: [0,99], [100,199], ... one per flush; an out-of-order batch and
    // a deletion overlap some of them
    let mut batches: Vec<String> = (0..8)
        .map(|k| {
            let rows: Vec<String> = (k * 100..k * 100 + 100)
                .map(|t| {
                    format!(
                        "({t}, {}, {}, 'v{t}')",
                        (t * 37) % 101 - 50,
                        (t % 13) as f64 - 6.0
                    )
                })
                .collect();
            format!(
                "INSERT INTO root.st.d(time, x, y, t) VALUES {}",
                rows.join(", ")
            )
        })
        .collect();
    batches.push("INSERT INTO root.st.d(time, x, y, t) VALUES (250, 999, 9.5, 'late'), (251, -999, -9.5, 'late2')".into());
    for b in &batches {
        flushed.run(b);
        flushed.run("FLUSH");
        raw.run(b);
    }
    for db in [&flushed, &raw] {
        db.run("DELETE FROM root.st.d.* WHERE time >= 420 AND time <= 430");
    }
    flushed.run("INSERT INTO root.st.d(time, x, y, t) VALUES (650, 5, 5.0, 'mem')");
    raw.run("INSERT INTO root.st.d(time, x, y, t) VALUES (650, 5, 5.0, 'mem')");
    let aggs = "count(x), sum(x), avg(x), max_value(x), min_value(x), extreme(x), first_value(x), \
                last_value(x), max_time(x), min_time(x), count(y), sum(y), avg(y), extreme(y), \
                min_value(y), first_value(t), last_value(t), count(t)";
    let xaggs = "count(x), sum(x), avg(x), max_value(x), min_value(x), extreme(x), \
                 first_value(x), last_value(x), max_time(x), min_time(x)";
    for q in [
        format!("select {aggs} from root.st.d"),
        format!("select {aggs} from root.st.d where time >= 100 and time < 700"),
        format!("select {aggs} from root.st.d group by ([0, 800), 100ms)"),
        format!("select {aggs} from root.st.d group by ([0, 800), 200ms)"),
        format!("select {aggs} from root.st.d group by ([0, 800), 50ms)"),
        format!("select {aggs} from root.st.d group by ((0, 800], 100ms)"),
        format!("select {aggs} from root.st.d group by ([0, 800), 200ms, 100ms)"),
        format!("select {aggs} from root.st.d group by ([0, 800), 100ms, 200ms)"),
        format!("select {aggs} from root.st.d group by ([0, 800), 100ms) order by time desc"),
        "select count(x) from root.st.d group by level = 1".to_string(),
        // value filters on the aggregated series: pushed down to chunk/page statistics
        format!("select {xaggs} from root.st.d where x > -1000"),
        format!("select {xaggs} from root.st.d where x > 0"),
        format!("select {xaggs} from root.st.d where x < -60"),
        format!("select {xaggs} from root.st.d where x >= -50 and x <= 50 and time > 150"),
        format!("select {xaggs} from root.st.d where x > 900 or x < -900"),
        format!("select {xaggs} from root.st.d where not (x between -20 and 20)"),
        format!("select {xaggs} from root.st.d where x > -1000 group by ([0, 800), 100ms)"),
        format!("select {xaggs} from root.st.d where x <= 10 group by ([0, 800), 50ms)"),
        "select count(y), sum(y), max_value(y) from root.st.d where y > -100".to_string(),
        "select count(y), avg(y) from root.st.d where y >= 0 group by ([0, 800), 200ms)"
            .to_string(),
    ] {
        let a = flushed.query(&q);
        let b = raw.query(&q);
        assert_eq!(a.columns, b.columns, "{q}");
        assert_eq!(a.rows, b.rows, "{q}");
    }
}

/// GROUP BY windows narrower than a chunk but wider than its pages (10,000 points each) are
/// answered from page statistics, and still equal the raw answer.
#[test]
fn group_by_windows_use_page_statistics_inside_big_chunks() {
    let flushed = Db::new();
    let raw = Db::new();
    let rows: Vec<String> = (0..45_000)
        .map(|t| {
            format!(
                "({t}, {}, {})",
                (t * 7919) % 1000 - 500,
                ((t % 97) as f64) * 0.5
            )
        })
        .collect();
    for db in [&flushed, &raw] {
        db.run("CREATE TIMESERIES root.pg.d.x WITH DATATYPE=INT32, ENCODING=RLE");
        db.run("CREATE TIMESERIES root.pg.d.y WITH DATATYPE=DOUBLE, ENCODING=GORILLA");
        for part in rows.chunks(5000) {
            db.run(&format!(
                "INSERT INTO root.pg.d(time, x, y) VALUES {}",
                part.join(", ")
            ));
        }
    }
    flushed.run("FLUSH");
    for q in [
        "select count(x), sum(x), max_value(x), min_time(x), last_value(y), avg(y) from root.pg.d group by ([0, 45000), 10000ms)",
        "select count(x), sum(x), max_value(x), first_value(y), avg(y) from root.pg.d group by ([0, 45000), 20000ms)",
        "select count(x), extreme(x), max_time(y) from root.pg.d group by ([0, 45000), 3000ms)",
        "select count(x), max_value(y) from root.pg.d group by ((0, 45000], 10000ms)",
        "select count(y), sum(y) from root.pg.d group by ([5000, 45000), 10000ms, 20000ms)",
        "select count(x), sum(x), min_value(y), first_value(x), last_value(y) from root.pg.d where time >= 12345 and time < 41000",
        "select count(x), max_time(x) from root.pg.d where time > 20000 and time <= 29999",
        "select count(x), sum(x), max_value(x) from root.pg.d where x > -1000 group by ([0, 45000), 10000ms)",
        "select count(y), avg(y), first_value(y) from root.pg.d where y >= 0",
        "select count(y), sum(y) from root.pg.d where y < 0",
        "select count(y), min_time(y), last_value(y) from root.pg.d where y > 24 group by ([0, 45000), 20000ms)",
    ] {
        let a = flushed.query(q);
        let b = raw.query(q);
        assert_eq!(a.columns, b.columns, "{q}");
        assert_eq!(a.rows, b.rows, "{q}");
    }
}

#[test]
fn select_into_writes_targets_and_reports_counts() {
    let db = weather();
    let t = db.query(
        "select temperature, status into root.bk.wt01(t, s) from root.ln.wf01.wt01 where time > 1",
    );
    assert_eq!(
        cols(&t),
        vec!["SourceColumn", "TargetTimeseries", "Written"]
    );
    assert!(t.ignore_timestamp);
    assert_eq!(t.types[2], TSDataType::Int32);
    assert_eq!(
        t.rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
        vec![
            vec![
                s("root.ln.wf01.wt01.temperature"),
                s("root.bk.wt01.t"),
                s("3")
            ],
            vec![s("root.ln.wf01.wt01.status"), s("root.bk.wt01.s"), s("2")],
        ]
    );
    let copy = db.query("select t, s from root.bk.wt01");
    assert_eq!(copy.types, vec![TSDataType::Float, TSDataType::Boolean]);
    assert_eq!(
        copy.rows,
        vec![
            (2, vec![s("24.0"), s("false")]),
            (4, vec![s("26.25"), s("true")]),
            (5, vec![s("20.0"), None]),
        ]
    );
    // placeholders: one INTO item for every device, `${i}` and `::`
    let t =
        db.query("select status into root.bk.${3}_copy(::) from root.ln.wf01.* align by device");
    assert_eq!(
        t.rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
        vec![
            vec![
                s("root.ln.wf01.wt01"),
                s("status"),
                s("root.bk.wt01_copy.status"),
                s("3")
            ],
            vec![
                s("root.ln.wf01.wt02"),
                s("status"),
                s("root.bk.wt02_copy.status"),
                s("3")
            ],
        ]
    );
    assert_eq!(
        db.query("select count(status) from root.bk.*").rows[0].1,
        vec![s("3"), s("3")]
    );
    // refused: counts that do not pair, placeholders over expressions, clashing types
    assert_eq!(
        db.code("select temperature into root.bk.x(a, b) from root.ln.wf01.wt01"),
        701
    );
    assert_eq!(
        db.code("select temperature + 1 into root.bk.x(::) from root.ln.wf01.wt01"),
        701
    );
    assert_eq!(
        db.code("select hardware into root.bk.wt01(t) from root.ln.wf01.wt02"),
        701
    );
    assert_eq!(
        db.code("select last temperature into root.bk.x(a) from root.ln.wf01.wt01"),
        701
    );
}

#[test]
fn select_into_copies_more_rows_than_one_batch() {
    let db = Db::new();
    let values: Vec<String> = (0..5000).map(|i| format!("({i}, {i})")).collect();
    db.run(&format!(
        "INSERT INTO root.big.d(time, v) VALUES {}",
        values.join(", ")
    ));
    let t = db.query("select v into aligned root.big.copy(v) from root.big.d");
    assert_eq!(t.rows[0].1[2], s("5000"));
    let c = db.query("select count(v), sum(v) from root.big.copy");
    assert_eq!(c.rows[0].1, vec![s("5000"), s("1.24975E7")]);
}

#[test]
fn align_by_device_columns_follow_the_select_list() {
    let db = weather();
    // `hardware` exists on wt02 only, `temperature` on wt01 only: the order is still the
    // SELECT list's, and a repeated column shares its data column
    let t = db
        .query("select hardware, temperature, status, status from root.ln.wf01.* align by device");
    assert_eq!(
        cols(&t),
        vec!["Device", "hardware", "temperature", "status", "status"]
    );
    assert_eq!(t.column_index, vec![0, 1, 2, 3, 3]);
    assert_eq!(
        t.rows[0],
        (
            1,
            vec![
                s("root.ln.wf01.wt01"),
                None,
                s("25.5"),
                s("true"),
                s("true")
            ]
        )
    );
    // a wildcard item gives each measurement once, after the items before it (and is not
    // merged with them); SLIMIT pages that order
    let t = db.query("select hardware, * from root.ln.wf01.* align by device");
    let mut wild: Vec<&str> = cols(&t)[2..].to_vec();
    assert_eq!(cols(&t)[..2], ["Device", "hardware"]);
    wild.sort_unstable();
    assert_eq!(wild, vec!["hardware", "status", "temperature"]);
    let paged =
        db.query("select hardware, * from root.ln.wf01.* slimit 2 soffset 1 align by device");
    assert_eq!(cols(&paged)[1..], cols(&t)[2..4]);
}

/// The time partitions that have data directories in a database's regions
/// (`<data>/sequence/<db>/<region>/<partition>`).
fn partition_dirs(db_dir: &std::path::Path) -> Vec<i64> {
    let mut out = Vec::new();
    for region in std::fs::read_dir(db_dir).into_iter().flatten().flatten() {
        for p in std::fs::read_dir(region.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if let Ok(p) = p.file_name().to_string_lossy().parse::<i64>() {
                out.push(p);
            }
        }
    }
    out.sort_unstable();
    out
}

#[test]
fn per_database_time_partition_interval() {
    let db = Db::new();
    db.run("CREATE DATABASE root.tp_day WITH TIME_PARTITION_INTERVAL=86400000");
    db.run("CREATE DATABASE root.tp_week");
    let t = db.query("SHOW DATABASES root.tp_*");
    let at = cols(&t)
        .iter()
        .position(|c| *c == "TimePartitionInterval")
        .unwrap();
    let mut intervals: Vec<_> = t.rows.iter().map(|r| r.1[at].clone()).collect();
    intervals.sort();
    assert_eq!(intervals, vec![s("604800000"), s("86400000")]);
    for d in ["root.tp_day", "root.tp_week"] {
        db.run(&format!(
            "INSERT INTO {d}.dev(time, v) VALUES (1000, 1), (259200005, 2)"
        ));
    }
    db.run("FLUSH");
    let seq = db._dir.path().join("sequence");
    assert_eq!(partition_dirs(&seq.join("root.tp_day")), vec![0, 3]);
    assert_eq!(partition_dirs(&seq.join("root.tp_week")), vec![0]);
    let t = db.query("SELECT v FROM root.tp_day.dev");
    assert_eq!(
        t.rows,
        vec![(1000, vec![s("1.0")]), (259200005, vec![s("2.0")])]
    );
    assert_ne!(
        db.code("CREATE DATABASE root.tp_zero WITH TIME_PARTITION_INTERVAL=0"),
        200
    );
}

#[test]
fn round_with_places() {
    let db = Db::new();
    db.run("INSERT INTO root.rd.d(time, v) VALUES (1, 7.25), (2, -7.25), (3, 1234.5), (4, 0.25)");
    let t = db.query("SELECT round(v, 1), round(v, -2), round(v) FROM root.rd.d");
    assert_eq!(
        cols(&t),
        vec![
            "ROUND(root.rd.d.v,1)",
            "ROUND(root.rd.d.v,-2)",
            "round(root.rd.d.v)"
        ]
    );
    assert_eq!(t.types, vec![TSDataType::Double; 3]);
    let col = |i: usize| t.rows.iter().map(|r| r.1[i].clone()).collect::<Vec<_>>();
    // half to even at the given decimal place, as IoTDB 2.0 rounds
    assert_eq!(col(0), vec![s("7.2"), s("-7.2"), s("1234.5"), s("0.2")]);
    assert_eq!(col(1), vec![s("0.0"), s("-0.0"), s("1200.0"), s("0.0")]);
    assert_eq!(col(2), vec![s("7.0"), s("-7.0"), s("1234.0"), s("0.0")]);
    assert_eq!(db.code("SELECT round(v, 'x') FROM root.rd.d"), 701);
    assert_eq!(db.code("SELECT round(v, 1, 2) FROM root.rd.d"), 701);
}
