//! Value-filtered aggregates and GROUP BY over one flushed DOUBLE series shaped like
//! `bench/vs_iotdb.py`'s (a sine of period ~31,400 points plus noise), for profiling the
//! executor without a server:
//! `cargo run --release -p query --example filter_bench [points] [repeat]`.

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
    let points = args.first().copied().unwrap_or(10_000_000);
    let repeat = args.get(1).copied().unwrap_or(5).max(1);
    let dir = std::env::temp_dir().join(format!("iotdb-rs-filter-bench-{}", std::process::id()));
    let mut cfg = StorageConfig::with_data_dir(&dir);
    cfg.wal_mode = WalMode::Disable;
    let engine = Arc::new(Engine::open(cfg)?);
    let ex = Executor::new(engine.clone());
    let ctx = SessionContext::new("root", TimeZone::default());
    let device = PartialPath::parse("root.bench.one")?;
    // xorshift noise, deterministic: normal with standard deviation 0.5 as in
    // bench/vs_iotdb.py (Box-Muller over two uniforms in (0, 1])
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut uniform = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        ((seed >> 11) + 1) as f64 / (1u64 << 53) as f64
    };
    let mut noise = move || {
        let (u, v) = (uniform(), uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos() * 0.5
    };
    let chunk = 100_000;
    let mut start = 0usize;
    while start < points {
        let n = chunk.min(points - start);
        let times: Vec<i64> = (start..start + n).map(|i| i as i64).collect();
        let values = (start..start + n)
            .map(|i| (i as f64 / 5000.0).sin() * 20.0 + noise())
            .collect();
        engine.insert_tablet(&InsertTablet {
            device: device.clone(),
            measurements: vec!["s0".into()],
            types: vec![TSDataType::Double],
            times,
            columns: vec![Column::new(ColumnData::Double(values))],
            aligned: false,
        })?;
        start += n;
    }
    let t = Instant::now();
    engine.flush()?;
    println!(
        "FLUSH of {points} points: {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let n = points;
    for sql in [
        "select count(s0), avg(s0), max_value(s0), min_value(s0) from root.bench.one".to_string(),
        "select count(s0), avg(s0) from root.bench.one where s0 > -1e300".to_string(),
        "select count(s0), avg(s0) from root.bench.one where s0 > 0".to_string(),
        format!(
            "select avg(s0) from root.bench.one group by ([0, {n}), {}ms)",
            n / 10_000
        ),
        "select s0 from root.bench.one where s0 > 0".to_string(),
    ] {
        // FILTER_BENCH_ONLY=<text> runs only the statements containing it (for profiling)
        if std::env::var("FILTER_BENCH_ONLY").is_ok_and(|only| !sql.contains(&only)) {
            continue;
        }
        let mut times = Vec::new();
        let mut rows = 0usize;
        for _ in 0..repeat {
            let t = Instant::now();
            rows = 0;
            if let Outcome::Rows(mut r) = ex.execute_sql(&sql, &ctx)? {
                while let Some(b) = r.stream.next_batch(10_000)? {
                    rows += b.len();
                }
            }
            times.push(t.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{sql:<80} {rows:>9} rows  median {:>8.1} ms  min {:>8.1} ms",
            times[times.len() / 2] * 1e3,
            times[0] * 1e3
        );
    }
    engine.close()?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
