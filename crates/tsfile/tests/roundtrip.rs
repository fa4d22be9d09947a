//! Files written by our writer read back identically with our reader: every type, encoding and
//! compressor, aligned and not, single- and multi-page, V3 and V4, plus the index tree with
//! many devices and series, statistics-based skipping, and robustness against corruption.

use model::{
    Bitmap, Column, ColumnData, CompressionType, MeasurementSchema, TSDataType, TSEncoding,
};
use proptest::prelude::*;
mod common;
use tsfile::device::DeviceId;
use tsfile::encoding::is_implemented;
use tsfile::format::Version;
use tsfile::reader::{ReadOptions, TimeRange, TsFileReader};
use tsfile::writer::{AlignedColumn, SeriesInput, TsFileWriter, WriterOptions};

const COMPRESSORS: [CompressionType; 6] = [
    CompressionType::Uncompressed,
    CompressionType::Snappy,
    CompressionType::Gzip,
    CompressionType::Lz4,
    CompressionType::Zstd,
    CompressionType::Lzma2,
];

fn schema(name: &str, t: TSDataType, e: TSEncoding, c: CompressionType) -> MeasurementSchema {
    MeasurementSchema {
        name: name.into(),
        data_type: t,
        encoding: e,
        compressor: c,
    }
}

/// Deterministic test values of a type; floats are multiples of 1/4 so the fixed-point
/// encodings (precision 2) read them back exactly.
fn values(t: TSDataType, n: usize, seed: u64) -> ColumnData {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    match t.physical() {
        TSDataType::Boolean => ColumnData::Boolean((0..n).map(|_| next() % 3 == 0).collect()),
        TSDataType::Int32 => ColumnData::Int32(
            (0..n)
                .map(|i| (i as i32 / 3) * 7 - 500 + (next() % 5) as i32)
                .collect(),
        ),
        TSDataType::Int64 => ColumnData::Int64(
            (0..n)
                .map(|i| 1_700_000_000_000 + i as i64 * 1000 + (next() % 17) as i64)
                .collect(),
        ),
        TSDataType::Float => {
            ColumnData::Float((0..n).map(|i| (i % 200) as f32 * 0.25 - 10.0).collect())
        }
        TSDataType::Double => ColumnData::Double(
            (0..n)
                .map(|i| ((i as f64) * 0.1).sin().mul_add(400.0, 0.0).round() / 4.0)
                .collect(),
        ),
        _ => ColumnData::Binary(
            (0..n)
                .map(|i| format!("v{}-{}", i % 13, next() % 4).into_bytes())
                .collect(),
        ),
    }
}

fn as_f64(c: &ColumnData) -> Vec<f64> {
    match c {
        ColumnData::Int32(v) => v.iter().map(|x| *x as f64).collect(),
        ColumnData::Int64(v) => v.iter().map(|x| *x as f64).collect(),
        ColumnData::Float(v) => v.iter().map(|x| *x as f64).collect(),
        ColumnData::Double(v) => v.clone(),
        other => panic!("FREQ on {other:?}"),
    }
}

fn all_encodings(t: TSDataType) -> Vec<TSEncoding> {
    TSEncoding::ALL
        .iter()
        .copied()
        .filter(|e| e.supports(t) && is_implemented(*e, t))
        .collect()
}

/// Pages of 300 points, every chunk in exactly its schema's encoding and compressor (no
/// PLAIN fallback), so each combination is the one exercised.
fn small_pages(version: Version) -> WriterOptions {
    WriterOptions {
        max_points_per_page: 300,
        plain_fallback: false,
        ..WriterOptions::for_version(version)
    }
}

#[test]
fn every_type_encoding_compressor_round_trips() {
    for version in [Version::V3, Version::V4] {
        let mut buf = Vec::new();
        let mut expected = Vec::new();
        {
            let mut w = TsFileWriter::new(&mut buf, small_pages(version)).unwrap();
            let mut dev_no = 0;
            for t in TSDataType::ALL {
                for e in all_encodings(*t) {
                    for (ci, c) in COMPRESSORS.iter().enumerate() {
                        let n = if ci % 2 == 0 { 1000 } else { 57 }; // multi-page and single-page
                        let times: Vec<i64> = (0..n as i64).map(|i| i * 10 + 5).collect();
                        let vals = values(*t, n, dev_no);
                        let s = schema("s", *t, e, *c);
                        let dev = format!("root.sg.d{dev_no}");
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
                        expected.push((dev, times, vals, e));
                        dev_no += 1;
                    }
                }
            }
            w.finish().unwrap();
        }
        let r = TsFileReader::new(buf, ReadOptions::default()).unwrap();
        assert_eq!(r.version(), version);
        assert_eq!(r.devices().unwrap().len(), expected.len());
        for (dev, times, vals, e) in &expected {
            let d = DeviceId::from_path(dev);
            let got = r.read_series(&d, "s", TimeRange::ALL).unwrap().unwrap();
            assert_eq!(&got.times, times, "{dev} {version:?}");
            if *e == TSEncoding::Freq {
                // lossy: within the encoder's 40 dB bound (plus integer rounding)
                let (a, b) = (as_f64(vals), as_f64(&got.values.data));
                let sig: f64 = a.iter().map(|v| v * v).sum();
                let err: f64 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
                assert!(sig >= err * 1e4 * 0.8, "{dev} {version:?}: snr too low");
            } else {
                assert_eq!(&got.values.data, vals, "{dev} {version:?}");
            }
            let meta = r.series_metadata(&d, "s").unwrap().unwrap();
            assert_eq!(meta.statistics.count, times.len() as u64);
            assert_eq!(meta.statistics.start_time, times[0]);
            assert_eq!(meta.statistics.end_time, *times.last().unwrap());
        }
    }
}

#[test]
fn aligned_devices_with_nulls_round_trip() {
    for version in [Version::V3, Version::V4] {
        let n = 2345;
        let times: Vec<i64> = (0..n as i64).map(|i| 1000 + i * 3).collect();
        let types = [
            TSDataType::Boolean,
            TSDataType::Int32,
            TSDataType::Int64,
            TSDataType::Float,
            TSDataType::Double,
            TSDataType::Text,
            TSDataType::String,
            TSDataType::Blob,
            TSDataType::Date,
            TSDataType::Timestamp,
        ];
        let schemas: Vec<MeasurementSchema> = types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                schema(
                    &format!("m{i}"),
                    *t,
                    t.default_encoding(),
                    COMPRESSORS[i % COMPRESSORS.len()],
                )
            })
            .collect();
        let data: Vec<ColumnData> = types
            .iter()
            .enumerate()
            .map(|(i, t)| values(*t, n, i as u64))
            .collect();
        let nulls: Vec<Bitmap> = (0..types.len())
            .map(|k| {
                let mut b = Bitmap::new(n);
                for i in 0..n {
                    // column 0 has no nulls; column 9 is all null in the first 700 rows
                    if (k > 0 && (i * 7 + k) % (k + 2) == 0) || (k == 9 && i < 700) {
                        b.set(i);
                    }
                }
                b
            })
            .collect();
        let cols: Vec<AlignedColumn> = (0..types.len())
            .map(|k| AlignedColumn {
                schema: &schemas[k],
                values: &data[k],
                nulls: Some(&nulls[k]),
            })
            .collect();
        let mut buf = Vec::new();
        {
            let mut w = TsFileWriter::new(&mut buf, small_pages(version)).unwrap();
            w.write_aligned_device("root.sg.vehicle", &times, &cols)
                .unwrap();
            // A second chunk group of the same device, without m3 (empty value chunk).
            let times2: Vec<i64> = (0..10).map(|i| 100_000 + i).collect();
            let d2: Vec<ColumnData> = types.iter().map(|t| values(*t, 10, 99)).collect();
            let cols2: Vec<AlignedColumn> = (0..types.len())
                .filter(|k| *k != 3)
                .map(|k| AlignedColumn {
                    schema: &schemas[k],
                    values: &d2[k],
                    nulls: None,
                })
                .collect();
            w.write_aligned_device("root.sg.vehicle", &times2, &cols2)
                .unwrap();
            w.finish().unwrap();
        }
        let r = TsFileReader::new(buf, ReadOptions::default()).unwrap();
        let dev = DeviceId::from_path("root.sg.vehicle");
        let names: Vec<String> = (0..types.len()).map(|k| format!("m{k}")).collect();
        let refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        let rows = r
            .read_aligned(&dev, &refs, TimeRange::new(i64::MIN, 99_999))
            .unwrap()
            .unwrap();
        assert_eq!(rows.times, times);
        for k in 0..types.len() {
            let col = &rows.columns[k];
            for i in 0..n {
                let expect = if nulls[k].get(i) {
                    None
                } else {
                    data[k].get(i)
                };
                assert_eq!(col.value(i), expect, "m{k} row {i} {version:?}");
            }
        }
        // Single-series reads give the non-null points.
        let m3 = r.read_series(&dev, "m3", TimeRange::ALL).unwrap().unwrap();
        let expect: Vec<i64> = (0..n)
            .filter(|i| !nulls[3].get(*i))
            .map(|i| times[i])
            .collect();
        assert_eq!(m3.times, expect);
        let m1 = r
            .read_series(&dev, "m1", TimeRange::new(100_000, 100_009))
            .unwrap()
            .unwrap();
        assert_eq!(m1.times.len(), 10);
        let series = r.device_series(&dev).unwrap();
        assert_eq!(series[0].measurement, "");
        assert!(series[0].is_aligned_time());
        assert_eq!(series[0].chunks.len(), 2);
    }
}

#[test]
fn index_tree_with_many_devices_and_series() {
    // Small max degree forces internal device and measurement levels.
    for version in [Version::V3, Version::V4] {
        let opts = WriterOptions {
            max_degree: 3,
            ..WriterOptions::for_version(version)
        };
        let mut buf = Vec::new();
        let s: Vec<MeasurementSchema> = (0..11)
            .map(|i| {
                schema(
                    &format!("s{i:02}"),
                    TSDataType::Int64,
                    TSEncoding::Ts2Diff,
                    CompressionType::Lz4,
                )
            })
            .collect();
        let times = [1i64, 2, 3];
        let vals = ColumnData::Int64(vec![10, 20, 30]);
        let mut devs = Vec::new();
        {
            let mut w = TsFileWriter::new(&mut buf, opts).unwrap();
            for d in 0..40 {
                let dev = format!("root.sg{}.d{d}", d % 4);
                let inputs: Vec<SeriesInput> = s
                    .iter()
                    .take(1 + d % 11)
                    .map(|s| SeriesInput {
                        schema: s,
                        times: &times,
                        values: &vals,
                        nulls: None,
                    })
                    .collect();
                w.write_device(&dev, &inputs).unwrap();
                devs.push((dev, 1 + d % 11));
            }
            w.finish().unwrap();
        }
        let r = TsFileReader::new(buf, ReadOptions::default()).unwrap();
        let mut listed: Vec<String> = r.devices().unwrap().iter().map(|d| d.path()).collect();
        listed.sort();
        let mut want: Vec<String> = devs.iter().map(|d| d.0.clone()).collect();
        want.sort();
        assert_eq!(listed, want);
        for (dev, n) in &devs {
            let d = DeviceId::from_path(dev);
            let series = r.device_series(&d).unwrap();
            assert_eq!(series.len(), *n, "{dev}");
            for (i, m) in series.iter().enumerate() {
                assert_eq!(m.measurement, format!("s{i:02}"));
            }
            let last = format!("s{:02}", n - 1);
            let got = r.read_series(&d, &last, TimeRange::ALL).unwrap().unwrap();
            assert_eq!(got.values.data, vals);
            assert!(r.read_series(&d, "nope", TimeRange::ALL).unwrap().is_none());
        }
        assert!(r
            .device_series(&DeviceId::from_path("root.sg9.x"))
            .unwrap()
            .is_empty());
        // Lookups through a device's index range find every series by descending the
        // measurement index, and nothing for a name the device lacks.
        for (d, at) in r.device_index().unwrap() {
            let all = r.device_series(&d).unwrap();
            assert_eq!(r.series_in(at).unwrap(), all);
            for m in &all {
                assert_eq!(
                    r.series_metadata_in(at, &m.measurement).unwrap().as_ref(),
                    Some(m)
                );
            }
            for missing in ["", "a", "s05x", "s99", "zz"] {
                assert!(r.series_metadata_in(at, missing).unwrap().is_none());
            }
        }
        // With metadata at hand, reads give the same points without walking the index.
        for (d, series) in r.all_series().unwrap() {
            for m in &series {
                assert_eq!(
                    r.read_series_in(&series, &m.measurement, TimeRange::ALL)
                        .unwrap(),
                    r.read_series(&d, &m.measurement, TimeRange::ALL).unwrap()
                );
            }
        }
    }
}

#[test]
fn overlapping_chunks_merge_with_later_winning() {
    let mut buf = Vec::new();
    let s = schema(
        "s",
        TSDataType::Int32,
        TSEncoding::Rle,
        CompressionType::Snappy,
    );
    {
        let mut w = TsFileWriter::new(&mut buf, WriterOptions::default()).unwrap();
        let v1 = ColumnData::Int32(vec![1, 2, 3]);
        let v2 = ColumnData::Int32(vec![20, 40]);
        for (t, v) in [(vec![1i64, 2, 3], &v1), (vec![2i64, 4], &v2)] {
            w.write_device(
                "root.sg.d",
                &[SeriesInput {
                    schema: &s,
                    times: &t,
                    values: v,
                    nulls: None,
                }],
            )
            .unwrap();
        }
        w.finish().unwrap();
    }
    let r = TsFileReader::new(buf, ReadOptions::default()).unwrap();
    let d = DeviceId::from_path("root.sg.d");
    let got = r.read_series(&d, "s", TimeRange::ALL).unwrap().unwrap();
    assert_eq!(got.times, vec![1, 2, 3, 4]);
    assert_eq!(
        got.values,
        Column::new(ColumnData::Int32(vec![1, 20, 3, 40]))
    );
    let meta = r.series_metadata(&d, "s").unwrap().unwrap();
    assert_eq!(meta.chunks.len(), 2);
    assert_eq!(meta.statistics.count, 5);
}

#[test]
fn rejects_bad_input() {
    let mut buf = Vec::new();
    let mut w = TsFileWriter::new(&mut buf, WriterOptions::default()).unwrap();
    let s = schema(
        "s",
        TSDataType::Int32,
        TSEncoding::Gorilla,
        CompressionType::Lz4,
    );
    let v = ColumnData::Int32(vec![1, 2]);
    let unsorted = w.write_device(
        "root.sg.d",
        &[SeriesInput {
            schema: &s,
            times: &[2, 1],
            values: &v,
            nulls: None,
        }],
    );
    assert!(unsorted.is_err());
    let wrong_type = schema(
        "s",
        TSDataType::Double,
        TSEncoding::Gorilla,
        CompressionType::Lz4,
    );
    assert!(w
        .write_device(
            "root.sg.d",
            &[SeriesInput {
                schema: &wrong_type,
                times: &[1, 2],
                values: &v,
                nulls: None,
            }],
        )
        .is_err());
    let bad_enc = schema(
        "s",
        TSDataType::Int32,
        TSEncoding::Dictionary,
        CompressionType::Lz4,
    );
    assert!(w
        .write_device(
            "root.sg.d",
            &[SeriesInput {
                schema: &bad_enc,
                times: &[1, 2],
                values: &v,
                nulls: None,
            }],
        )
        .is_err());
}

fn small_file(version: Version) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut w = TsFileWriter::new(
        &mut buf,
        WriterOptions {
            max_points_per_page: 7,
            ..WriterOptions::for_version(version)
        },
    )
    .unwrap();
    let t: Vec<i64> = (0..40).collect();
    for (i, ty) in [TSDataType::Int64, TSDataType::Double, TSDataType::Text]
        .iter()
        .enumerate()
    {
        let s = schema("s", *ty, ty.default_encoding(), COMPRESSORS[i * 2 % 6]);
        let v = values(*ty, 40, i as u64);
        w.write_device(
            &format!("root.sg.d{i}"),
            &[SeriesInput {
                schema: &s,
                times: &t,
                values: &v,
                nulls: None,
            }],
        )
        .unwrap();
    }
    let s = schema(
        "a",
        TSDataType::Float,
        TSEncoding::Gorilla,
        CompressionType::Snappy,
    );
    let v = values(TSDataType::Float, 40, 9);
    w.write_aligned_device(
        "root.sg.al",
        &t,
        &[AlignedColumn {
            schema: &s,
            values: &v,
            nulls: None,
        }],
    )
    .unwrap();
    w.finish().unwrap();
    buf
}

/// Reads everything a reader can reach; errors are fine, panics are not.
fn read_everything(bytes: Vec<u8>) {
    let Ok(r) = TsFileReader::new(bytes, ReadOptions::default()) else {
        return;
    };
    let Ok(all) = r.all_series() else { return };
    for (d, series) in all {
        for s in series {
            let _ = r.read_series(&d, &s.measurement, TimeRange::ALL);
            for c in &s.chunks {
                if let Ok(chunk) = r.read_chunk(c) {
                    if let Ok(pages) = chunk.pages(&c.statistics) {
                        for p in &pages {
                            let _ = chunk.decode_page(p);
                            let _ = chunk.decode_time_page(p);
                            let _ = chunk.decode_value_page(p, 7);
                        }
                    }
                }
            }
        }
        let _ = r.read_aligned(&d, &["a"], TimeRange::ALL);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    #[test]
    fn truncation_and_byte_flips_never_panic(v3 in any::<bool>(), cut in 0usize..4000, flips in proptest::collection::vec((0usize..4000, any::<u8>()), 0..6)) {
        let version = if v3 { Version::V3 } else { Version::V4 };
        let orig = small_file(version);
        let mut bytes = orig.clone();
        for (pos, b) in &flips {
            let p = pos % bytes.len();
            bytes[p] ^= b | 1;
        }
        read_everything(bytes.clone());
        let c = cut % orig.len();
        let mut truncated = orig.clone();
        truncated.truncate(c);
        read_everything(truncated);
        // Truncated copies that keep a valid-looking tail.
        if c > 20 {
            let mut t = orig[..c].to_vec();
            t.extend_from_slice(&orig[orig.len() - 10..]);
            read_everything(t);
        }
    }
}

#[test]
fn truncated_file_names_offset() {
    let orig = small_file(Version::V4);
    let e = TsFileReader::new(orig[..orig.len() - 3].to_vec(), ReadOptions::default())
        .err()
        .unwrap();
    let msg = e.to_string();
    assert!(msg.contains("offset"), "{msg}");
    assert_eq!(e.status_code(), model::TSStatusCode::StorageEngineError);
}

/// RLBE on FLOAT/DOUBLE has two flavours that no header tells apart (tsfile ≤ 2.0 — IoTDB
/// 2.0.x too — wrote float differences in V4 files, tsfile ≥ 2.1 raw-bit differences); the
/// reader picks, per page, the one whose values agree with the page statistics.
#[test]
fn rlbe_float_flavour_is_recognised_from_the_statistics() {
    use tsfile::encoding::FloatRlbe;
    let n = 2500;
    let times: Vec<i64> = (0..n as i64).collect();
    let doubles = ColumnData::Double((0..n).map(|i| (i % 400) as f64 * 0.125 - 20.0).collect());
    let floats = ColumnData::Float((0..n).map(|i| (i % 300) as f32 * 0.25 - 7.5).collect());
    for version in [Version::V3, Version::V4] {
        for flavour in [FloatRlbe::FloatArithmetic, FloatRlbe::RawBits] {
            let mut opts = small_pages(version);
            opts.codec.float_rlbe = flavour;
            let mut buf = Vec::new();
            {
                let mut w = TsFileWriter::new(&mut buf, opts).unwrap();
                for (name, t, vals) in [
                    ("d", TSDataType::Double, &doubles),
                    ("f", TSDataType::Float, &floats),
                ] {
                    let s = schema(name, t, TSEncoding::Rlbe, CompressionType::Snappy);
                    w.write_device(
                        &format!("root.sg.{name}"),
                        &[SeriesInput {
                            schema: &s,
                            times: &times,
                            values: vals,
                            nulls: None,
                        }],
                    )
                    .unwrap();
                }
                w.finish().unwrap();
            }
            let r = TsFileReader::new(buf, ReadOptions::default()).unwrap();
            for (name, vals) in [("d", &doubles), ("f", &floats)] {
                let got = r
                    .read_series(
                        &DeviceId::from_path(&format!("root.sg.{name}")),
                        name,
                        TimeRange::ALL,
                    )
                    .unwrap()
                    .unwrap();
                assert_eq!(&got.values.data, vals, "{version:?} {flavour:?} {name}");
            }
        }
    }
}

/// Pages are cut like Java's chunk writer: at 10,000 points while the encoded page stays
/// within 64 KiB (smooth doubles, a few bytes each), earlier when it would not (random
/// doubles, about 8 bytes each); every page's encoded body stays within the limit.
#[test]
fn pages_are_cut_by_point_count_and_encoded_size() {
    let n = 25_000usize;
    let t: Vec<i64> = (0..n as i64)
        .map(|i| 1_700_000_000_000 + i * 1000)
        .collect();
    let smooth: Vec<f64> = (0..n).map(|i| ((i / 50) % 200) as f64 * 0.5).collect();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let random: Vec<f64> = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64 * 1000.0
        })
        .collect();
    for (values, want_full_pages) in [(smooth, true), (random, false)] {
        let mut buf = Vec::new();
        let mut w = TsFileWriter::new(&mut buf, WriterOptions::default()).unwrap();
        let s = schema(
            "v",
            TSDataType::Double,
            TSEncoding::Gorilla,
            CompressionType::Snappy,
        );
        let v = ColumnData::Double(values.clone());
        w.write_device(
            "root.sg.d",
            &[SeriesInput {
                schema: &s,
                times: &t,
                values: &v,
                nulls: None,
            }],
        )
        .unwrap();
        w.finish().unwrap();
        let r = TsFileReader::new(buf, ReadOptions::default()).unwrap();
        let dev = DeviceId::from_path("root.sg.d");
        let meta = r.device_series(&dev).unwrap();
        let cm = &meta[0].chunks[0];
        let chunk = r.read_chunk(cm).unwrap();
        let pages = chunk.pages(&cm.statistics).unwrap();
        let counts: Vec<u64> = pages
            .iter()
            .map(|p| p.statistics.as_ref().unwrap().count)
            .collect();
        assert_eq!(counts.iter().sum::<u64>(), n as u64);
        for p in &pages {
            assert!(p.header.uncompressed_size as usize <= 64 * 1024);
        }
        if want_full_pages {
            assert_eq!(counts, vec![10_000, 10_000, 5_000]);
        } else {
            assert!(counts[0] < 10_000 && counts[0] > 4_096, "{counts:?}");
        }
        let read = r.read_series(&dev, "v", TimeRange::ALL).unwrap().unwrap();
        assert_eq!(read.values.data, v);
    }
}

/// Chunks encoded apart ([`WriterOptions::encode_chunk`], as a parallel flush does) and
/// appended with `copy_chunk` make the very file `write_device` makes, for every type,
/// encoding and compressor, with nulls.
#[test]
fn chunks_encoded_apart_make_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let opts = small_pages(Version::V4);
    let n = 1000;
    let times: Vec<i64> = (0..n as i64).map(|t| t * 10).collect();
    let mut nulls = model::Bitmap::new(n);
    (0..n).filter(|i| i % 7 == 3).for_each(|i| nulls.set(i));
    let mut inputs = Vec::new();
    for t in [
        TSDataType::Boolean,
        TSDataType::Int32,
        TSDataType::Int64,
        TSDataType::Float,
        TSDataType::Double,
        TSDataType::Text,
    ] {
        for e in all_encodings(t) {
            for c in [
                CompressionType::Uncompressed,
                CompressionType::Snappy,
                CompressionType::Lz4,
            ] {
                let name = format!("s{}", inputs.len());
                inputs.push((schema(&name, t, e, c), values(t, n, inputs.len() as u64)));
            }
        }
    }
    let series: Vec<SeriesInput<'_>> = inputs
        .iter()
        .enumerate()
        .map(|(k, (schema, values))| SeriesInput {
            schema,
            times: &times,
            values,
            nulls: (k % 2 == 1).then_some(&nulls),
        })
        .collect();
    let whole = dir.path().join("whole.tsfile");
    let mut w = TsFileWriter::create(&whole, opts.clone()).unwrap();
    w.write_device("root.ea.d1", &series).unwrap();
    w.finish().unwrap();
    let apart = dir.path().join("apart.tsfile");
    let mut w = TsFileWriter::create(&apart, opts.clone()).unwrap();
    for s in &series {
        let c = opts.encode_chunk(s).unwrap().unwrap();
        w.copy_chunk("root.ea.d1", &c.header, &c.data, &c.statistics)
            .unwrap();
    }
    w.finish().unwrap();
    assert!(series.len() > 30);
    assert_eq!(
        std::fs::read(&whole).unwrap(),
        std::fs::read(&apart).unwrap()
    );
}

/// The encoding and compressor of each chunk of `device`'s `name`.
fn chunk_kinds(
    r: &TsFileReader<Vec<u8>>,
    device: &str,
    name: &str,
) -> Vec<(TSEncoding, CompressionType)> {
    let meta = r
        .series_metadata(&DeviceId::from_path(device), name)
        .unwrap()
        .unwrap();
    meta.chunks
        .iter()
        .map(|c| {
            let h = r.read_chunk(c).unwrap().header;
            (h.encoding, h.compression)
        })
        .collect()
}

/// With `plain_fallback` (the default), a series whose first chunk in a file GORILLA does
/// not shrink is written PLAIN, and one its compressor does not shrink UNCOMPRESSED; every
/// later chunk of that series in the file takes what the first took (the C++ reader fails
/// on a series whose chunks differ), and a chunk copied in otherwise is refused. Without
/// the fallback every chunk has its schema's. All of it reads back.
#[test]
fn chunks_fall_back_to_plain_and_uncompressed_when_that_is_smaller() {
    let n = 5_000;
    let noisy = ColumnData::Double(common::noise(n, 3));
    let smooth = ColumnData::Double((0..n).map(|i| (i / 50) as f64 * 0.5).collect());
    let s = schema(
        "v",
        TSDataType::Double,
        TSEncoding::Gorilla,
        CompressionType::Snappy,
    );
    let a = schema(
        "a",
        TSDataType::Double,
        TSEncoding::Gorilla,
        CompressionType::Lz4,
    );
    let gorilla = TSEncoding::Gorilla;
    let plain = (TSEncoding::Plain, CompressionType::Uncompressed);
    for fallback in [true, false] {
        for noisy_first in [true, false] {
            let mut buf = Vec::new();
            let opts = WriterOptions {
                plain_fallback: fallback,
                ..WriterOptions::default()
            };
            let mut w = TsFileWriter::new(&mut buf, opts).unwrap();
            let order = if noisy_first {
                [&noisy, &smooth]
            } else {
                [&smooth, &noisy]
            };
            let mut times = Vec::new();
            let mut values = Vec::new();
            for (k, v) in order.into_iter().enumerate() {
                let t = common::ragged_times(k as i64 * 1_000_000_000_000, n, 9 + k as u64);
                let input = SeriesInput {
                    schema: &s,
                    times: &t,
                    values: v,
                    nulls: None,
                };
                w.write_device("root.sg.d", &[input]).unwrap();
                let col = AlignedColumn {
                    schema: &a,
                    values: v,
                    nulls: None,
                };
                w.write_aligned_device("root.sg.a", &t, &[col]).unwrap();
                times.extend(t);
                values.extend(match v {
                    ColumnData::Double(v) => v.clone(),
                    _ => unreachable!(),
                });
            }
            w.finish().unwrap();
            let r = TsFileReader::new(buf, ReadOptions::default()).unwrap();
            let what = format!("fallback={fallback} noisy_first={noisy_first}");
            for (device, name, compressor) in [
                ("root.sg.d", "v", CompressionType::Snappy),
                ("root.sg.a", "a", CompressionType::Lz4),
            ] {
                let kind = if fallback && noisy_first {
                    plain
                } else {
                    (gorilla, compressor)
                };
                assert_eq!(
                    chunk_kinds(&r, device, name),
                    vec![kind; 2],
                    "{device} {what}"
                );
            }
            let data = r
                .read_series(&DeviceId::from_path("root.sg.d"), "v", TimeRange::ALL)
                .unwrap()
                .unwrap();
            assert_eq!(data.times, times, "{what}");
            assert_eq!(data.values.data, ColumnData::Double(values), "{what}");
        }
    }
}

/// Series written together whose first page falls back to PLAIN cut their pages as PLAIN
/// does, whatever their values: the pages line up, and each page of one series carries the
/// same encoded time column as the same page of the other (what a reader shares, see
/// `Chunk::decode_values_if_times`). Before, the first page kept the cut GORILLA's size
/// chose, which differs from series to series.
#[test]
fn series_falling_back_alike_cut_the_same_pages() {
    let n = 30_000;
    let t = common::ragged_times(0, n, 4);
    let schemas: Vec<_> = ["x", "y"]
        .iter()
        .map(|m| {
            schema(
                m,
                TSDataType::Double,
                TSEncoding::Gorilla,
                CompressionType::Snappy,
            )
        })
        .collect();
    // GORILLA shrinks neither random bits nor random mantissas of random signs, and its
    // sizes for the two differ
    let any_sign: Vec<f64> = common::noise(n, 22)
        .into_iter()
        .map(|x| x.to_bits())
        .map(|b| f64::from_bits((b & ((1 << 52) - 1) | (b & (1 << 63))) | (1023 << 52)))
        .collect();
    let values = [common::noise(n, 21), any_sign].map(ColumnData::Double);
    let opts = WriterOptions::default();
    let mut pages = Vec::new();
    for (s, v) in schemas.iter().zip(&values) {
        let input = SeriesInput {
            schema: s,
            times: &t,
            values: v,
            nulls: None,
        };
        let c = opts.encode_chunk(&input).unwrap().unwrap();
        assert_eq!(c.header.encoding, TSEncoding::Plain);
        let mut buf = Vec::new();
        let mut w = TsFileWriter::new(&mut buf, opts.clone()).unwrap();
        w.copy_chunk("root.sg.d", &c.header, &c.data, &c.statistics)
            .unwrap();
        w.finish().unwrap();
        let r = TsFileReader::new(buf, ReadOptions::default()).unwrap();
        let meta = r
            .series_metadata(&DeviceId::from_path("root.sg.d"), s.name.as_str())
            .unwrap()
            .unwrap();
        let chunk = r.read_chunk(&meta.chunks[0]).unwrap();
        let refs = chunk.pages(&meta.chunks[0].statistics).unwrap();
        assert!(refs.len() > 2);
        let cuts: Vec<(u64, Vec<u8>)> = refs
            .iter()
            .map(|p| {
                let st = p.statistics.as_ref().unwrap();
                let mut times = Vec::new();
                let mut vals = ColumnData::empty(TSDataType::Double);
                let mut enc = Vec::new();
                chunk
                    .decode_page_recording(p, &mut times, &mut vals, &mut enc)
                    .unwrap();
                assert_eq!(times.len() as u64, st.count);
                (st.count, enc)
            })
            .collect();
        pages.push((chunk, refs, cuts));
    }
    assert_eq!(pages[0].2, pages[1].2, "page cuts and encoded times");
    // so the second series' values decode against the first's encoded times
    let (chunk, refs, _) = &pages[1];
    let mut got = ColumnData::empty(TSDataType::Double);
    for (p, (count, enc)) in refs.iter().zip(&pages[0].2) {
        assert!(chunk
            .decode_values_if_times(p, enc, *count as usize, &mut got)
            .unwrap());
    }
    assert_eq!(got, values[1]);
    // and not against other times
    let mut other = pages[0].2[1].1.clone();
    other[2] ^= 1;
    let mut none = ColumnData::empty(TSDataType::Double);
    assert!(!chunk
        .decode_values_if_times(&refs[1], &other, pages[0].2[1].0 as usize, &mut none)
        .unwrap());
    assert!(none.is_empty());
}

/// A chunk copied into a file whose chunks of that series have another encoding or
/// compressor is refused, and nothing of it is written; [`TsFileWriter::settle`] makes
/// chunks encoded afterwards match the ones to be copied.
#[test]
fn a_series_keeps_one_encoding_and_compressor_per_file() {
    let n = 4_000;
    let noisy = ColumnData::Double(common::noise(n, 5));
    let s = schema(
        "v",
        TSDataType::Double,
        TSEncoding::Gorilla,
        CompressionType::Snappy,
    );
    let t = common::ragged_times(0, n, 11);
    let input = SeriesInput {
        schema: &s,
        times: &t,
        values: &noisy,
        nulls: None,
    };
    let opts = WriterOptions::default();
    let fell = opts.encode_chunk(&input).unwrap().unwrap();
    let kept = opts
        .encode_chunk_in(&input, Some((TSEncoding::Gorilla, CompressionType::Snappy)))
        .unwrap()
        .unwrap();
    assert_eq!(
        (fell.header.encoding, fell.header.compression),
        (TSEncoding::Plain, CompressionType::Uncompressed)
    );
    assert_eq!(
        (kept.header.encoding, kept.header.compression),
        (TSEncoding::Gorilla, CompressionType::Snappy)
    );
    let mut buf = Vec::new();
    let mut w = TsFileWriter::new(&mut buf, opts).unwrap();
    w.copy_chunk("root.sg.d", &kept.header, &kept.data, &kept.statistics)
        .unwrap();
    let at = w.position();
    let err = w
        .copy_chunk("root.sg.d", &fell.header, &fell.data, &fell.statistics)
        .unwrap_err();
    assert!(err.to_string().contains("re-encode"), "{err}");
    assert_eq!(w.position(), at, "nothing of a refused chunk is written");
    assert_eq!(
        w.settled("root.sg.d", "v"),
        Some((TSEncoding::Gorilla, CompressionType::Snappy))
    );
    // a settled series' chunks are encoded as settled: no fallback
    w.settle(
        "root.sg.e",
        "v",
        (TSEncoding::Gorilla, CompressionType::Snappy),
    );
    w.write_device("root.sg.e", &[input]).unwrap();
    w.finish().unwrap();
    let r = TsFileReader::new(buf, ReadOptions::default()).unwrap();
    assert_eq!(
        chunk_kinds(&r, "root.sg.e", "v"),
        vec![(TSEncoding::Gorilla, CompressionType::Snappy)]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Reads of an aligned device (two chunk groups, random nulls, runs of rows null in every
    /// column, a random range and subset of columns) give what a row-by-row model of the
    /// written rows says: the rows in range with a value in some requested column, and per
    /// column its non-null points.
    #[test]
    fn aligned_reads_match_a_row_model(
        nulls in proptest::collection::vec(proptest::collection::vec(0u8..4, 700), 3),
        gap in 0usize..700,
        gap_len in 0usize..400,
        lo in 0i64..800,
        len in 0i64..900,
        pick in 1usize..8,
    ) {
        let n = 700;
        let schemas: Vec<MeasurementSchema> = [TSDataType::Double, TSDataType::Int32, TSDataType::Text]
            .iter()
            .enumerate()
            .map(|(k, t)| schema(&format!("c{k}"), *t, t.default_encoding(), COMPRESSORS[k]))
            .collect();
        let data: Vec<ColumnData> = schemas.iter().enumerate().map(|(k, s)| values(s.data_type, n, k as u64)).collect();
        // a value is null one time in four, and every column is null in the gap
        let null_at = |k: usize, i: usize| nulls[k][i] == 0 || (gap..gap + gap_len).contains(&i);
        let times: Vec<i64> = (0..n as i64).collect();
        let mut buf = Vec::new();
        {
            let mut w = TsFileWriter::new(&mut buf, small_pages(Version::V4)).unwrap();
            for part in [0..400, 400..n] {
                let t = &times[part.clone()];
                let vals: Vec<ColumnData> = data.iter().map(|d| d.take(&part.clone().collect::<Vec<_>>())).collect();
                let bms: Vec<Bitmap> = (0..3)
                    .map(|k| {
                        let mut b = Bitmap::new(0);
                        part.clone().for_each(|i| b.push(null_at(k, i)));
                        b
                    })
                    .collect();
                let cols: Vec<AlignedColumn> = (0..3)
                    .map(|k| AlignedColumn { schema: &schemas[k], values: &vals[k], nulls: Some(&bms[k]) })
                    .collect();
                w.write_aligned_device("root.sg.a", t, &cols).unwrap();
            }
            w.finish().unwrap();
        }
        let r = TsFileReader::new(buf, ReadOptions::default()).unwrap();
        let dev = DeviceId::from_path("root.sg.a");
        let chosen: Vec<usize> = (0..3).filter(|k| pick & (1 << k) != 0).collect();
        let names: Vec<String> = chosen.iter().map(|k| format!("c{k}")).collect();
        let refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        let range = TimeRange::new(lo, lo + len);
        let in_range = |i: usize| range.contains(times[i]);
        // rows: in range, with a value in a chosen column
        let want_rows: Vec<usize> = (0..n)
            .filter(|&i| in_range(i) && chosen.iter().any(|&k| !null_at(k, i)))
            .collect();
        let rows = r.read_aligned(&dev, &refs, range).unwrap().unwrap();
        prop_assert_eq!(&rows.times, &want_rows.iter().map(|&i| times[i]).collect::<Vec<_>>());
        for (c, &k) in chosen.iter().enumerate() {
            for (j, &i) in want_rows.iter().enumerate() {
                let want = if null_at(k, i) { None } else { data[k].get(i) };
                prop_assert_eq!(rows.columns[c].value(j), want, "c{} row {}", k, i);
            }
        }
        // per column: its non-null points in range
        let series = r.device_series(&dev).unwrap();
        let cols = r.read_aligned_columns(&series, &refs, range).unwrap();
        for (c, &k) in chosen.iter().enumerate() {
            let points: Vec<usize> = (0..n).filter(|&i| in_range(i) && !null_at(k, i)).collect();
            let got = cols[c].as_ref().unwrap();
            prop_assert_eq!(&got.times, &points.iter().map(|&i| times[i]).collect::<Vec<_>>());
            prop_assert_eq!(&got.values.data, &data[k].take(&points));
            prop_assert!(got.values.nulls.is_none());
        }
    }
}

/// An aligned column without null marks is written exactly as the same column with an
/// all-clear null bitmap (the writer takes a shorter way for it: bitmap bytes, statistics).
#[test]
fn aligned_columns_without_nulls_write_the_same_bytes() {
    let n = 1003;
    let times: Vec<i64> = (0..n as i64).map(|i| i * 10).collect();
    let types = [
        TSDataType::Double,
        TSDataType::Int32,
        TSDataType::Int64,
        TSDataType::Float,
        TSDataType::Boolean,
        TSDataType::Text,
    ];
    let schemas: Vec<MeasurementSchema> = types
        .iter()
        .enumerate()
        .map(|(k, t)| schema(&format!("v{k}"), *t, t.default_encoding(), COMPRESSORS[k]))
        .collect();
    let data: Vec<ColumnData> = types
        .iter()
        .enumerate()
        .map(|(k, t)| values(*t, n, k as u64))
        .collect();
    let clear = Bitmap::new(n);
    let write = |marks: Option<&Bitmap>| {
        let cols: Vec<AlignedColumn> = (0..types.len())
            .map(|k| AlignedColumn {
                schema: &schemas[k],
                values: &data[k],
                nulls: marks,
            })
            .collect();
        let mut buf = Vec::new();
        let mut w = TsFileWriter::new(&mut buf, small_pages(Version::V4)).unwrap();
        w.write_aligned_device("root.sg.n", &times, &cols).unwrap();
        w.finish().unwrap();
        buf
    };
    assert_eq!(write(None), write(Some(&clear)));
}
