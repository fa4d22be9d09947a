//! Encode/decode throughput per encoding (points/s) and bytes per point per float encoding ×
//! compressor, on a smooth sensor signal and on random doubles (FREQ is lossy: its figures are
//! at IoTDB's default 40 dB signal-to-noise bound). A benchmark, not a test:
//! `cargo bench -p tsfile --bench codecs` prints the figures.
//!
//! With `TSFILE_BENCH_PYTHON` set to a Python that has PyPI `tsfile` (scripts/bench-tsfile
//! does this), the same run also writes each float encoding × compressor × signal as a
//! one-series TsFile with our writer and with PyPI tsfile (bench/tsfile_pypi_bytes.py, fed the
//! very same doubles through a file), measures both files with our reader and prints bytes per
//! point side by side with the ratio.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use model::{ColumnData, CompressionType, MeasurementSchema, TSDataType, TSEncoding};
use tsfile::compress;
use tsfile::encoding::{self, CodecOptions, ValueSlice};
use tsfile::{DeviceId, SeriesInput, TimeRange, TsFileReader, TsFileWriter, WriterOptions};

const N: usize = 1 << 20;

fn smooth() -> Vec<f64> {
    (0..N)
        .map(|i| ((i as f64 / 500.0).sin() * 20.0 + 25.0 + (i % 7) as f64 * 0.01) * 100.0)
        .map(|v: f64| v.round() / 100.0)
        .collect()
}

fn random() -> Vec<f64> {
    let mut x: u64 = 0x9E3779B97F4A7C15;
    (0..N)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64 * 1000.0
        })
        .collect()
}

fn per_page<T>(v: &[T]) -> impl Iterator<Item = &[T]> {
    v.chunks(10_000)
}

fn bench(name: &str, t: TSDataType, e: TSEncoding, vals: ValueSlice<'_>) {
    let opts = CodecOptions::default();
    let mut pages: Vec<Vec<u8>> = Vec::new();
    let start = Instant::now();
    let mut total = 0;
    macro_rules! enc {
        ($v:expr, $variant:ident) => {
            for p in per_page($v) {
                let mut out = Vec::new();
                encoding::encode(e, ValueSlice::$variant(p), &opts, &mut out).unwrap();
                total += out.len();
                pages.push(out);
            }
        };
    }
    match vals {
        ValueSlice::Int64(v) => enc!(v, Int64),
        ValueSlice::Double(v) => enc!(v, Double),
        ValueSlice::Int32(v) => enc!(v, Int32),
        _ => unreachable!(),
    }
    let enc_s = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut n = 0;
    for (i, p) in pages.iter().enumerate() {
        let count = (N - i * 10_000).min(10_000);
        let mut col = ColumnData::with_capacity(t, count);
        encoding::decode(e, p, count, &opts, &mut col).unwrap();
        n += col.len();
    }
    let dec_s = start.elapsed().as_secs_f64();
    assert_eq!(n, N);
    println!(
        "{name:<28} encode {:>7.1} M points/s   decode {:>7.1} M points/s   {:>6.2} bytes/point",
        N as f64 / enc_s / 1e6,
        N as f64 / dec_s / 1e6,
        total as f64 / N as f64
    );
}

fn main() {
    println!("{} points per run, pages of 10,000", N);
    let times: Vec<i64> = (0..N as i64)
        .map(|i| 1_700_000_000_000 + i * 1000)
        .collect();
    let ints: Vec<i64> = (0..N as i64).map(|i| (i / 10) % 5000 + (i % 3)).collect();
    let s = smooth();
    let r = random();
    for e in [
        TSEncoding::Ts2Diff,
        TSEncoding::Plain,
        TSEncoding::Gorilla,
        TSEncoding::Rle,
    ] {
        bench(
            &format!("INT64 times {}", e.name()),
            TSDataType::Int64,
            e,
            ValueSlice::Int64(&times),
        );
    }
    for e in [
        TSEncoding::Plain,
        TSEncoding::Rle,
        TSEncoding::Ts2Diff,
        TSEncoding::Gorilla,
        TSEncoding::Zigzag,
        TSEncoding::Chimp,
        TSEncoding::Sprintz,
        TSEncoding::Rlbe,
        TSEncoding::Freq,
    ] {
        bench(
            &format!("INT64 counter {}", e.name()),
            TSDataType::Int64,
            e,
            ValueSlice::Int64(&ints),
        );
    }
    for e in [
        TSEncoding::Plain,
        TSEncoding::Rle,
        TSEncoding::Ts2Diff,
        TSEncoding::Gorilla,
        TSEncoding::Chimp,
        TSEncoding::Sprintz,
        TSEncoding::Rlbe,
        TSEncoding::GorillaV1,
        TSEncoding::Freq,
    ] {
        bench(
            &format!("DOUBLE smooth {}", e.name()),
            TSDataType::Double,
            e,
            ValueSlice::Double(&s),
        );
        bench(
            &format!("DOUBLE random {}", e.name()),
            TSDataType::Double,
            e,
            ValueSlice::Double(&r),
        );
    }
    println!();
    println!("bytes/point after compression (DOUBLE values only, pages of 10,000):");
    let opts = CodecOptions::default();
    for (label, data) in [("smooth", &s), ("random", &r)] {
        for e in [
            TSEncoding::Plain,
            TSEncoding::Gorilla,
            TSEncoding::Chimp,
            TSEncoding::Ts2Diff,
            TSEncoding::GorillaV1,
            TSEncoding::Freq,
        ] {
            let mut line = format!("{label:<7} {:<9}", e.name());
            for c in [
                CompressionType::Uncompressed,
                CompressionType::Snappy,
                CompressionType::Lz4,
                CompressionType::Zstd,
                CompressionType::Gzip,
                CompressionType::Lzma2,
            ] {
                let mut total = 0;
                for p in data.chunks(10_000) {
                    let mut raw = Vec::new();
                    encoding::encode(e, ValueSlice::Double(p), &opts, &mut raw).unwrap();
                    let mut out = Vec::new();
                    compress::compress(c, &raw, &mut out).unwrap();
                    total += out.len();
                }
                line.push_str(&format!("  {}={:.2}", c.name(), total as f64 / N as f64));
            }
            println!("{line}");
        }
    }
    if let Ok(python) = std::env::var("TSFILE_BENCH_PYTHON") {
        println!();
        compare_with_pypi(&python, &times, &s, &r);
    }
}

const FLOAT_ENCODINGS: [TSEncoding; 7] = [
    TSEncoding::Plain,
    TSEncoding::Gorilla,
    TSEncoding::Chimp,
    TSEncoding::Rle,
    TSEncoding::Ts2Diff,
    TSEncoding::Sprintz,
    TSEncoding::Rlbe,
];

const COMPRESSORS: [CompressionType; 6] = [
    CompressionType::Uncompressed,
    CompressionType::Snappy,
    CompressionType::Lz4,
    CompressionType::Zstd,
    CompressionType::Gzip,
    CompressionType::Lzma2,
];

const DEVICE: &str = "root.bench.d1";

/// What one file holds for the benchmark series, measured with our reader.
struct Measured {
    file: u64,
    chunk_data: u64,
    pages: usize,
    values: Vec<f64>,
}

fn measure(path: &Path) -> Measured {
    let reader = TsFileReader::open(path).unwrap();
    let dev = DeviceId::from_path(DEVICE);
    let series = reader.device_series(&dev).unwrap();
    let meta = series.iter().find(|m| m.measurement == "v").unwrap();
    let (mut chunk_data, mut pages) = (0u64, 0usize);
    // The benchmark series is written once, so its chunks are in time order.
    for c in &meta.chunks {
        let chunk = reader.read_chunk(c).unwrap();
        chunk_data += chunk.header.data_size as u64;
        pages += chunk.pages(&c.statistics).unwrap().len();
    }
    let data = reader
        .read_series_in(&series, "v", TimeRange::ALL)
        .unwrap()
        .unwrap();
    let ColumnData::Double(values) = data.values.data else {
        panic!("not a DOUBLE series")
    };
    Measured {
        file: reader.file_size(),
        chunk_data,
        pages,
        values,
    }
}

fn bits_equal(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Writes every float encoding × compressor × signal with our writer and with PyPI tsfile and
/// prints bytes/point of both, measured the same way.
fn compare_with_pypi(python: &str, times: &[i64], smooth: &[f64], random: &[f64]) {
    let dir = tempfile::tempdir().unwrap();
    let mut sig = Vec::with_capacity(8 + 16 * N);
    sig.extend_from_slice(&(N as u64).to_le_bytes());
    for v in smooth.iter().chain(random) {
        sig.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(dir.path().join("signals.bin"), sig).unwrap();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/tsfile_pypi_bytes.py");
    let start = Instant::now();
    let status = Command::new(python)
        .arg(&script)
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success(), "{} failed", script.display());
    let py_s = start.elapsed().as_secs_f64();
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("pypi.json")).unwrap()).unwrap();
    let max_points = meta["page_writer_max_point_num"].as_u64().unwrap() as usize;
    let page_bytes = meta["page_writer_max_memory_bytes"].as_u64().unwrap() as usize;

    // Match PyPI's pages: it cuts at 10,000 points (its 128 KiB limit counts encoded bytes and
    // is not reached here); our size limit counts raw bytes (16 per DOUBLE point with its time),
    // so it is raised to let the same point limit decide.
    let opts = WriterOptions {
        max_points_per_page: max_points,
        page_size_bytes: page_bytes.max(max_points * 16),
        ..WriterOptions::default()
    };
    let start = Instant::now();
    for (label, data) in [("smooth", smooth), ("random", random)] {
        let column = ColumnData::Double(data.to_vec());
        for e in FLOAT_ENCODINGS {
            for c in COMPRESSORS {
                let schema = MeasurementSchema {
                    name: "v".into(),
                    data_type: TSDataType::Double,
                    encoding: e,
                    compressor: c,
                };
                let path = dir
                    .path()
                    .join(format!("rs_{label}_{}_{}.tsfile", e.name(), c.name()));
                let mut w = TsFileWriter::create(&path, opts.clone()).unwrap();
                w.write_device(
                    DEVICE,
                    &[SeriesInput {
                        schema: &schema,
                        times,
                        values: &column,
                        nulls: None,
                    }],
                )
                .unwrap();
                w.finish().unwrap();
            }
        }
    }
    let rs_s = start.elapsed().as_secs_f64();

    println!(
        "TsFile bytes/point, ours vs PyPI tsfile {} ({} points per file, one non-aligned DOUBLE series, \
         pages of at most {} points / {} bytes, V4)",
        meta["tsfile_version"].as_str().unwrap_or("?"),
        N,
        max_points,
        page_bytes
    );
    println!(
        "chunk = chunk data (page headers + compressed page bodies, time column included, TS_2DIFF); \
         file = whole file; same = both files decode to the same bits; exact = a file decodes to the input bits"
    );
    println!(
        "{:<7} {:<9} {:<13} {:>9} {:>9} {:>6}  {:>9} {:>9} {:>6}  {:>11}  same  exact o/p",
        "signal",
        "encoding",
        "compressor",
        "ours",
        "pypi",
        "ratio",
        "ours",
        "pypi",
        "ratio",
        "pages o/p"
    );
    println!(
        "{:<31} {:>26}  {:>26}",
        "", "---- chunk bytes/pt ----", "---- file bytes/pt -----"
    );
    let per = |b: u64| b as f64 / N as f64;
    for label in ["smooth", "random"] {
        for e in FLOAT_ENCODINGS {
            for c in COMPRESSORS {
                let name = format!("{label}_{}_{}.tsfile", e.name(), c.name());
                let ours = measure(&dir.path().join(format!("rs_{name}")));
                assert_eq!(ours.values.len(), N);
                let py_path = dir.path().join(format!("py_{name}"));
                if !py_path.exists() {
                    println!(
                        "{label:<7} {:<9} {:<13} {:>9.3} {:>9} {:>6}  {:>9.3} {:>9} {:>6}  {:>11}  -     {}/- (PyPI refused)",
                        e.name(),
                        c.name(),
                        per(ours.chunk_data),
                        "-",
                        "-",
                        per(ours.file),
                        "-",
                        "-",
                        ours.pages,
                        if bits_equal(&ours.values, if label == "smooth" { smooth } else { random }) {
                            "y"
                        } else {
                            "n"
                        }
                    );
                    continue;
                }
                let py = measure(&py_path);
                let input = if label == "smooth" { smooth } else { random };
                let same = bits_equal(&ours.values, &py.values);
                let exact = |v: &[f64]| if bits_equal(v, input) { "y" } else { "n" };
                println!(
                    "{label:<7} {:<9} {:<13} {:>9.3} {:>9.3} {:>6.3}  {:>9.3} {:>9.3} {:>6.3}  {:>11}  {:<4}  {}/{}",
                    e.name(),
                    c.name(),
                    per(ours.chunk_data),
                    per(py.chunk_data),
                    ours.chunk_data as f64 / py.chunk_data as f64,
                    per(ours.file),
                    per(py.file),
                    ours.file as f64 / py.file as f64,
                    format!("{}/{}", ours.pages, py.pages),
                    if same { "yes" } else { "NO" },
                    exact(&ours.values),
                    exact(&py.values)
                );
            }
        }
    }
    for r in meta["refused"].as_array().into_iter().flatten() {
        println!("PyPI refused {}: {}", r["file"], r["error"]);
    }
    println!(
        "writing all {} files: ours {:.1} s (Rust, in process), PyPI {:.1} s (Python process incl. list building)",
        FLOAT_ENCODINGS.len() * COMPRESSORS.len() * 2,
        rs_s,
        py_s
    );
}
