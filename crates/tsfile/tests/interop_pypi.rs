//! Cross-implementation tests against the official PyPI `tsfile` package (C++ core, V4).
//!
//! 1. PyPI tsfile writes a file per (type, encoding, compressor) it accepts, plus a table-model
//!    file with aligned chunks of every type; our reader must read identical values.
//!    SPRINTZ FLOAT/DOUBLE/INT64 smooth signals (whose 64-bit FIRE predictions overflow, where the
//!    C++ core computes differently from Java) must read exactly as written.
//! 2. Our writer writes every type × encoding × compressor, aligned and not, multi-page; PyPI
//!    tsfile must read identical values (except the combinations its C++ decoders lack,
//!    listed in `pypi_cannot_read` and reported).
//!
//! Driven by `tests/tsfile_interop/pypi_interop.py`. The Python interpreter is
//! `$TSFILE_PYTHON` (default `python3`); without one that can `import tsfile` the test prints
//! why and passes, unless `TSFILE_INTEROP_REQUIRED=1` (as `tests/tsfile_interop/run.sh` sets).

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use common::{canon, check_points, write_our_files};
use model::{TSDataType, TSEncoding};
use serde_json::Value as Json;
use tsfile::device::DeviceId;
use tsfile::format::Version;
use tsfile::reader::{TimeRange, TsFileReader};

fn script() -> PathBuf {
    common::interop_dir().join("pypi_interop.py")
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
    common::skip(&format!(
        "`{py} -c 'import tsfile'` failed; install PyPI tsfile (pip install tsfile) \
         and/or set TSFILE_PYTHON to run the PyPI interop test"
    ));
    None
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
            if f["exact"].as_bool() == Some(true) {
                assert_eq!(
                    back, written,
                    "{name} {m}: PyPI no longer reads it as written"
                );
            }
            let got = r
                .read_series(&device, m, TimeRange::ALL)
                .unwrap_or_else(|e| panic!("{name} {m}: {e}"))
                .unwrap_or_else(|| panic!("{name}: series {m} not found"));
            let got: BTreeMap<i64, String> = got
                .times
                .iter()
                .enumerate()
                .map(|(i, time)| (*time, canon(&got.values.data.get(i).unwrap())))
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
            assert_eq!(meta.data_type, Some(t), "{name} {m}");
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

#[test]
fn our_files_read_identically_by_pypi() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut skipped = Vec::new();
    let files = write_our_files(dir.path(), Version::V4, pypi_cannot_read, &mut skipped);
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
                let got: BTreeMap<i64, String> = rows
                    .iter()
                    .filter_map(|r| Some((r[0].as_i64()?, r[col].as_str()?.to_string())))
                    .collect();
                check_points(
                    &format!("{key} {}.{name} ({})", exp.device, t.name()),
                    m,
                    &got,
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
