//! Cross-implementation tests against the official Java TsFile library (Maven Central):
//! tsfile 1.1.3 (what IoTDB 1.3 uses; format V3) and 2.4.0 (format V4).
//!
//! 1. Java writes a file per (type, encoding, compressor) it accepts plus aligned files with
//!    nulls; our reader must read the values Java wrote (or, where Java's own encoder is lossy,
//!    what Java itself reads back).
//! 2. Our writer writes every type × encoding × compressor, aligned and not, multi-page, in
//!    that version's format; Java must read identical values. For V3 this is the check that our
//!    files load into IoTDB 1.x.
//!
//! Driven by `tests/tsfile_interop/java_oracle.sh` (needs java, javac, mvn and Maven Central).
//! Runs when `TSFILE_INTEROP_JAVA=1` or `TSFILE_INTEROP_REQUIRED=1` (as `run.sh` sets);
//! otherwise, or when the tools are missing, it prints why and passes (unless required).

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::{canon, check_points, write_our_files};
use model::{TSDataType, TSEncoding};
use tsfile::device::DeviceId;
use tsfile::format::Version;
use tsfile::reader::{TimeRange, TsFileReader};

/// Points per file, then per series: file → (device, measurement) → (type, points).
type Parsed =
    BTreeMap<String, Result<BTreeMap<(String, String), (String, Vec<(i64, String)>)>, String>>;

fn parse(text: &str) -> Parsed {
    let mut out: Parsed = BTreeMap::new();
    let mut file = String::new();
    let mut key = (String::new(), String::new());
    for line in text.lines() {
        let mut p = line.splitn(2, ' ');
        let tag = p.next().unwrap_or("");
        let rest = p.next().unwrap_or("");
        match tag {
            "F" => {
                file = rest.to_string();
                out.insert(file.clone(), Ok(BTreeMap::new()));
            }
            "E" => {
                out.insert(file.clone(), Err(rest.to_string()));
            }
            "S" => {
                let f: Vec<&str> = rest.split(' ').collect();
                key = (f[0].to_string(), f[1].to_string());
                if let Some(Ok(m)) = out.get_mut(&file) {
                    m.insert(key.clone(), (f[2].to_string(), Vec::new()));
                }
            }
            "P" => {
                let (t, v) = rest.split_once(' ').unwrap();
                if let Some(Ok(m)) = out.get_mut(&file) {
                    if let Some(s) = m.get_mut(&key) {
                        s.1.push((t.parse().unwrap(), v.to_string()));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Runs the oracle; `None` when it cannot run here (exit code 77) or is not asked for.
fn oracle(version: &str, args: &[&str]) -> Option<String> {
    // Two minutes of Java per run: only when asked (run.sh asks).
    let asked = std::env::var("TSFILE_INTEROP_JAVA").as_deref() == Ok("1")
        || std::env::var("TSFILE_INTEROP_REQUIRED").as_deref() == Ok("1");
    if !asked {
        eprintln!(
            "SKIPPED: Java TsFile oracle not requested; set TSFILE_INTEROP_JAVA=1 or run \
             tests/tsfile_interop/run.sh"
        );
        return None;
    }
    let out = Command::new("bash")
        .arg(common::interop_dir().join("java_oracle.sh"))
        .arg(version)
        .args(args)
        .output()
        .expect("bash");
    if out.status.code() == Some(77) {
        common::skip(&format!(
            "the Java TsFile oracle cannot run here: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
        return None;
    }
    assert!(
        out.status.success(),
        "java_oracle.sh {version} {} failed: {}",
        args.first().unwrap_or(&""),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

fn java_written_files_read_identically(java: &str, version: Version) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let Some(msg) = oracle(java, &["write", d]) else {
        return;
    };
    eprintln!("tsfile {java}: {}", msg.trim());
    let manifest = parse(&std::fs::read_to_string(dir.path().join("manifest.txt")).unwrap());
    let names: Vec<String> = manifest.keys().cloned().collect();
    let paths: Vec<String> = names.iter().map(|n| format!("{d}/{n}")).collect();
    // What Java reads back of its own files (its SPRINTZ encoder is lossy on overflow).
    let mut args = vec!["read"];
    args.extend(paths.iter().map(|s| s.as_str()));
    let Some(back) = oracle(java, &args) else {
        return;
    };
    let back = parse(&back);
    let mut series = 0;
    let mut lossy = Vec::new();
    for (name, content) in &manifest {
        let content = content.as_ref().unwrap();
        let path = format!("{d}/{name}");
        let r = TsFileReader::open(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.version(), version, "{name}");
        let java_back = back.get(&path).and_then(|b| b.as_ref().ok());
        for ((dev, m), (t, points)) in content {
            let t = TSDataType::from_name(t).unwrap();
            let got = r
                .read_series(&DeviceId::from_path(dev), m, TimeRange::ALL)
                .unwrap_or_else(|e| panic!("{name} {dev}.{m}: {e}"))
                .unwrap_or_else(|| panic!("{name}: no series {dev}.{m}"));
            let ours: BTreeMap<i64, String> = got
                .times
                .iter()
                .enumerate()
                .map(|(i, time)| (*time, canon(&got.values.data.get(i).unwrap())))
                .collect();
            let jb: BTreeMap<i64, String> = java_back
                .and_then(|b| b.get(&(dev.clone(), m.clone())))
                .map(|s| s.1.iter().cloned().collect())
                .unwrap_or_default();
            let mut differs = 0;
            let mut n = 0;
            for (time, v) in points {
                let ours_v = ours.get(time);
                if v == "null" {
                    assert_eq!(
                        ours_v, None,
                        "{name} {dev}.{m} at {time}: value where null written"
                    );
                    continue;
                }
                n += 1;
                if ours_v != Some(v) {
                    assert_eq!(
                        ours_v,
                        jb.get(time),
                        "{name} {dev}.{m} ({}) at {time}: written {v}",
                        t.name()
                    );
                    differs += 1;
                }
            }
            assert_eq!(ours.len(), n, "{name} {dev}.{m}: point count");
            if differs > 0 {
                lossy.push(format!("{name} ({differs} points as Java reads them)"));
            }
            series += 1;
        }
    }
    eprintln!(
        "read {} files ({series} series) written by Java tsfile {java} identically{}",
        manifest.len(),
        if lossy.is_empty() {
            String::new()
        } else {
            format!("; Java's own encoder was lossy in: {}", lossy.join(", "))
        }
    );
    assert!(manifest.len() > 250, "too few Java files");
}

fn our_files_read_identically_by_java(java: &str, version: Version) {
    let dir = tempfile::tempdir().unwrap();
    let mut skipped = Vec::new();
    // tsfile 1.x predates the raw-bits RLBE for floats (our V3 writer uses its flavour) and
    // reads everything else we write; 2.x reads everything.
    let files = write_our_files(
        dir.path(),
        version,
        |_: TSDataType, _: TSEncoding| false,
        &mut skipped,
    );
    let paths: Vec<String> = files
        .iter()
        .map(|f| f.0.to_str().unwrap().to_string())
        .collect();
    let mut args = vec!["read"];
    args.extend(paths.iter().map(|s| s.as_str()));
    let Some(out) = oracle(java, &args) else {
        return;
    };
    let parsed = parse(&out);
    let mut series = 0;
    for (path, exps) in &files {
        let key = path.to_str().unwrap();
        let content = match parsed.get(key) {
            Some(Ok(c)) => c,
            Some(Err(e)) => panic!("Java tsfile {java} cannot read {key}: {e}"),
            None => panic!("Java tsfile {java} printed nothing for {key}"),
        };
        for exp in exps {
            for (m, t, points) in &exp.series {
                let (jt, got) = content
                    .get(&(exp.device.clone(), m.clone()))
                    .unwrap_or_else(|| panic!("Java does not list {}.{m} in {key}", exp.device));
                let got: BTreeMap<i64, String> = got.iter().cloned().collect();
                // (Java's aligned reader reports TIMESTAMP/DATE columns by their physical type.)
                if !got.is_empty() {
                    assert!(
                        jt == t.name() || jt == t.physical().name(),
                        "{key} {}.{m}: Java reads type {jt}, we wrote {}",
                        exp.device,
                        t.name()
                    );
                }
                check_points(
                    &format!("Java {java}: {key} {}.{m} ({})", exp.device, t.name()),
                    points,
                    &got,
                );
                series += 1;
            }
        }
    }
    eprintln!(
        "Java tsfile {java} read {} of our {version:?} files ({series} series) identically",
        files.len()
    );
}

#[test]
fn v3_java_1_1_3_written_files_read_identically() {
    java_written_files_read_identically("1.1.3", Version::V3);
}

#[test]
fn v3_our_files_read_identically_by_java_1_1_3() {
    our_files_read_identically_by_java("1.1.3", Version::V3);
}

#[test]
fn v4_java_2_4_0_written_files_read_identically() {
    java_written_files_read_identically("2.4.0", Version::V4);
}

#[test]
fn v4_our_files_read_identically_by_java_2_4_0() {
    our_files_read_identically_by_java("2.4.0", Version::V4);
}
