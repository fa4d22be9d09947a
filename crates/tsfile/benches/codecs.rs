//! Encode/decode throughput per encoding (points/s) and bytes per point per float encoding ×
//! compressor, on a smooth sensor signal and on random doubles. A benchmark, not a test:
//! `cargo bench -p tsfile --bench codecs` prints the figures.

use std::time::Instant;

use model::{ColumnData, CompressionType, TSDataType, TSEncoding};
use tsfile::compress;
use tsfile::encoding::{self, CodecOptions, ValueSlice};

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
}
