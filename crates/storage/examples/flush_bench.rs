//! Flush throughput: fills memtables through the engine, then times `Engine::flush` (sort,
//! encode, compress, write and fsync the TsFiles, drop the WAL) and reports points/s and
//! bytes/point on disk, for a smooth sensor signal and for random doubles, with the
//! default (GORILLA + SNAPPY for DOUBLE) and a few other encoding/compressor choices; then
//! reads every series back from the files (and, before the flush, from the memtable).
//! The file scans are the best of several, alternating between an engine that checks
//! every chunk against its checksums (the default) and one that does not.
//!
//! `cargo run --release -p storage --example flush_bench [points]` (default 10 M).

use model::{
    Column, ColumnData, CompressionType, InsertTablet, PartialPath, TSDataType, TSEncoding,
};
use std::time::Instant;
use storage::{Engine, StorageConfig, TimeRange, TimeseriesSpec, WalMode};

const SERIES: usize = 10;
const ROWS: usize = 10_000;

fn dir_bytes(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "tsfile") {
                total += e.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
    }
    total
}

/// xorshift64* for reproducible random doubles without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn open(dir: &std::path::Path, verify: bool) -> Engine {
    Engine::open(StorageConfig {
        wal_mode: WalMode::Disable,
        enable_compaction: false,
        memtable_size_threshold: u64::MAX,
        verify_chunk_checksums: verify,
        ..StorageConfig::with_data_dir(dir)
    })
    .expect("open engine")
}

fn run(points: usize, label: &str, enc: TSEncoding, comp: CompressionType, smooth: bool) {
    let dir = tempfile_dir();
    let e = open(&dir, true);
    let device = PartialPath::parse("root.bench.d").expect("path");
    let names: Vec<String> = (0..SERIES).map(|i| format!("s{i}")).collect();
    for n in &names {
        let mut spec = TimeseriesSpec::new(device.child(n), TSDataType::Double);
        spec.encoding = enc;
        spec.compressor = comp;
        e.create_timeseries(spec).expect("create");
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let tablets = (points / (SERIES * ROWS)).max(1);
    for k in 0..tablets {
        let t0 = (k * ROWS) as i64;
        let times: Vec<i64> = (0..ROWS as i64).map(|i| (t0 + i) * 1000).collect();
        let columns = (0..SERIES)
            .map(|s| {
                let v: Vec<f64> = times
                    .iter()
                    .map(|&t| {
                        if smooth {
                            let x = t as f64 / 60_000.0 + s as f64;
                            ((20.0 + 5.0 * x.sin()) * 100.0).round() / 100.0
                        } else {
                            f64::from_bits(rng.next() >> 2)
                        }
                    })
                    .collect();
                Column::new(ColumnData::Double(v))
            })
            .collect();
        e.insert_tablet(&InsertTablet {
            device: device.clone(),
            measurements: names.clone(),
            types: vec![TSDataType::Double; SERIES],
            times,
            columns,
            aligned: false,
        })
        .expect("insert");
    }
    let n = (tablets * ROWS * SERIES) as f64;
    let read_all = |e: &Engine| {
        let start = Instant::now();
        let mut got = 0;
        for name in &names {
            got += e
                .read_series(&device.child(name), TimeRange::ALL)
                .expect("read")
                .times
                .len();
        }
        assert_eq!(got as f64, n);
        n / start.elapsed().as_secs_f64() / 1e6
    };
    let mem_read = read_all(&e);
    let start = Instant::now();
    e.flush().expect("flush");
    let secs = start.elapsed().as_secs_f64();
    let bytes = dir_bytes(&dir) as f64;
    drop(e);
    let (mut checked, mut unchecked) = (0f64, 0f64);
    for _ in 0..3 {
        for verify in [true, false] {
            let e = open(&dir, verify);
            let best = (0..3).map(|_| read_all(&e)).fold(0.0, f64::max);
            let slot = if verify { &mut checked } else { &mut unchecked };
            *slot = slot.max(best);
        }
    }
    println!(
        "{label:<30} flush {:>6.2} M points/s  {:>5.2} bytes/point  read back {:>6.2} M points/s (unchecked {:>6.2}, memtable {:>6.2})  ({} points, {:.1} MB)",
        n / secs / 1e6,
        bytes / n,
        checked,
        unchecked,
        mem_read,
        n as u64,
        bytes / 1e6
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let base = std::env::temp_dir().join(format!(
        "iotdb-rs-flush-bench-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&base).expect("temp dir");
    base
}

fn main() {
    let points: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    println!("flush of {points} DOUBLE points ({SERIES} series), time = 1 s steps");
    for (label, enc, comp, smooth) in [
        (
            "smooth, GORILLA + SNAPPY",
            TSEncoding::Gorilla,
            CompressionType::Snappy,
            true,
        ),
        (
            "smooth, GORILLA + LZ4",
            TSEncoding::Gorilla,
            CompressionType::Lz4,
            true,
        ),
        (
            "smooth, PLAIN + UNCOMPRESSED",
            TSEncoding::Plain,
            CompressionType::Uncompressed,
            true,
        ),
        (
            "smooth, TS_2DIFF + ZSTD",
            TSEncoding::Ts2Diff,
            CompressionType::Zstd,
            true,
        ),
        (
            "random, GORILLA + SNAPPY",
            TSEncoding::Gorilla,
            CompressionType::Snappy,
            false,
        ),
        (
            "random, PLAIN + UNCOMPRESSED",
            TSEncoding::Plain,
            CompressionType::Uncompressed,
            false,
        ),
    ] {
        run(points, label, enc, comp, smooth);
    }
}
