//! Measures `Engine::insert_tablet` throughput on the benchmark hot path: tablets of
//! 10,000 rows × 10 DOUBLE columns into one device, per WAL mode. Reports the inserts
//! alone (WAL + memtable), a read of one series from the memtable, then `FLUSH` (the
//! memtable written into a TsFile) and the same read from the file.
//!
//! `cargo run --release -p storage --example ingest [tablets]`

use model::{Column, ColumnData, InsertTablet, PartialPath, TSDataType};
use std::time::Instant;
use storage::{Engine, StorageConfig, TimeRange, WalMode};

fn main() -> model::Result<()> {
    let tablets: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let (rows, cols) = (10_000usize, 10usize);
    for mode in [WalMode::Async, WalMode::Sync, WalMode::Disable] {
        let dir = tempfile::tempdir()?;
        let engine = Engine::open(StorageConfig {
            wal_mode: mode,
            ..StorageConfig::with_data_dir(dir.path())
        })?;
        let device = PartialPath::parse("root.bench.d0")?;
        let measurements: Vec<String> = (0..cols).map(|i| format!("s{i}")).collect();
        // build all tablets first so that only ingestion is timed
        let batches: Vec<InsertTablet> = (0..tablets)
            .map(|k| {
                let t0 = (k * rows) as i64;
                InsertTablet {
                    device: device.clone(),
                    measurements: measurements.clone(),
                    types: vec![TSDataType::Double; cols],
                    times: (t0..t0 + rows as i64).collect(),
                    columns: (0..cols)
                        .map(|c| {
                            Column::new(ColumnData::Double(
                                (0..rows).map(|r| (r * c) as f64 * 0.5).collect(),
                            ))
                        })
                        .collect(),
                    aligned: false,
                }
            })
            .collect();
        let series = PartialPath::parse("root.bench.d0.s3")?;
        let read = |what: &str| -> model::Result<String> {
            let start = Instant::now();
            let d = engine.read_series(&series, TimeRange::ALL)?;
            let secs = start.elapsed().as_secs_f64();
            assert_eq!(d.times.len(), tablets * rows);
            Ok(format!(
                "read one series of {} points from the {what}: {:.1} M points/s",
                d.times.len(),
                d.times.len() as f64 / secs / 1e6
            ))
        };
        let start = Instant::now();
        for t in &batches {
            engine.insert_tablet(t)?;
        }
        let secs = start.elapsed().as_secs_f64();
        let points = (tablets * rows * cols) as f64;
        let from_memtable = read("memtable")?;
        let flush_start = Instant::now();
        engine.flush()?;
        let flush_secs = flush_start.elapsed().as_secs_f64();
        let from_file = read("TsFile")?;
        println!(
            "{mode:?}: {tablets} tablets of {rows}x{cols} DOUBLE: {:.1} M points/s ingest ({:.3} s); {from_memtable}; FLUSH {:.1} M points/s ({:.3} s); {from_file}",
            points / secs / 1e6,
            secs,
            points / flush_secs / 1e6,
            flush_secs,
        );
        engine.close()?;
    }
    Ok(())
}
