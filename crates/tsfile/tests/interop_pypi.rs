//! Cross-implementation tests against the official PyPI `tsfile` package (C++ core, V4).
//!
//! 1. PyPI tsfile writes a file per (type, encoding, compressor) it accepts, plus a table-model
//!    file with aligned chunks of every type; our reader must read identical values.
//! 2. Our writer writes every type × encoding × compressor, aligned and not, multi-page; PyPI
//!    tsfile must read identical values (except the combinations its C++ decoders lack,
//!    listed in `pypi_cannot_read` and reported).
//!
//! Driven by `tests/tsfile_interop/pypi_interop.py`. The Python interpreter is
//! `$TSFILE_PYTHON` (default `python3`); without one that can `import tsfile` the test prints
//! why and passes, unless `TSFILE_INTEROP_REQUIRED=1` (as `tests/tsfile_interop/run.sh` sets).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use model::{
    Bitmap, ColumnData, CompressionType, MeasurementSchema, TSDataType, TSEncoding, Value,
};
use serde_json::Value as Json;
use tsfile::device::DeviceId;
use tsfile::encoding::is_implemented;
use tsfile::reader::{TimeRange, TsFileReader};
use tsfile::writer::{AlignedColumn, SeriesInput, TsFileWriter, WriterOptions};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/tsfile_interop/pypi_interop.py")
}

/// The Python to use, or `None` (with the reason printed) when PyPI tsfile is unavailable.
fn python() -> Option<String> {
    let py = std::env::var("TSFILE_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&py)
        .args(["-c", "import tsfile"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        return Some(py);
    }
    let msg = format!(
        "SKIPPED: `{py} -c 'import tsfile'` failed; install PyPI tsfile (pip install tsfile) \
         and/or set TSFILE_PYTHON to run the PyPI interop test"
    );
    if std::env::var("TSFILE_INTEROP_REQUIRED").as_deref() == Ok("1") {
        panic!("{msg}");
    }
    eprintln!("{msg}");
    None
}

/// The exchange string of a value (see pypi_interop.py).
fn canon(t: TSDataType, v: &Value) -> String {
    match v {
        Value::Boolean(b) => b.to_string(),
        Value::Int32(i) => i.to_string(),
        Value::Int64(i) => i.to_string(),
        Value::Float(f) if f.is_nan() => "nan".into(),
        Value::Double(f) if f.is_nan() => "nan".into(),
        Value::Float(f) => (*f as f64).to_bits().to_string(),
        Value::Double(f) => f.to_bits().to_string(),
        Value::Text(b) => {
            let _ = t;
            b.iter().map(|x| format!("{x:02x}")).collect()
        }
    }
}

fn type_of(name: &str) -> TSDataType {
    TSDataType::from_name(name).unwrap_or_else(|| panic!("unknown type {name}"))
}

#[test]
fn pypi_written_files_read_identically() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(&py)
        .arg(script())
        .arg("write")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pypi_interop.py write failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{}", String::from_utf8_lossy(&out.stdout).trim());
    let manifest: Json =
        serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).unwrap()).unwrap();
    let files = manifest["files"].as_array().unwrap();
    let mut checked = 0;
    let mut combos = Vec::new();
    let mut pypi_lossy = Vec::new();
    for f in files {
        let name = f["file"].as_str().unwrap();
        let r = TsFileReader::open(dir.path().join(name))
            .unwrap_or_else(|e| panic!("{name}: cannot open: {e}"));
        let device = match &f["device"] {
            Json::String(s) => DeviceId::from_path(s),
            Json::Array(segs) => DeviceId::from_segments(
                segs.iter()
                    .map(|s| Some(s.as_str().unwrap().to_string()))
                    .collect(),
            ),
            other => panic!("bad device {other}"),
        };
        for s in f["series"].as_array().unwrap() {
            let m = s["name"].as_str().unwrap();
            let t = type_of(s["type"].as_str().unwrap());
            let times: Vec<i64> = s["times"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_i64().unwrap())
                .collect();
            let written = s["values"].as_array().unwrap();
            // What PyPI tsfile itself reads back can differ from what it was given (its
            // SPRINTZ encoder loses values whose prediction errors overflow; its reader cuts
            // BLOB values at a NUL byte). Each of our values must equal the written one or,
            // where PyPI disagrees with itself, PyPI's own reading.
            let back = s["read_back"].as_array().unwrap_or(written);
            let got = r
                .read_series(&device, m, TimeRange::ALL)
                .unwrap_or_else(|e| panic!("{name} {m}: {e}"))
                .unwrap_or_else(|| panic!("{name}: series {m} not found"));
            let got: BTreeMap<i64, String> = got
                .times
                .iter()
                .enumerate()
                .map(|(i, time)| (*time, canon(t, &got.values.data.get(i).unwrap())))
                .collect();
            let mut n_expected = 0;
            let mut differs = 0;
            for (i, time) in times.iter().enumerate() {
                let w = written[i].as_str();
                let b = back[i].as_str();
                let ours = got.get(time).map(|s| s.as_str());
                if w.is_none() {
                    assert_eq!(
                        ours, None,
                        "{name} {m} at {time}: value where none was written"
                    );
                    continue;
                }
                n_expected += 1;
                if ours != w {
                    assert_eq!(
                        ours, b,
                        "{name} {m} at {time}: written {w:?}, PyPI reads {b:?}"
                    );
                    differs += 1;
                }
            }
            assert_eq!(got.len(), n_expected, "{name} {m}: point count");
            if differs > 0 || back != written {
                pypi_lossy.push(format!("{name} {m} ({differs} points as PyPI reads them)"));
            }
            // Statistics agree with the data.
            let meta = r.series_metadata(&device, m).unwrap().unwrap();
            assert_eq!(meta.statistics.count, n_expected as u64, "{name} {m}");
            checked += 1;
        }
        combos.push(name.to_string());
    }
    eprintln!(
        "read {} PyPI-written files ({checked} series) identically; PyPI refused {} combinations",
        combos.len(),
        manifest["unsupported"]
            .as_array()
            .map(|a| a.len())
            .unwrap_or(0)
    );
    if !pypi_lossy.is_empty() {
        eprintln!(
            "note: PyPI tsfile reads back values different from those it was given (its own \
             lossy encoding or NUL-cut BLOBs) in {} series: {}",
            pypi_lossy.len(),
            pypi_lossy.join(", ")
        );
    }
    assert!(combos.len() > 200, "too few PyPI files: {}", combos.len());
}

/// Combinations the PyPI tsfile 2.5 C++ decoders do not implement (its `DecoderFactory`).
fn pypi_cannot_read(t: TSDataType, e: TSEncoding) -> bool {
    use TSDataType as T;
    use TSEncoding as E;
    matches!(
        (t, e),
        (T::Boolean, E::Rle)
            | (T::Float | T::Double, E::Rle)
            | (T::Blob, E::Dictionary)
            | (T::Date | T::Timestamp, E::Zigzag | E::Sprintz)
    )
}

const COMPRESSORS: [CompressionType; 6] = [
    CompressionType::Uncompressed,
    CompressionType::Snappy,
    CompressionType::Gzip,
    CompressionType::Lz4,
    CompressionType::Zstd,
    CompressionType::Lzma2,
];

fn test_values(t: TSDataType, n: usize, salt: usize) -> ColumnData {
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

struct Expected {
    device: String,
    series: Vec<(String, TSDataType, BTreeMap<i64, Option<String>>)>,
}

#[test]
fn our_files_read_identically_by_pypi() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<(PathBuf, Vec<Expected>)> = Vec::new();
    let mut skipped = Vec::new();
    let n = 12_000; // two pages at 10,000 points per page
                    // Non-aligned: one file per type, one device per (encoding, compressor).
    for t in TSDataType::ALL {
        let path = dir.path().join(format!("rs_{}.tsfile", t.name()));
        let mut w = TsFileWriter::create(&path, WriterOptions::default()).unwrap();
        let mut exp = Vec::new();
        for e in TSEncoding::ALL {
            if !e.supports(*t) || !is_implemented(*e, *t) {
                continue;
            }
            if pypi_cannot_read(*t, *e) {
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
                    .map(|i| (times[i], Some(canon(*t, &vals.get(i).unwrap()))))
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
    // Aligned: one file per compressor, one device with every type (default encodings), nulls.
    for (ci, c) in COMPRESSORS.iter().enumerate() {
        let path = dir.path().join(format!("rs_aligned_{}.tsfile", c.name()));
        let opts = WriterOptions {
            time_compression: *c,
            ..WriterOptions::default()
        };
        let mut w = TsFileWriter::create(&path, opts).unwrap();
        let times: Vec<i64> = (0..n as i64).map(|i| 1_000_000 + i).collect();
        let schemas: Vec<MeasurementSchema> = TSDataType::ALL
            .iter()
            .map(|t| {
                let mut e = t.default_encoding();
                if pypi_cannot_read(*t, e) {
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
                            Some(canon(t, &data[k].get(i).unwrap()))
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
    let out = Command::new(&py)
        .arg(script())
        .arg("read")
        .args(files.iter().map(|f| f.0.clone()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pypi_interop.py read failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Json = serde_json::from_slice(&out.stdout).unwrap();
    let mut series_checked = 0;
    for (path, exps) in &files {
        let key = path.to_str().unwrap();
        let fr = &result["files"][key];
        if let Some(err) = fr.get("error") {
            panic!("PyPI tsfile cannot read {key}: {err}");
        }
        for exp in exps {
            let d = &fr["devices"][exp.device.as_str()];
            assert!(
                !d.is_null(),
                "PyPI tsfile does not list {} in {key}",
                exp.device
            );
            let names: Vec<&str> = d["names"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap())
                .collect();
            let rows = d["rows"].as_array().unwrap();
            for (name, t, m) in &exp.series {
                let col = names
                    .iter()
                    .position(|x| x == name)
                    .unwrap_or_else(|| panic!("{key}: {} has no {name}", exp.device))
                    + 1;
                let mut got: BTreeMap<i64, Option<String>> = BTreeMap::new();
                for r in rows {
                    let time = r[0].as_i64().unwrap();
                    got.insert(time, r[col].as_str().map(|s| s.to_string()));
                }
                // PyPI drops rows that are null in every queried column; compare where present.
                let expected_non_null: Vec<(&i64, &String)> = m
                    .iter()
                    .filter_map(|(t, v)| v.as_ref().map(|v| (t, v)))
                    .collect();
                for (time, v) in &expected_non_null {
                    assert_eq!(
                        got.get(time).cloned().flatten().as_ref(),
                        Some(*v),
                        "{key} {}.{name} ({}) at time {time}",
                        exp.device,
                        t.name()
                    );
                }
                let extra = got
                    .iter()
                    .filter(|(time, v)| v.is_some() && !matches!(m.get(time), Some(Some(_))))
                    .count();
                assert_eq!(
                    extra, 0,
                    "{key} {}.{name}: values where we wrote none",
                    exp.device
                );
                series_checked += 1;
            }
        }
    }
    eprintln!(
        "PyPI tsfile read {} of our files ({series_checked} series) identically; \
         combinations its C++ decoders lack (not checked): {}",
        files.len(),
        skipped.join(", ")
    );
}
