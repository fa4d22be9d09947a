//! Rough throughput figures for the executor over an in-process engine:
//! `cargo run --release -p query --example query_bench [points_per_series] [series]`.

use model::time::TimeZone;
use model::{Column, ColumnData, InsertTablet, PartialPath, TSDataType};
use query::{Executor, Outcome, SessionContext};
use std::sync::Arc;
use std::time::Instant;
use storage::{Engine, StorageConfig, WalMode};

fn main() -> model::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let points = args.first().copied().unwrap_or(1_000_000);
    let series = args.get(1).copied().unwrap_or(4);
    let dir = std::env::temp_dir().join(format!("iotdb-rs-query-bench-{}", std::process::id()));
    let mut cfg = StorageConfig::with_data_dir(&dir);
    cfg.wal_mode = WalMode::Disable;
    let engine = Arc::new(Engine::open(cfg)?);
    let ex = Executor::new(engine.clone());
    let ctx = SessionContext::new("root", TimeZone::default());

    let device = PartialPath::parse("root.bench.d1")?;
    let chunk = 100_000;
    let t0 = Instant::now();
    let mut start = 0usize;
    while start < points {
        let n = chunk.min(points - start);
        let times: Vec<i64> = (start..start + n).map(|i| i as i64).collect();
        let columns = (0..series)
            .map(|s| {
                Column::new(ColumnData::Double(
                    (start..start + n)
                        .map(|i| (i * (s + 1)) as f64 * 0.5)
                        .collect(),
                ))
            })
            .collect();
        engine.insert_tablet(&InsertTablet {
            device: device.clone(),
            measurements: (0..series).map(|s| format!("s{s}")).collect(),
            types: vec![TSDataType::Double; series],
            times,
            columns,
            aligned: false,
        })?;
        start += n;
    }
    report("insert_tablet", points * series, t0.elapsed().as_secs_f64());

    for sql in [
        "select * from root.bench.d1",
        "select s0 from root.bench.d1 where s0 > 100",
        "select s0 + s1 from root.bench.d1",
        "select count(*), avg(s0), max_value(s1) from root.bench.d1",
        "select count(s0) from root.bench.d1 where s1 > 10",
        "select avg(s0) from root.bench.d1 group by ([0, 1000000), 1000ms)",
        "select * from root.bench.d1 order by time desc",
    ] {
        let t = Instant::now();
        let (mut rows, mut cells) = (0usize, 0usize);
        if let Outcome::Rows(mut r) = ex.execute_sql(sql, &ctx)? {
            while let Some(b) = r.stream.next_batch(5000)? {
                rows += b.len();
                cells += b.len() * b.columns.len();
            }
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "{sql:<72} {rows:>8} rows {:>8.1} ms {:>8.2} M cells/s",
            secs * 1e3,
            cells as f64 / secs / 1e6
        );
    }
    engine.close()?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn report(what: &str, n: usize, secs: f64) {
    println!(
        "{what}: {n} points in {:.1} ms ({:.2} M points/s)",
        secs * 1e3,
        n as f64 / secs / 1e6
    );
}
