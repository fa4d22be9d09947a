//! `export-tsfile` and `load-tsfile` through the real binary: every type with nulls, aligned
//! and not, a quoted node, exported from a server (by path and time range, by a query aligned
//! by device, V4 and V3), loaded into fresh servers and embedded data directories and compared
//! value by value with the source; refusals (computed columns, aggregates, files that are no
//! TsFile); and the exported file read by the official PyPI `tsfile` package.

mod common;
use common::*;

use std::fmt::Write as _;
use std::path::Path;

const ROWS: usize = 2500;

/// The series of the test database: (name, type, encoding, compressor). Encodings are ones
/// the PyPI `tsfile` reader decodes, so that one data set serves every test.
const SERIES: [(&str, &str, &str, &str); 10] = [
    ("b", "BOOLEAN", "PLAIN", "SNAPPY"),
    ("i", "INT32", "TS_2DIFF", "LZ4"),
    ("l", "INT64", "GORILLA", "GZIP"),
    ("f", "FLOAT", "GORILLA", "SNAPPY"),
    ("d", "DOUBLE", "PLAIN", "ZSTD"),
    ("t", "TEXT", "DICTIONARY", "SNAPPY"),
    ("s", "STRING", "PLAIN", "UNCOMPRESSED"),
    ("x", "BLOB", "PLAIN", "LZ4"),
    ("dt", "DATE", "RLE", "SNAPPY"),
    ("ts", "TIMESTAMP", "TS_2DIFF", "SNAPPY"),
];

/// Value `k` of row `i` as (SQL literal, the PyPI reader's exchange string), `None` = null.
fn value(k: usize, i: usize) -> Option<(String, String)> {
    // null when i + k is a multiple of 7: at most two nulls per row, never a row of nulls
    if (i + k).is_multiple_of(7) {
        return None;
    }
    let bits = |x: f64| x.to_bits().to_string();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    Some(match k {
        0 => {
            let v = (i * 7919).is_multiple_of(3);
            (v.to_string(), v.to_string())
        }
        1 => {
            let v = (i as i32) * 3 - 1000;
            (v.to_string(), v.to_string())
        }
        2 => {
            let v = (i as i64) * 1_000_000_007 - 5;
            (v.to_string(), v.to_string())
        }
        3 => {
            let v = i as f32 * 0.37 - 11.0;
            (format!("{v:?}"), bits(v as f64))
        }
        4 => {
            let v = (i as f64).sqrt() * -1.5;
            (format!("{v:?}"), bits(v))
        }
        5 => {
            let v = format!("t{i},'q\"");
            (format!("'{}'", v.replace('\'', "''")), hex(v.as_bytes()))
        }
        6 => {
            let v = format!("s{}", i % 17);
            (format!("'{v}'"), hex(v.as_bytes()))
        }
        7 => {
            let v = [0xab, (i % 255) as u8 + 1, (i / 255 % 255) as u8 + 1];
            (format!("X'{}'", hex(&v)), hex(&v))
        }
        8 => {
            let (m, d) = (1 + i % 12, 1 + i % 28);
            (format!("'2024-{m:02}-{d:02}'"), format!("2024{m:02}{d:02}"))
        }
        _ => {
            let v = 1_700_000_000_000i64 + i as i64 * 37;
            (v.to_string(), v.to_string())
        }
    })
}

fn time(i: usize) -> i64 {
    1000 + 7 * i as i64
}

/// The devices written: (path, aligned).
const DEVICES: [(&str, bool); 2] = [("root.tt.d1", false), ("root.tt.a1", true)];

/// Creates the schema and writes the rows (flushing half way) on `target`.
fn fill(target: &[String]) {
    let mut sql = String::new();
    for (dev, aligned) in DEVICES {
        if aligned {
            let cols: Vec<String> = SERIES
                .iter()
                .map(|(n, t, e, c)| format!("{n} {t} encoding={e} compressor={c}"))
                .collect();
            writeln!(sql, "create aligned timeseries {dev}({});", cols.join(", ")).unwrap();
        } else {
            for (n, t, e, c) in SERIES {
                writeln!(
                    sql,
                    "create timeseries {dev}.{n} with datatype={t}, encoding={e}, compressor={c};"
                )
                .unwrap();
            }
        }
    }
    writeln!(
        sql,
        "create timeseries root.tt.`x.y`.v with datatype=INT32, encoding=RLE;"
    )
    .unwrap();
    for i in 0..ROWS {
        for (dev, aligned) in DEVICES {
            let (names, values): (Vec<&str>, Vec<String>) = SERIES
                .iter()
                .enumerate()
                .filter_map(|(k, (n, ..))| value(k, i).map(|(lit, _)| (*n, lit)))
                .unzip();
            let al = if aligned { " aligned" } else { "" };
            writeln!(
                sql,
                "insert into {dev}(time, {}){al} values({}, {});",
                names.join(", "),
                time(i),
                values.join(", ")
            )
            .unwrap();
        }
        if i.is_multiple_of(100) {
            writeln!(
                sql,
                "insert into root.tt.`x.y`(time, v) values({}, {i});",
                time(i)
            )
            .unwrap();
        }
        if i == ROWS / 2 {
            sql.push_str("flush;\n");
        }
    }
    let o = run(&cli(target, &[]), &sql);
    assert_eq!(o.code, 0, "{}", o.stderr);
}

/// Everything a client can see of `root.tt`: every value of every series (times as epoch
/// ms), the series with their types, encodings and compressors, and which devices are
/// aligned. Columns are selected by name and SHOW lines sorted: the order of `select *`
/// follows the order in which series were created, which a load need not keep.
fn snapshot(target: &[String]) -> String {
    let names: Vec<&str> = SERIES.iter().map(|s| s.0).collect();
    let cols = names.join(", ");
    let mut queries = Vec::new();
    for (dev, _) in DEVICES {
        queries.push(format!("select {cols} from {dev}"));
        queries.push(format!("select {cols} from {dev} align by device"));
        queries.push(format!(
            "select count({}) from {dev}",
            names.join("), count(")
        ));
    }
    queries.push("select v from root.tt.`x.y`".into());
    let mut all = String::new();
    for q in queries {
        let o = run(&cli(target, &["-disableISO8601", "-e", &q]), "");
        assert_eq!(o.code, 0, "{q}: {}", o.stderr);
        writeln!(all, "-- {q}\n{}", o.stdout).unwrap();
    }
    for q in ["show timeseries root.tt.**", "show devices root.tt.**"] {
        let o = run(&cli(target, &["-e", q]), "");
        assert_eq!(o.code, 0, "{q}: {}", o.stderr);
        let mut lines: Vec<&str> = o.stdout.lines().collect();
        lines.sort();
        writeln!(all, "-- {q}\n{}", lines.join("\n")).unwrap();
    }
    all
}

/// Asserts two snapshots are equal, showing the first line that differs.
fn same(got: &str, want: &str, what: &str) {
    if got == want {
        return;
    }
    let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
    let i = (0..g.len().max(w.len()))
        .find(|&i| g.get(i) != w.get(i))
        .unwrap_or(0);
    let heading = w[..i.min(w.len())]
        .iter()
        .rev()
        .find(|l| l.starts_with("-- "))
        .unwrap_or(&"");
    panic!(
        "{what}: line {i} differs ({heading}; {} lines against {}):\n got: {:?}\nwant: {:?}",
        g.len(),
        w.len(),
        g.get(i),
        w.get(i)
    );
}

/// Runs a tool, asserting success; returns its standard error.
fn tool(a: Vec<String>) -> String {
    let o = run(&a, "");
    assert_eq!(o.code, 0, "{a:?}: {}", o.stderr);
    o.stderr
}

fn export(source: &[String], dir: &Path, more: &[&str]) -> String {
    let mut a = vec!["export-tsfile".to_string()];
    a.extend(source.iter().cloned());
    a.extend(["-td".into(), dir.display().to_string()]);
    tool(args(&a, more))
}

fn load(target: &[String], source: &Path, more: &[&str]) -> String {
    let mut a = vec!["load-tsfile".to_string()];
    a.extend(target.iter().cloned());
    a.extend(["-s".into(), source.display().to_string()]);
    tool(args(&a, more))
}

#[test]
fn export_load_round_trips() {
    let source = Server::start();
    fill(&source.args());
    let expected = snapshot(&source.args());
    assert!(expected.contains(&format!("{}", time(ROWS - 1))));
    assert!(expected.contains("root.tt.`x.y`.v"));
    let work = tempfile::tempdir().unwrap();

    // by path, V4, several chunk groups per device (a small buffer), into a fresh server
    // through tablets
    let by_path = work.path().join("by_path");
    let msg = export(
        &source.args(),
        &by_path,
        &["--path", "root.tt.**", "--max-buffered-points", "7000"],
    );
    assert!(msg.contains("Export completely"), "{msg}");
    let file = by_path.join("dump0.tsfile");
    assert!(file.exists() && !by_path.join("dump0.tsfile.tmp").exists());
    let remote = Server::start();
    let msg = load(&remote.args(), &file, &[]);
    assert!(msg.contains("Load completely: 1 file(s)"), "{msg}");
    same(&snapshot(&remote.args()), &expected, "remote load");

    // aligned by device, V3, into a data directory (SQL LOAD in process), from a directory
    let by_device = work.path().join("by_device");
    export(
        &source.args(),
        &by_device,
        &[
            "-q",
            "select * from root.tt.** align by device",
            "--tsfile-version",
            "v3",
            "-f",
            "dev",
        ],
    );
    let data = work.path().join("embedded");
    load(&embedded(&data), &by_device, &[]);
    assert!(
        by_device.join("dev0.tsfile").exists(),
        "a loaded file is left by default"
    );
    same(&snapshot(&embedded(&data)), &expected, "embedded load");

    // a time range of some series; --server-side LOAD; the loaded file moved away
    let range = work.path().join("range");
    export(
        &source.args(),
        &range,
        &[
            "--path",
            "root.tt.*.i",
            "--start-time",
            &time(10).to_string(),
            "--end-time",
            &time(20).to_string(),
        ],
    );
    let third = Server::start();
    let done = work.path().join("done");
    let msg = load(
        &third.args(),
        &range,
        &[
            "--server-side",
            "-os",
            "mv",
            "-sd",
            &done.display().to_string(),
        ],
    );
    assert!(
        done.join("dump0.tsfile").exists() && !range.join("dump0.tsfile").exists(),
        "{msg}"
    );
    let o = run(
        &cli(
            &third.args(),
            &[
                "-e",
                "select count(i) from root.tt.d1; select count(i) from root.tt.a1",
            ],
        ),
        "",
    );
    let n = (10..20).filter(|i| value(1, *i).is_some()).count();
    assert_eq!(
        o.stdout,
        format!("count(root.tt.d1.i)\n{n}\ncount(root.tt.a1.i)\n{n}\n")
    );
}

#[test]
fn refusals_are_clear() {
    let server = Server::start();
    let o = run(
        &cli(
            &server.args(),
            &["-e", "insert into root.r.d(time, s) values(1, 2)"],
        ),
        "",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let work = tempfile::tempdir().unwrap();
    for (q, why) in [
        ("select count(s) from root.r.d", "no time column"),
        ("select s + 1 from root.r.d", "is not a time series"),
        ("select s as x from root.r.d", "is not a time series"),
    ] {
        let mut a = vec!["export-tsfile".to_string()];
        a.extend(server.args());
        let o = run(
            &args(&a, &["-td", &work.path().display().to_string(), "-q", q]),
            "",
        );
        assert_eq!(o.code, 1, "{q}");
        assert!(o.stderr.contains(why), "{q}: {}", o.stderr);
        assert!(
            std::fs::read_dir(work.path()).unwrap().next().is_none(),
            "a refused export leaves no file"
        );
    }
    // a file that is no TsFile: reported, moved to the fail directory, exit code 1
    let bad = work.path().join("in");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("junk.tsfile"), b"not a tsfile at all").unwrap();
    let failed = work.path().join("failed");
    let mut a = vec!["load-tsfile".to_string()];
    a.extend(server.args());
    let o = run(
        &args(
            &a,
            &[
                "-s",
                &bad.display().to_string(),
                "-of",
                "mv",
                "-fd",
                &failed.display().to_string(),
            ],
        ),
        "",
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("junk.tsfile"), "{}", o.stderr);
    assert!(o.stderr.contains("1 file(s) failed"), "{}", o.stderr);
    assert!(failed.join("junk.tsfile").exists());
    // nothing there at all
    let o = run(&args(&a, &["-s", &bad.display().to_string()]), "");
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("no TsFile found"), "{}", o.stderr);
}

/// The Python that has the PyPI `tsfile` package (`$TSFILE_PYTHON`), or `None` (the test
/// says it skips, or fails when `TSFILE_INTEROP_REQUIRED=1`).
fn tsfile_python() -> Option<String> {
    let py = std::env::var("TSFILE_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = std::process::Command::new(&py)
        .args(["-c", "import tsfile"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(py);
    }
    assert!(
        std::env::var_os("TSFILE_INTEROP_REQUIRED").is_none(),
        "{py} cannot import tsfile"
    );
    eprintln!(
        "SKIP: no Python with PyPI tsfile (set TSFILE_PYTHON; tests/tsfile_interop/run.sh does)"
    );
    None
}

#[test]
fn exported_tsfile_reads_in_pypi_tsfile() {
    let Some(py) = tsfile_python() else { return };
    let server = Server::start();
    fill(&server.args());
    let work = tempfile::tempdir().unwrap();
    export(&server.args(), work.path(), &["--path", "root.tt.**"]);
    let file = work.path().join("dump0.tsfile");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/tsfile_interop/pypi_interop.py");
    let out = std::process::Command::new(py)
        .arg(script)
        .arg("read")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &json["files"][file.to_str().unwrap()];
    assert!(f.get("error").is_none(), "PyPI tsfile failed: {f}");
    let devices = &f["devices"];
    for (dev, _) in DEVICES {
        let d = &devices[dev];
        let names: Vec<&str> = d["names"]
            .as_array()
            .unwrap_or_else(|| panic!("{dev} missing: {devices}"))
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        let rows = d["rows"].as_array().unwrap();
        assert_eq!(rows.len(), ROWS, "{dev}");
        for (i, row) in rows.iter().enumerate() {
            let row = row.as_array().unwrap();
            assert_eq!(row[0].as_i64(), Some(time(i)), "{dev} row {i}");
            for (j, name) in names.iter().enumerate() {
                let k = SERIES.iter().position(|s| s.0 == *name).unwrap();
                let want = value(k, i).map(|(_, canon)| canon);
                assert_eq!(
                    row[j + 1].as_str().map(str::to_string),
                    want,
                    "{dev}.{name} at row {i}"
                );
            }
        }
    }
    assert!(
        devices["root.tt.`x.y`"].is_object() || devices["root.tt.x.y"].is_object(),
        "{:?}",
        devices.as_object().map(|o| o.keys().collect::<Vec<_>>())
    );
}

/// TsFiles flushed by real Apache IoTDB servers (1.0.1: V3 with `.mods`; 2.0.1-beta: V4 with
/// `.mods2`), loaded over the session as tablets and by SQL `LOAD` on the server: the same
/// series (types, encodings, compressors) and the same points, deletions applied.
#[test]
fn reference_tsfiles_load_over_the_session_as_by_sql_load() {
    let fixtures =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/tsfile_interop/reference_iotdb");
    let work = tempfile::tempdir().unwrap();
    let (by_session, by_load) = (Server::start(), Server::start());
    for set in ["v1.0.1", "v2.0.1-beta"] {
        // copies: the files stay where they are by default, but a test must not risk its fixtures
        let src = work.path().join(set);
        std::fs::create_dir_all(&src).unwrap();
        for e in std::fs::read_dir(fixtures.join(set)).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, src.join(p.file_name().unwrap())).unwrap();
        }
        let msg = load(&by_session.args(), &src, &[]);
        assert!(
            msg.contains("0 failed") && msg.contains(" points in "),
            "{msg}"
        );
        load(&by_load.args(), &src, &["--server-side"]);
    }
    // SQL LOAD flushes what it inserted: lossy encodings (FREQ) quantise the points again
    // then, so both servers are compared after a flush
    let view = |target: &[String]| {
        assert_eq!(run(&cli(target, &["-e", "flush"]), "").code, 0);
        let mut all = String::new();
        for q in [
            "select count(*) from root.**",
            "select * from root.**",
            "show timeseries root.**",
        ] {
            let o = run(&cli(target, &["-disableISO8601", "-e", q]), "");
            assert_eq!(o.code, 0, "{q}: {}", o.stderr);
            let mut lines: Vec<String> = o.stdout.lines().map(str::to_string).collect();
            if q.starts_with("show") {
                lines.sort();
            } else if q.starts_with("select *") {
                // FREQ is lossy and quantises by page: its points depend on how the flush cut
                // them, so FREQ series are compared by count only
                let header: Vec<String> = lines[0].split(',').map(str::to_string).collect();
                let keep = |i: usize| !header[i].contains(".freq");
                for l in &mut lines {
                    let kept: Vec<&str> = l
                        .split(',')
                        .enumerate()
                        .filter(|(i, _)| keep(*i))
                        .map(|(_, v)| v)
                        .collect();
                    *l = kept.join(",");
                }
            }
            writeln!(all, "-- {q}\n{}", lines.join("\n")).unwrap();
        }
        all
    };
    let want = view(&by_load.args());
    let series = want.lines().filter(|l| l.starts_with("root.tsf.")).count();
    assert!(series >= 400, "{series} series loaded");
    same(&view(&by_session.args()), &want, "load over the session");
}
