//! The SQL shell and the CSV tools, driven through the real binary: `-e` and piped
//! statements (exit codes, output formats), an interactive session in a pseudo-terminal,
//! and CSV export → import round trips; against a started server and an embedded data
//! directory.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::*;

/// `-e`, piped statements, output formats and exit codes on one target.
fn statements_on(target: &[String]) {
    let setup = "create timeseries root.t.d.s with datatype=INT32; \
                 insert into root.t.d(time,s,txt) values(1,10,'a,\"b'); \
                 insert into root.t.d(time,s) values(2,20)";
    let o = run(&cli(target, &["--time-zone", "+08:00", "-e", setup]), "");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        o.stdout, "",
        "csv output prints nothing for statements without rows"
    );

    // a pipe as output: CSV by default, ISO-8601 times in the session zone
    let q = "select s, txt from root.t.d";
    let o = run(&cli(target, &["--time-zone", "+08:00", "-e", q]), "");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        o.stdout,
        "Time,root.t.d.s,root.t.d.txt\n\
         1970-01-01T08:00:00.001+08:00,10,\"a,\"\"b\"\n\
         1970-01-01T08:00:00.002+08:00,20,\n"
    );
    // the boxed table on request, with the row count and elapsed time lines
    let o = run(
        &cli(target, &["--format", "table", "-disableISO8601", "-e", q]),
        "",
    );
    assert_eq!(o.code, 0);
    assert!(
        o.stdout.starts_with(
            "+----+----------+------------+\n\
             |Time|root.t.d.s|root.t.d.txt|\n\
             +----+----------+------------+\n\
             |   1|        10|        a,\"b|\n\
             |   2|        20|        null|\n\
             +----+----------+------------+\n\
             Total line number = 2\n\
             It costs "
        ),
        "{}",
        o.stdout
    );
    assert!(o.stdout.trim_end().ends_with('s'));
    for (format, expected) in [
        (
            "json",
            "{\"Time\":1,\"root.t.d.s\":10,\"root.t.d.txt\":\"a,\\\"b\"}\n{\"Time\":2,\"root.t.d.s\":20,\"root.t.d.txt\":null}\n",
        ),
        ("tsv", "Time\troot.t.d.s\troot.t.d.txt\n1\t10\ta,\"b\n2\t20\t\n"),
    ] {
        let o = run(&cli(target, &["--format", format, "-disableISO8601", "-e", q]), "");
        assert_eq!(o.stdout, expected, "{format}");
    }

    // statements piped on stdin run in order; the first failure stops with exit code 1,
    // its status code and message on stderr
    let piped = "insert into root.t.d(time,s) values(3,30);\n\
                 select count(s)\n  from root.t.d;\n\
                 select nonsense from;\n\
                 insert into root.t.d(time,s) values(4,40);\n";
    let o = run(&cli(target, &[]), piped);
    assert_eq!(o.code, 1);
    assert_eq!(o.stdout, "count(root.t.d.s)\n3\n");
    assert!(o.stderr.starts_with("Msg: 700: "), "{}", o.stderr);
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    let o = run(&cli(target, &["-e", "select count(s) from root.t.d"]), "");
    assert_eq!(
        o.stdout, "count(root.t.d.s)\n3\n",
        "the statement after the failure did not run"
    );
    // a server-side error with its status code (508: path does not exist)
    let o = run(&cli(target, &["-e", "delete timeseries root.nope.x"]), "");
    assert_eq!(o.code, 1);
    assert!(o.stderr.starts_with("Msg: 508: "), "{}", o.stderr);
    // shell commands work without ';' and in -e
    let o = run(
        &cli(target, &["-e", "set time_zone=+05:00; show time_zone"]),
        "",
    );
    assert_eq!(
        o.stdout,
        "Time zone has set to +05:00\nCurrent time zone: +05:00\n"
    );
    let o = run(&cli(target, &["-e", "set time_zone=Mars/Base"]), "");
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("Unknown time zone"), "{}", o.stderr);
}

#[test]
fn statements_remote() {
    let server = Server::start();
    statements_on(&server.args());
}

#[test]
fn statements_embedded() {
    let dir = tempfile::tempdir().unwrap();
    statements_on(&embedded(&dir.path().join("data")));
}

#[test]
fn connection_problems_are_one_line() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = run(
        &cli(&["-p".into(), port.to_string()], &["-e", "show databases"]),
        "",
    );
    assert_eq!(o.code, 1);
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    assert!(o.stderr.contains("Connection refused"), "{}", o.stderr);

    let server = Server::start();
    let o = run(
        &cli(
            &server.args(),
            &["-u", "root", "-pw", "wrong", "-e", "show databases"],
        ),
        "",
    );
    assert_eq!(o.code, 1);
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    assert!(o.stderr.contains("801"), "{}", o.stderr);
}

/// An interactive session in a pseudo-terminal: a multi-line statement, the table and
/// elapsed-time lines, history recall (also from the history file of an earlier session),
/// Ctrl-C on a typed line and during a long query, `quit`.
/// Types `text` then Enter (a burst of text ending in a carriage return is taken as a paste
/// by the line editor, which then waits for more input).
fn type_line(p: &mut expectrl::Session, text: &str) {
    p.send(text).unwrap();
    std::thread::sleep(Duration::from_millis(150));
    p.send("\r").unwrap();
}

fn interactive_on(target: &[String], long_query: &str) {
    let home = tempfile::tempdir().unwrap();
    let history = home.path().join("history");
    let spawn = || {
        let mut cmd = Command::new(BIN);
        cmd.args(cli(target, &["--time-zone", "+08:00"]))
            .env("HOME", home.path())
            .env("IOTDB_RS_HISTORY", &history)
            .env("TERM", "xterm");
        let mut p = expectrl::Session::spawn(cmd).unwrap();
        p.set_expect_timeout(Some(Duration::from_secs(60)));
        p
    };
    let mut p = spawn();
    p.expect("IoTDB> ").unwrap();
    type_line(&mut p, "insert into root.p.d(time,s) values(1,7);");
    p.expect("Msg: The statement is executed successfully.")
        .unwrap();
    p.expect("IoTDB> ").unwrap();
    // a statement over two lines: Enter before the ';' continues it
    type_line(&mut p, "select s");
    type_line(&mut p, "from root.p.d;");
    p.expect("|                         Time|root.p.d.s|")
        .unwrap();
    p.expect("|1970-01-01T08:00:00.001+08:00|       7.0|")
        .unwrap();
    p.expect("Total line number = 1").unwrap();
    p.expect(expectrl::Regex(r"It costs \d+\.\d{3}s")).unwrap();
    p.expect("IoTDB> ").unwrap();
    // Tab completes keywords and path nodes (the children of root.p from the schema)
    p.send("sho\t").unwrap();
    std::thread::sleep(Duration::from_millis(150));
    p.send(" timeseries root.p.\t").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    type_line(&mut p, ".s;");
    p.expect("|root.p.d.s|").unwrap();
    p.expect("Total line number = 1").unwrap();
    p.expect("IoTDB> ").unwrap();
    // Ctrl-C drops the line being typed
    p.send("select this is not sql").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    p.send("\x03").unwrap();
    p.expect("IoTDB> ").unwrap();
    type_line(&mut p, "show time_zone");
    p.expect("Current time zone: +08:00").unwrap();
    p.expect("IoTDB> ").unwrap();
    // long results are shown a page at a time
    type_line(&mut p, "insert into root.p.d(time,s) values(2,8);");
    p.expect("IoTDB> ").unwrap();
    type_line(&mut p, "set max_display_num=1");
    p.expect("IoTDB> ").unwrap();
    type_line(&mut p, "select s from root.p.d;");
    p.expect("This display 1 rows. Press ENTER to show more, input 'q' to quit.")
        .unwrap();
    p.send("\r").unwrap();
    p.expect("|1970-01-01T08:00:00.002+08:00|       8.0|")
        .unwrap();
    p.expect("Total line number = 2").unwrap();
    p.expect("IoTDB> ").unwrap();
    // Ctrl-C during a long query stops it, and the session keeps working
    type_line(&mut p, "set max_display_num=100000000");
    p.expect("IoTDB> ").unwrap();
    type_line(&mut p, long_query);
    std::thread::sleep(Duration::from_millis(1500));
    let interrupted = Instant::now();
    p.send("\x03").unwrap();
    p.expect("Msg: 715: the statement was interrupted by the client")
        .unwrap();
    p.expect("IoTDB> ").unwrap();
    let took = interrupted.elapsed();
    eprintln!("stopped {took:?} after Ctrl-C");
    assert!(
        took < Duration::from_secs(3),
        "stopped {took:?} after Ctrl-C"
    );
    // and it is gone where it ran (a server notices the closed connection)
    type_line(&mut p, "show queries;");
    p.expect("Empty set.").unwrap();
    p.expect("IoTDB> ").unwrap();
    type_line(&mut p, "select count(s) from root.p.d;");
    p.expect("Total line number = 1").unwrap();
    p.expect("IoTDB> ").unwrap();
    type_line(&mut p, "quit");
    let status = p.get_process().wait().unwrap();
    assert!(format!("{status:?}").ends_with(", 0)"), "{status:?}");
    drop(p);
    let saved = std::fs::read_to_string(&history).unwrap();
    assert!(saved.contains("from root.p.d;"), "{saved}");

    // a new session recalls the multi-line statement from the history file (Up, Up …)
    let mut p = spawn();
    p.expect("IoTDB> ").unwrap();
    // newest first: quit, count, show queries, the long query, set, select, set, insert,
    // show time_zone, show timeseries, the two-line select
    for _ in 0..11 {
        p.send("\x1b[A").unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    p.send("\r").unwrap();
    p.expect("|1970-01-01T08:00:00.001+08:00|       7.0|")
        .unwrap();
    p.expect("IoTDB> ").unwrap();
    // Ctrl-D leaves
    p.send("\x04").unwrap();
    let status = p.get_process().wait().unwrap();
    assert!(format!("{status:?}").ends_with(", 0)"), "{status:?}");
}

#[test]
fn interactive_remote() {
    let server = Server::start();
    // HAVING drops every one of ten billion windows, so they are all computed for the first
    // result batch: Ctrl-C shuts the connection down, the server sees the client hang up
    // and kills the query, whose GROUP BY checks it per window
    interactive_on(
        &server.args(),
        "select count(s) from root.p.d group by ([0, 10000000000), 1ms) having count(s) > 1;",
    );
}

#[test]
fn interactive_embedded() {
    let dir = tempfile::tempdir().unwrap();
    // HAVING drops every one of ten billion windows, so they are all computed inside one
    // result batch: Ctrl-C kills the query, whose GROUP BY checks it per window
    interactive_on(
        &embedded(&dir.path().join("data")),
        "select count(s) from root.p.d group by ([0, 10000000000), 1ms) having count(s) > 1;",
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every type, nulls, TEXT with commas, quotes and a newline, declared types, an untyped
/// column (inferred FLOAT as IoTDB infers), epoch and ISO times; RFC 4180 quoting (imported
/// with `--csv-dialect rfc4180`).
const ALL_TYPES: &str = "\
Time,root.rt.d1.b(BOOLEAN),root.rt.d1.i(INT32),root.rt.d1.l(INT64),root.rt.d1.f(FLOAT),root.rt.d1.d(DOUBLE),root.rt.d1.t(TEXT),root.rt.d1.s(STRING),root.rt.d1.x(BLOB),root.rt.d1.dt(DATE),root.rt.d1.ts(TIMESTAMP),root.rt.d2.v
1,true,-5,9000000000,1.5,0.1,\"a,b \"\"q\"\"\",str,0x0aff,2024-02-29,1700000000000,2.5
1970-01-01T00:00:00.002+00:00,,7,,,,\"line1
line2\",,,,,
3,false,,,,1e300,\"\"\"quoted\"\"\",,,,,
";

/// The expected export of ALL_TYPES (`-dt true -tf long`, columns in the engine's order), in
/// the dialect of IoTDB's export tool: TEXT in an extra pair of quotes, commas and line breaks
/// escaped with a backslash, CRLF.
fn expected_export(header: &str) -> String {
    format!(
        "{header}\r\n\
         1,2024-02-29,true,\"str\",0.1,\"a\\,b \"q\"\",1.5,0x0aff,-5,9000000000,1700000000000,2.5\r\n\
         2,,,,,\"line1\\nline2\",,,7,,,\r\n\
         3,,false,,1.0E300,\"quoted\",,,,,,\r\n"
    )
}

fn csv_round_trip_on(source: &[String], target: &[String], work: &Path) {
    let input = work.join("in.csv");
    std::fs::write(&input, ALL_TYPES).unwrap();
    let tool = |name: &str, conn: &[String], more: &[&str]| {
        let mut v = vec![name.to_string()];
        v.extend(conn.iter().cloned());
        args(&v, more)
    };
    let imp = |conn: &[String], file: &Path, dialect: &str| {
        let o = run(
            &tool(
                "import-csv",
                conn,
                &[
                    "-f",
                    &file.display().to_string(),
                    "--time-zone",
                    "UTC",
                    "-batch",
                    "2",
                    "--csv-dialect",
                    dialect,
                ],
            ),
            "",
        );
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert!(o.stderr.contains("Import completely: "), "{}", o.stderr);
    };
    let exp = |conn: &[String], dir: &Path, more: &[&str]| {
        let d = dir.display().to_string();
        let mut a = vec!["-td", d.as_str(), "-q", "select * from root.rt.**"];
        a.extend_from_slice(more);
        let o = run(&tool("export-csv", conn, &a), "");
        assert_eq!(o.code, 0, "{}", o.stderr);
    };
    imp(source, &input, "rfc4180");
    let first = work.join("first");
    exp(source, &first, &["-dt", "true", "-tf", "long"]);
    let header = "Time,root.rt.d1.dt(DATE),root.rt.d1.b(BOOLEAN),root.rt.d1.s(STRING),root.rt.d1.d(DOUBLE),root.rt.d1.t(TEXT),root.rt.d1.f(FLOAT),root.rt.d1.x(BLOB),root.rt.d1.i(INT32),root.rt.d1.l(INT64),root.rt.d1.ts(TIMESTAMP),root.rt.d2.v(FLOAT)";
    assert_eq!(read(&first.join("dump0_0.csv")), expected_export(header));

    // our export → our import elsewhere → the same export, the same schema
    imp(target, &first, "iotdb");
    let second = work.join("second");
    exp(target, &second, &["-dt", "true", "-tf", "long"]);
    assert_eq!(
        read(&second.join("dump0_0.csv")),
        read(&first.join("dump0_0.csv"))
    );
    let schema =
        |conn: &[String]| run(&cli(conn, &["-e", "show timeseries root.rt.**"]), "").stdout;
    assert_eq!(schema(target), schema(source));

    // ISO times in a zone, no types, one row per file; aligned by device
    let iso = work.join("iso");
    exp(
        source,
        &iso,
        &["-tf", "default", "-tz", "+08:00", "-lpf", "1"],
    );
    let f1 = read(&iso.join("dump0_1.csv"));
    assert!(f1.starts_with("Time,root.rt.d1.dt,"), "{f1}");
    assert!(f1.contains("\n1970-01-01T08:00:00.002+08:00,"), "{f1}");
    assert!(iso.join("dump0_2.csv").exists() && !iso.join("dump0_3.csv").exists());
    let o = run(
        &tool(
            "export-csv",
            source,
            &[
                "-td",
                &work.join("dev").display().to_string(),
                "-dt",
                "-q",
                "select * from root.rt.** align by device",
                "-tf",
                "long",
            ],
        ),
        "",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let dev = read(&work.join("dev").join("dump0_0.csv"));
    assert!(dev.starts_with("Time,Device,"), "{dev}");
    assert!(dev.contains("\n1,root.rt.d2,"), "{dev}");
}

#[test]
fn csv_round_trip_embedded_and_remote() {
    let work = tempfile::tempdir().unwrap();
    let server = Server::start();
    // embedded → remote
    csv_round_trip_on(
        &embedded(&work.path().join("a")),
        &server.args(),
        work.path(),
    );
}

/// An import killed part-way leaves whole rows only, and running it again leaves every point
/// exactly once.
#[test]
fn csv_import_killed_then_rerun_keeps_every_point_once() {
    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("big.csv");
    let rows: i64 = 1_000_000;
    let mut text = String::from("Time,root.ir.d.a(INT64),root.ir.d.b(DOUBLE)\n");
    for t in 0..rows {
        text.push_str(&format!("{t},{t},{}\n", t as f64 * 0.5));
    }
    std::fs::write(&input, text).unwrap();
    let mut imp = vec!["import-csv".to_string()];
    imp.extend(server.args());
    let imp = args(
        &imp,
        &["-f", &input.display().to_string(), "-batch", "1000"],
    );
    let counts = || {
        let o = run(
            &cli(
                &server.args(),
                &["-e", "select count(a), count(b), sum(a) from root.ir.d"],
            ),
            "",
        );
        assert_eq!(o.code, 0, "{}", o.stderr);
        let line = o.stdout.lines().nth(1).unwrap_or("").to_string();
        let v: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        (v[0] as i64, v[1] as i64, v[2])
    };
    let mut child = Command::new(BIN)
        .args(&imp)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    child.kill().unwrap();
    child.wait().unwrap();
    let (a, b, _) = counts();
    assert!(a < rows, "the import ended before it was killed: {a} rows");
    assert_eq!(a, b, "whole rows only");
    let o = run(&imp, "");
    assert_eq!(o.code, 0, "{}", o.stderr);
    let (a, b, sum) = counts();
    assert_eq!((a, b), (rows, rows));
    assert_eq!(sum, (rows * (rows - 1) / 2) as f64, "each point once");
}

/// CSV files written by Apache IoTDB 2.0.1-beta's own export tool (`ExportData -ft csv -dt
/// true`, aligned by time and by device; made by `scripts/reference-csv-fixtures make`): every
/// type, nulls, an empty STRING, TEXT with commas, quotes and line breaks, an aligned and a
/// plain device. Each imports into our server with the declared types and exact values.
#[test]
fn csv_apache_iotdb_fixtures_import_exactly() {
    let server = Server::start();
    let conn = server.args();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/apache");
    let q = |sql: &str| {
        let o = run(&cli(&conn, &["-disableISO8601", "-e", sql]), "");
        assert_eq!(o.code, 0, "{sql}: {}", o.stderr);
        o.stdout
    };
    let types = [
        ("b", "BOOLEAN"),
        ("i", "INT32"),
        ("l", "INT64"),
        ("f", "FLOAT"),
        ("d", "DOUBLE"),
        ("t", "TEXT"),
        ("s", "STRING"),
        ("bl", "BLOB"),
        ("dt", "DATE"),
        ("ts", "TIMESTAMP"),
    ];
    let mut schema: Vec<String> = ["aligned", "plain"]
        .iter()
        .flat_map(|d| {
            types
                .iter()
                .map(move |(m, t)| format!("root.tools_fixture.{d}.{m},{t}"))
        })
        .collect();
    schema.sort();
    let rows = |device: &str| {
        [
            "1000,D,true,1,10,1.5,2.25,plain text,str,0x0102ff,2024-01-31,1700000000123",
            "2000,D,false,-2147483648,-9223372036854775808,-3.4E38,1.0E-300,\"a, b, and c\",\"x,y\",0x,1970-01-01,0",
            "3000,D,,2147483647,,,-0.0,\"she said \"\"hi\"\"\",,,,-1",
            "4000,D,true,,9223372036854775807,0.1,,\"two\nlines\",\"q\"\"uo,te\",0x00,9999-12-31,",
            "5000,D,,,,,,\"mix: \"\"a, b\"\"\nnext, line\",,,,",
            "6000,D,false,0,0,0.0,3.141592653589793,,,,2000-02-29,86400000",
        ]
        .iter()
        .map(|r| r.replacen('D', device, 1) + "\n")
        .collect::<String>()
    };
    for file in ["apache_by_time0_0.csv", "apache_by_device0_0.csv"] {
        run(
            &cli(&conn, &["-e", "delete database root.tools_fixture"]),
            "",
        );
        let mut a = vec!["import-csv".to_string()];
        a.extend(conn.iter().cloned());
        let o = run(
            &args(&a, &["-f", &data.join(file).display().to_string()]),
            "",
        );
        assert_eq!(o.code, 0, "{file}: {}", o.stderr);
        assert!(
            o.stderr.contains("0 bad row(s) skipped"),
            "{file}: {}",
            o.stderr
        );
        let mut got: Vec<String> = q("show timeseries root.tools_fixture.**")
            .lines()
            .skip(1)
            .map(|l| {
                let c: Vec<&str> = l.split(',').collect();
                format!("{},{}", c[0], c[3])
            })
            .collect();
        got.sort();
        assert_eq!(got, schema, "{file}: declared types");
        assert_eq!(
            q("select b, i, l, f, d, t, s, bl, dt, ts from root.tools_fixture.** align by device"),
            format!(
                "Time,Device,b,i,l,f,d,t,s,bl,dt,ts\n{}{}",
                rows("root.tools_fixture.aligned"),
                rows("root.tools_fixture.plain")
            ),
            "{file}: values"
        );
        // the empty STRING of the last row is a value, not a null
        assert_eq!(
            q("select count(s), count(t) from root.tools_fixture.plain"),
            "count(root.tools_fixture.plain.s),count(root.tools_fixture.plain.t)\n4,5\n",
            "{file}"
        );
    }
}

#[test]
fn csv_by_device_bad_rows_and_iotdb_fixture() {
    let work = tempfile::tempdir().unwrap();
    let db = embedded(&work.path().join("data"));
    let imp = |file: &Path, more: &[&str]| {
        let mut v = vec!["import-csv".to_string()];
        v.extend(db.iter().cloned());
        run(
            &args(&v, &[&["-f", &file.display().to_string()], more].concat()),
            "",
        )
    };
    let q = |sql: &str| run(&cli(&db, &["-disableISO8601", "-e", sql]), "").stdout;

    // hand-written in the format of IoTDB's export tool (`-dt true`, ISO times, TEXT wrapped
    // in quotes, `\,` for a comma; files its tool wrote are in tests/data/apache), aligned by
    // time and by device
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let o = imp(&data.join("iotdb_dump0_0.csv"), &[]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        q("select status, temperature, hardware from root.ln.wf01.wt01"),
        "Time,root.ln.wf01.wt01.status,root.ln.wf01.wt01.temperature,root.ln.wf01.wt01.hardware\n\
         1509465600000,true,25.96,v1\n\
         1509465660000,false,24.36,\"v2, with comma\"\n\
         1509465720000,,20.09,\n"
    );
    let o = imp(&data.join("iotdb_dump_by_device0_0.csv"), &[]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        q("select * from root.ln.wf02.** align by device"),
        "Time,Device,temperature,status,hardware\n\
         1509465600000,root.ln.wf02.wt02,,true,v1\n\
         1509465600000,root.ln.wf02.wt03,21.5,false,\n"
    );
    assert_eq!(
        q("show timeseries root.ln.wf02.wt03.*")
            .lines()
            .map(|l| l.split(',').nth(3).unwrap_or("").to_string())
            .collect::<Vec<_>>(),
        ["DataType", "FLOAT", "BOOLEAN"],
        "no series for a column without values on that device, as in IoTDB"
    );

    // bad rows: reported with their line number and skipped (exit code 2), or with
    // --fail-fast the import stops there after writing the rows before it (exit code 1)
    let bad = work.path().join("bad.csv");
    std::fs::write(
        &bad,
        "Time,root.b.d.i(INT32),root.b.d.t\n1,1,x\n2,notanumber,y\nnot-a-time,3,z\n4,4\n5,5,w\n",
    )
    .unwrap();
    let o = imp(&bad, &[]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("bad.csv: line 3: cannot read \"notanumber\" as INT32"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("line 4: cannot read time \"not-a-time\""),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("line 5: 2 fields where the header has 3"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("3 bad row(s) skipped"), "{}", o.stderr);
    assert_eq!(
        q("select i, t from root.b.d"),
        "Time,root.b.d.i,root.b.d.t\n1,1,x\n5,5,w\n"
    );
    // rerunning writes the same points again, no duplicates
    assert_eq!(imp(&bad, &[]).code, 2);
    assert_eq!(q("select count(i) from root.b.d"), "count(root.b.d.i)\n2\n");

    let o = imp(&bad, &["--fail-fast"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("line 3"), "{}", o.stderr);
    let o = run(&cli(&db, &["-e", "delete timeseries root.b.**"]), "");
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = imp(&bad, &["--fail-fast"]);
    assert_eq!(o.code, 1);
    assert_eq!(
        q("select i from root.b.d"),
        "Time,root.b.d.i\n1,1\n",
        "rows before the bad one are kept"
    );

    // a file that is not CSV of IoTDB's shape is one clear error
    let junk = work.path().join("junk.csv");
    std::fs::write(&junk, "a,b\n1,2\n").unwrap();
    let o = imp(&junk, &[]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("the first column must be Time"),
        "{}",
        o.stderr
    );
}

/// The rows of a Parquet file, read back with the parquet crate's record reader, one line
/// per row: `name=field` pairs (`Debug` of the field, so the type shows).
fn parquet_rows(path: &Path) -> Vec<String> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| {
            row.unwrap()
                .get_column_iter()
                .map(|(n, f)| format!("{n}={f:?}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Runs pyarrow and DuckDB over `file` when a venv of the Python suites has them
/// (`.venv-pyrs` or `.venv-py20` under IOTDB_RS_VENV_ROOT, by default the repository as in
/// scripts/setup-python); `None` when none has.
fn python_read_parquet(file: &Path) -> Option<String> {
    let root = std::env::var("IOTDB_RS_VENV_ROOT")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../..").to_string());
    let script = "import sys, pyarrow.parquet as pq, duckdb\n\
                  t = pq.read_table(sys.argv[1])\n\
                  print([str(f.type) for f in t.schema])\n\
                  print(t.to_pylist())\n\
                  print(duckdb.sql(f\"select typeof(COLUMNS(*)) from '{sys.argv[1]}' limit 1\").fetchall())\n\
                  print(duckdb.sql(f\"select * from '{sys.argv[1]}' order by 1\").fetchall())\n";
    for venv in [".venv-pyrs", ".venv-py20"] {
        let py = Path::new(&root).join(venv).join("bin/python");
        let Ok(o) = Command::new(&py).arg("-c").arg(script).arg(file).output() else {
            continue;
        };
        if o.status.success() {
            return Some(String::from_utf8(o.stdout).unwrap());
        }
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("ModuleNotFoundError"),
            "{}: {err}",
            py.display()
        );
    }
    None
}

#[test]
fn parquet_export_types_nulls_embedded_and_remote() {
    let work = tempfile::tempdir().unwrap();
    let server = Server::start();
    let input = work.path().join("in.csv");
    std::fs::write(&input, ALL_TYPES).unwrap();
    for (k, target) in [embedded(&work.path().join("db")), server.args()]
        .iter()
        .enumerate()
    {
        let mut imp = vec!["import-csv".to_string()];
        imp.extend(target.iter().cloned());
        let o = run(
            &args(
                &imp,
                &[
                    "-f",
                    &input.display().to_string(),
                    "-tz",
                    "UTC",
                    "--csv-dialect",
                    "rfc4180",
                ],
            ),
            "",
        );
        assert_eq!(o.code, 0, "{}", o.stderr);
        let export = |name: &str, more: &[&str]| {
            let file = work.path().join(format!("{name}{k}.parquet"));
            let mut v = vec!["export-parquet".to_string()];
            v.extend(target.iter().cloned());
            let f = file.display().to_string();
            // a small row group and fetch size: several batches and row groups
            let o = run(
                &args(
                    &v,
                    &[
                        &[
                            "-t",
                            f.as_str(),
                            "--row-group-size",
                            "2",
                            "--fetch-size",
                            "1",
                        ],
                        more,
                    ]
                    .concat(),
                ),
                "",
            );
            assert_eq!(o.code, 0, "{}", o.stderr);
            assert!(o.stderr.contains("Export completely: "), "{}", o.stderr);
            file
        };
        let all = export("all", &["--path", "root.rt.d1.*"]);
        let rows = parquet_rows(&all);
        assert_eq!(
            rows,
            [
                "Time=TimestampMillis(1) root.rt.d1.dt=Date(19782) root.rt.d1.b=Bool(true) \
                 root.rt.d1.s=Str(\"str\") root.rt.d1.d=Double(0.1) \
                 root.rt.d1.t=Str(\"a,b \\\"q\\\"\") root.rt.d1.f=Float(1.5) \
                 root.rt.d1.x=Bytes(ByteArray { data: Some(b\"\\n\\xff\") }) root.rt.d1.i=Int(-5) \
                 root.rt.d1.l=Long(9000000000) root.rt.d1.ts=TimestampMillis(1700000000000)",
                "Time=TimestampMillis(2) root.rt.d1.dt=Null root.rt.d1.b=Null root.rt.d1.s=Null \
                 root.rt.d1.d=Null root.rt.d1.t=Str(\"line1\\nline2\") root.rt.d1.f=Null \
                 root.rt.d1.x=Null root.rt.d1.i=Int(7) root.rt.d1.l=Null root.rt.d1.ts=Null",
                "Time=TimestampMillis(3) root.rt.d1.dt=Null root.rt.d1.b=Bool(false) \
                 root.rt.d1.s=Null root.rt.d1.d=Double(1e300) root.rt.d1.t=Str(\"quoted\") \
                 root.rt.d1.f=Null root.rt.d1.x=Null root.rt.d1.i=Null root.rt.d1.l=Null \
                 root.rt.d1.ts=Null",
            ]
        );
        // a time range, plain int64 times
        let range = export(
            "range",
            &[
                "--path",
                "root.rt.**",
                "--start-time",
                "2",
                "--end-time",
                "3",
                "--time-type",
                "int64",
            ],
        );
        let rows = parquet_rows(&range);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert!(rows[0].starts_with("Time=Long(2) "), "{rows:?}");
        assert!(rows[0].contains("root.rt.d2.v=Null"), "{rows:?}");
        // a query without times, uncompressed
        let agg = export(
            "agg",
            &[
                "-q",
                "select count(i), max_value(d) from root.rt.d1",
                "--compression",
                "none",
            ],
        );
        assert_eq!(
            parquet_rows(&agg),
            ["count(root.rt.d1.i)=Long(2) max_value(root.rt.d1.d)=Double(1e300)"]
        );
        if let Some(py) = python_read_parquet(&all) {
            let lines: Vec<&str> = py.lines().collect();
            assert_eq!(
                lines[0],
                "['timestamp[ms, tz=UTC]', 'date32[day]', 'bool', 'string', 'double', 'string', \
                 'float', 'binary', 'int32', 'int64', 'timestamp[ms, tz=UTC]']"
            );
            assert!(
                lines[1].contains("'root.rt.d1.dt': datetime.date(2024, 2, 29)"),
                "{py}"
            );
            assert!(lines[1].contains("'root.rt.d1.x': b'\\n\\xff'"), "{py}");
            assert!(lines[1].contains("'root.rt.d1.t': 'line1\\nline2'"), "{py}");
            assert!(lines[1].contains("'root.rt.d1.b': None"), "{py}");
            assert!(lines[2].contains("TIMESTAMP WITH TIME ZONE"), "{py}");
            assert!(
                lines[2].contains("'DATE'") && lines[2].contains("'BLOB'"),
                "{py}"
            );
            assert!(lines[3].contains("-5, 9000000000"), "{py}");
        } else {
            eprintln!("no venv with pyarrow and duckdb: Python read-back skipped");
        }
    }
    // a bad query: one clear line, exit code 1
    let mut v = vec!["export-parquet".to_string()];
    v.extend(server.args());
    let o = run(
        &args(
            &v,
            &[
                "-t",
                &work.path().join("x.parquet").display().to_string(),
                "-q",
                "selec",
            ],
        ),
        "",
    );
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.starts_with("export-parquet: query selec: "),
        "{}",
        o.stderr
    );
}
