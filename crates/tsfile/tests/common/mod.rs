//! Helpers shared by the cross-implementation tests (PyPI tsfile, Java tsfile).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use model::{
    Bitmap, ColumnData, CompressionType, MeasurementSchema, TSDataType, TSEncoding, Value,
};
use tsfile::encoding::is_implemented;
use tsfile::format::Version;
use tsfile::writer::{AlignedColumn, SeriesInput, TsFileWriter, WriterOptions};

/// Every compressor.
pub const COMPRESSORS: [CompressionType; 6] = [
    CompressionType::Uncompressed,
    CompressionType::Snappy,
    CompressionType::Gzip,
    CompressionType::Lz4,
    CompressionType::Zstd,
    CompressionType::Lzma2,
];

/// The exchange string of a value: booleans `true`/`false`, integers (DATE as yyyymmdd)
/// decimal, FLOAT/DOUBLE the decimal of the IEEE bits of the value as a double (`nan` for
/// NaN), byte strings hex.
pub fn canon(v: &Value) -> String {
    match v {
        Value::Boolean(b) => b.to_string(),
        Value::Int32(i) => i.to_string(),
        Value::Int64(i) => i.to_string(),
        Value::Float(f) if f.is_nan() => "nan".into(),
        Value::Double(f) if f.is_nan() => "nan".into(),
        Value::Float(f) => (*f as f64).to_bits().to_string(),
        Value::Double(f) => f.to_bits().to_string(),
        Value::Text(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
    }
}

/// The scripts directory.
pub fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/tsfile_interop")
}

/// Skips (prints why and returns false) or panics when `TSFILE_INTEROP_REQUIRED=1`.
pub fn skip(msg: &str) -> bool {
    let msg = format!("SKIPPED: {msg}");
    if std::env::var("TSFILE_INTEROP_REQUIRED").as_deref() == Ok("1") {
        panic!("{msg}");
    }
    eprintln!("{msg}");
    false
}

/// Deterministic values; floats are multiples of 1/4 (exact at precision 2), no -0.0.
pub fn test_values(t: TSDataType, n: usize, salt: usize) -> ColumnData {
    match t.physical() {
        TSDataType::Boolean => {
            ColumnData::Boolean((0..n).map(|i| (i * 7 + salt).is_multiple_of(3)).collect())
        }
        TSDataType::Int32 if t == TSDataType::Date => ColumnData::Int32(
            (0..n)
                .map(|i| {
                    (2000 + (i % 30) as i32) * 10000
                        + (1 + (i % 12) as i32) * 100
                        + 1
                        + (i % 28) as i32
                })
                .collect(),
        ),
        TSDataType::Int32 => ColumnData::Int32(
            (0..n)
                .map(|i| (i as i32 % 1000) * 3 - 77 + salt as i32)
                .collect(),
        ),
        TSDataType::Int64 => ColumnData::Int64(
            (0..n)
                .map(|i| 1_600_000_000_000 + i as i64 * 13 + salt as i64)
                .collect(),
        ),
        TSDataType::Float => ColumnData::Float(
            (0..n)
                .map(|i| ((i * 31 + salt) % 4000) as f32 * 0.25 - 500.0)
                .collect(),
        ),
        TSDataType::Double => ColumnData::Double(
            (0..n)
                .map(|i| (((i as f64) / 9.0).cos() * 1000.0).round() / 4.0 + 0.0)
                .collect(),
        ),
        _ => ColumnData::Binary(
            (0..n)
                .map(|i| format!("x{}y{}", (i + salt) % 29, i % 3).into_bytes())
                .collect(),
        ),
    }
}

/// What one series in a file should hold: (time, value or null).
pub struct Expected {
    /// Device path.
    pub device: String,
    /// (measurement, type, points).
    pub series: Vec<(String, TSDataType, BTreeMap<i64, Option<String>>)>,
}

/// Writes our files in `dir`: one per data type with a device per (encoding, compressor)
/// (two pages each), one aligned file per compressor with every type and nulls (all of
/// them in exactly the encoding and compressor asked for: no PLAIN fallback), and one file
/// whose series have a GORILLA + SNAPPY chunk and a chunk that fell back to PLAIN and
/// UNCOMPRESSED ([`WriterOptions::plain_fallback`]), non-aligned and aligned.
/// `skip(t, e)` leaves out combinations the other side cannot read (listed in `skipped`).
pub fn write_our_files(
    dir: &Path,
    version: Version,
    skip: impl Fn(TSDataType, TSEncoding) -> bool,
    skipped: &mut Vec<String>,
) -> Vec<(PathBuf, Vec<Expected>)> {
    let mut files = Vec::new();
    let n = 12_000;
    let tag = format!("{version:?}").to_lowercase();
    for t in TSDataType::ALL {
        let path = dir.join(format!("rs_{tag}_{}.tsfile", t.name()));
        let exact = WriterOptions {
            plain_fallback: false,
            ..WriterOptions::for_version(version)
        };
        let mut w = TsFileWriter::create(&path, exact).unwrap();
        let mut exp = Vec::new();
        for e in TSEncoding::ALL {
            if !e.supports(*t) || !is_implemented(*e, *t) {
                continue;
            }
            // Only IoTDB 1.x's own tsfile jar reads these two (tests/freq_java.rs and the
            // reference-IoTDB fixtures cover them); the Java 1.1+/2.x and C++ readers do not.
            if skip(*t, *e) || matches!(e, TSEncoding::Freq | TSEncoding::GorillaV1) {
                skipped.push(format!("{} {}", t.name(), e.name()));
                continue;
            }
            for (ci, c) in COMPRESSORS.iter().enumerate() {
                let dev = format!(
                    "root.rs.{}_{}",
                    e.name().to_lowercase(),
                    c.name().to_lowercase()
                );
                let s = MeasurementSchema {
                    name: "v".into(),
                    data_type: *t,
                    encoding: *e,
                    compressor: *c,
                };
                let times: Vec<i64> = (0..n as i64).map(|i| 10 + i * 2).collect();
                let vals = test_values(*t, n, ci);
                w.write_device(
                    &dev,
                    &[SeriesInput {
                        schema: &s,
                        times: &times,
                        values: &vals,
                        nulls: None,
                    }],
                )
                .unwrap();
                let m = (0..n)
                    .map(|i| (times[i], Some(canon(&vals.get(i).unwrap()))))
                    .collect();
                exp.push(Expected {
                    device: dev,
                    series: vec![("v".into(), *t, m)],
                });
            }
        }
        w.finish().unwrap();
        files.push((path, exp));
    }
    for (ci, c) in COMPRESSORS.iter().enumerate() {
        let path = dir.join(format!("rs_{tag}_aligned_{}.tsfile", c.name()));
        let opts = WriterOptions {
            time_compression: *c,
            plain_fallback: false,
            ..WriterOptions::for_version(version)
        };
        let mut w = TsFileWriter::create(&path, opts).unwrap();
        let times: Vec<i64> = (0..n as i64).map(|i| 1_000_000 + i).collect();
        let schemas: Vec<MeasurementSchema> = TSDataType::ALL
            .iter()
            .map(|t| {
                let mut e = t.default_encoding();
                if skip(*t, e) {
                    e = TSEncoding::Plain;
                }
                MeasurementSchema {
                    name: format!("c_{}", t.name().to_lowercase()),
                    data_type: *t,
                    encoding: e,
                    compressor: *c,
                }
            })
            .collect();
        let data: Vec<ColumnData> = TSDataType::ALL
            .iter()
            .map(|t| test_values(*t, n, ci))
            .collect();
        let nulls: Vec<Bitmap> = (0..schemas.len())
            .map(|k| {
                let mut b = Bitmap::new(n);
                for i in 0..n {
                    if (i + k) % (k + 2) == 0 {
                        b.set(i);
                    }
                }
                b
            })
            .collect();
        let cols: Vec<AlignedColumn> = (0..schemas.len())
            .map(|k| AlignedColumn {
                schema: &schemas[k],
                values: &data[k],
                nulls: Some(&nulls[k]),
            })
            .collect();
        let dev = "root.rs.aligned".to_string();
        w.write_aligned_device(&dev, &times, &cols).unwrap();
        w.finish().unwrap();
        let series = (0..schemas.len())
            .map(|k| {
                let t = schemas[k].data_type;
                let m = (0..n)
                    .map(|i| {
                        let v = if nulls[k].get(i) {
                            None
                        } else {
                            Some(canon(&data[k].get(i).unwrap()))
                        };
                        (times[i], v)
                    })
                    .collect();
                (schemas[k].name.clone(), t, m)
            })
            .collect();
        files.push((
            path,
            vec![Expected {
                device: dev,
                series,
            }],
        ));
    }
    files.push(write_fallback_file(dir, version));
    files
}

/// Doubles of random bits (any sign, any finite exponent, any mantissa): GORILLA takes more
/// bytes than PLAIN for them and no compressor shrinks them.
pub fn noise(n: usize, seed: u64) -> Vec<f64> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // the exponent field is kept below all ones (no infinities or NaNs)
            let exponent = (x >> 52) % 0x7FF;
            f64::from_bits((x & !(0x7FF << 52)) | (exponent << 52))
        })
        .collect()
}

/// `n` increasing times from `start` with random gaps: their TS_2DIFF bytes do not compress
/// either, so a page of them and [`noise`] is one no compressor shrinks.
pub fn ragged_times(start: i64, n: usize, seed: u64) -> Vec<i64> {
    let mut x = seed | 1;
    let mut t = start;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            t += 1 + (x % 1_000_000) as i64;
            t
        })
        .collect()
}

/// A file whose DOUBLE series (GORILLA + SNAPPY in their schema) have two chunks each, a
/// noisy and a smooth one: those whose first chunk is noisy are written PLAIN and
/// UNCOMPRESSED (both chunks: a series keeps one encoding per file), the others as asked.
/// `root.fb.d` non-aligned (`v` noisy first, `w` smooth first), `root.fb.a` aligned (`s0`
/// noisy first and with nulls, `s1` smooth first).
fn write_fallback_file(dir: &Path, version: Version) -> (PathBuf, Vec<Expected>) {
    let tag = format!("{version:?}").to_lowercase();
    let path = dir.join(format!("rs_{tag}_fallback.tsfile"));
    let mut w = TsFileWriter::create(&path, WriterOptions::for_version(version)).unwrap();
    let n = 3_000;
    let schema = |name: &str| MeasurementSchema {
        name: name.into(),
        data_type: TSDataType::Double,
        encoding: TSEncoding::Gorilla,
        compressor: CompressionType::Snappy,
    };
    let names = ["v", "w", "s0", "s1"];
    let schemas: Vec<MeasurementSchema> = names.iter().map(|n| schema(n)).collect();
    let mut expected: Vec<BTreeMap<i64, Option<String>>> = vec![BTreeMap::new(); 4];
    let mut holes = Bitmap::new(n);
    for i in (0..n).step_by(5) {
        holes.set(i);
    }
    for g in 0..2usize {
        let times = ragged_times(g as i64 * 1_000_000_000_000, n, 3 + g as u64);
        let quiet = match test_values(TSDataType::Double, n, g) {
            ColumnData::Double(v) => ColumnData::Double(v),
            _ => unreachable!(),
        };
        let loud = ColumnData::Double(noise(n, 7 + g as u64));
        // the noisy-first series get the noise in group 0, the others in group 1
        let (first, second) = if g == 0 {
            (&loud, &quiet)
        } else {
            (&quiet, &loud)
        };
        let cols = [first, second, first, second];
        let inputs: Vec<SeriesInput> = (0..2)
            .map(|k| SeriesInput {
                schema: &schemas[k],
                times: &times,
                values: cols[k],
                nulls: None,
            })
            .collect();
        w.write_device("root.fb.d", &inputs).unwrap();
        let aligned: Vec<AlignedColumn> = (2..4)
            .map(|k| AlignedColumn {
                schema: &schemas[k],
                values: cols[k],
                nulls: (k == 2).then_some(&holes),
            })
            .collect();
        w.write_aligned_device("root.fb.a", &times, &aligned)
            .unwrap();
        for (k, m) in expected.iter_mut().enumerate() {
            for (i, t) in times.iter().enumerate() {
                let null = k == 2 && holes.get(i);
                m.insert(*t, (!null).then(|| canon(&cols[k].get(i).unwrap())));
            }
        }
    }
    w.finish().unwrap();
    let mut expected = expected.into_iter();
    let mut series = |ks: &[usize]| -> Vec<(String, TSDataType, BTreeMap<i64, Option<String>>)> {
        ks.iter()
            .map(|k| {
                (
                    names[*k].to_string(),
                    TSDataType::Double,
                    expected.next().unwrap(),
                )
            })
            .collect()
    };
    let exp = vec![
        Expected {
            device: "root.fb.d".into(),
            series: series(&[0, 1]),
        },
        Expected {
            device: "root.fb.a".into(),
            series: series(&[2, 3]),
        },
    ];
    (path, exp)
}

/// Checks that `got` (time → value, non-null points as another implementation read them)
/// holds exactly the non-null points of `expected`.
pub fn check_points(
    what: &str,
    expected: &BTreeMap<i64, Option<String>>,
    got: &BTreeMap<i64, String>,
) {
    for (time, v) in expected {
        if let Some(v) = v {
            assert_eq!(got.get(time), Some(v), "{what} at time {time}");
        }
    }
    let extra = got
        .keys()
        .filter(|t| !matches!(expected.get(t), Some(Some(_))))
        .count();
    assert_eq!(extra, 0, "{what}: values where none were written");
}
