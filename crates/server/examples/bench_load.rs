//! Load benchmark driver (run by `scripts/bench-load`, not a test): many concurrent sessions
//! against a running server for a fixed time — tablet writers and readers of LAST,
//! aggregates and time ranges — then p50/p99/max latency per operation, throughput, errors
//! by status, and the server's peak resident memory (from `/proc/<pid>/status`).
//!
//! `bench_load --host H --port P [--pid PID] [--seconds 60] [--writers 48] [--readers 16]
//! [--databases 4] [--rows 1000] [--columns 10] [--budget-mb N]`

use client::{RemoteConfig, RemoteSession, Response, Session};
use model::{Column, ColumnData, InsertTablet, PartialPath, TSDataType};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Args {
    host: String,
    port: u16,
    pid: Option<u32>,
    seconds: u64,
    writers: usize,
    readers: usize,
    databases: usize,
    rows: usize,
    columns: usize,
    budget_mb: Option<u64>,
}

fn parse_args() -> Args {
    let mut a = Args {
        host: "127.0.0.1".into(),
        port: 6667,
        pid: None,
        seconds: 60,
        writers: 48,
        readers: 16,
        databases: 4,
        rows: 1000,
        columns: 10,
        budget_mb: None,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        let num = |s: &str| -> u64 {
            s.parse()
                .unwrap_or_else(|_| panic!("{}: not a number: {s}", argv[i]))
        };
        match argv[i].as_str() {
            "--host" => a.host = v,
            "--port" => a.port = num(&v) as u16,
            "--pid" => a.pid = Some(num(&v) as u32),
            "--seconds" => a.seconds = num(&v),
            "--writers" => a.writers = num(&v) as usize,
            "--readers" => a.readers = num(&v) as usize,
            "--databases" => a.databases = num(&v).max(1) as usize,
            "--rows" => a.rows = num(&v).max(1) as usize,
            "--columns" => a.columns = num(&v).max(1) as usize,
            "--budget-mb" => a.budget_mb = Some(num(&v)),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    a
}

/// Latencies and failures of one kind of operation.
#[derive(Default)]
struct OpStats {
    micros: Vec<u64>,
    errors: BTreeMap<String, u64>,
}

type Shared = Arc<Mutex<BTreeMap<&'static str, OpStats>>>;

fn record(
    local: &mut BTreeMap<&'static str, OpStats>,
    op: &'static str,
    start: Instant,
    r: client::Result<()>,
) {
    let st = local.entry(op).or_default();
    match r {
        Ok(()) => st.micros.push(start.elapsed().as_micros() as u64),
        Err(e) => {
            let key = match &e {
                client::Error::Status { code, .. } => format!("status {code}"),
                client::Error::Connection(m) => format!("connection: {m}"),
            };
            *st.errors.entry(key).or_default() += 1;
        }
    }
}

fn merge(shared: &Shared, local: BTreeMap<&'static str, OpStats>) {
    let mut all = shared.lock().unwrap();
    for (op, st) in local {
        let e = all.entry(op).or_default();
        e.micros.extend(st.micros);
        for (k, n) in st.errors {
            *e.errors.entry(k).or_default() += n;
        }
    }
}

fn device(args: &Args, w: usize) -> String {
    format!("root.load.sg{}.d{w}", w % args.databases)
}

fn session(args: &Args) -> RemoteSession {
    let mut cfg = RemoteConfig::new(&args.host, args.port);
    cfg.socket_timeout = Some(Duration::from_secs(120));
    RemoteSession::open(cfg).expect("cannot open a session")
}

fn drain(r: client::Result<Response>) -> client::Result<()> {
    match r? {
        Response::Done => Ok(()),
        Response::Rows(mut rs) => rs.collect_rows().map(|_| ()),
    }
}

fn writer(
    args: Arc<Args>,
    w: usize,
    stop: Arc<AtomicBool>,
    written: Arc<Vec<AtomicI64>>,
    points: Arc<AtomicU64>,
    shared: Shared,
) {
    let mut s = session(&args);
    let dev = PartialPath::parse(&device(&args, w)).unwrap();
    let measurements: Vec<String> = (0..args.columns).map(|c| format!("s{c}")).collect();
    let mut local = BTreeMap::new();
    let mut t0: i64 = 0;
    while !stop.load(Ordering::Relaxed) {
        let times: Vec<i64> = (0..args.rows as i64).map(|i| t0 + i).collect();
        let columns = (0..args.columns)
            .map(|c| {
                if c % 2 == 0 {
                    Column::new(ColumnData::Double(
                        times.iter().map(|&t| (t as f64) * 0.5 + c as f64).collect(),
                    ))
                } else {
                    Column::new(ColumnData::Int64(
                        times.iter().map(|&t| t * 3 + c as i64).collect(),
                    ))
                }
            })
            .collect();
        let types = (0..args.columns)
            .map(|c| {
                if c % 2 == 0 {
                    TSDataType::Double
                } else {
                    TSDataType::Int64
                }
            })
            .collect();
        let tablet = InsertTablet {
            device: dev.clone(),
            measurements: measurements.clone(),
            types,
            times,
            columns,
            aligned: false,
        };
        let start = Instant::now();
        let r = s.insert_tablets(vec![tablet]);
        let ok = r.is_ok();
        record(&mut local, "write tablet", start, r);
        if ok {
            t0 += args.rows as i64;
            written[w].store(t0, Ordering::Relaxed);
            points.fetch_add((args.rows * args.columns) as u64, Ordering::Relaxed);
        }
    }
    let _ = s.close();
    merge(&shared, local);
}

fn reader(
    args: Arc<Args>,
    r: usize,
    stop: Arc<AtomicBool>,
    written: Arc<Vec<AtomicI64>>,
    shared: Shared,
) {
    let mut s = session(&args);
    let mut local = BTreeMap::new();
    let mut n: usize = r;
    while !stop.load(Ordering::Relaxed) {
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407)
            >> 1;
        let w = n % args.writers.max(1);
        let dev = device(&args, w);
        let upto = written[w].load(Ordering::Relaxed);
        let start = Instant::now();
        match n / 7 % 3 {
            0 => {
                let r = s
                    .last_data_query(&[format!("{dev}.s0"), format!("{dev}.s1")], 0)
                    .and_then(|mut rs| rs.collect_rows().map(|_| ()));
                record(&mut local, "read last", start, r);
            }
            1 => {
                let sql = format!("select count(s0), avg(s0), max_value(s1) from {dev}");
                record(&mut local, "read aggregate", start, drain(s.execute(&sql)));
            }
            _ => {
                // the latest 1,000 rows written (up to 2 columns x 1,000 points)
                let from = (upto - 1000).max(0);
                let sql =
                    format!("select s0, s1 from {dev} where time >= {from} and time < {upto}");
                record(&mut local, "read time range", start, drain(s.execute(&sql)));
            }
        }
    }
    let _ = s.close();
    merge(&shared, local);
}

fn status_kb(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn main() {
    let args = Arc::new(parse_args());
    // the schema first, so the writers measure inserts and not series creation
    {
        let mut s = session(&args);
        for db in 0..args.databases {
            let _ = drain(s.execute(&format!("create database root.load.sg{db}")));
        }
        let _ = s.close();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let written: Arc<Vec<AtomicI64>> =
        Arc::new((0..args.writers).map(|_| AtomicI64::new(0)).collect());
    let points = Arc::new(AtomicU64::new(0));
    let shared: Shared = Arc::default();
    let mut threads = Vec::new();
    for w in 0..args.writers {
        let (a, st, wr, p, sh) = (
            args.clone(),
            stop.clone(),
            written.clone(),
            points.clone(),
            shared.clone(),
        );
        threads.push(std::thread::spawn(move || writer(a, w, st, wr, p, sh)));
    }
    for r in 0..args.readers {
        let (a, st, wr, sh) = (args.clone(), stop.clone(), written.clone(), shared.clone());
        threads.push(std::thread::spawn(move || reader(a, r, st, wr, sh)));
    }
    let start = Instant::now();
    let mut max_rss_kb = 0;
    let mut samples = Vec::new();
    while start.elapsed() < Duration::from_secs(args.seconds) {
        std::thread::sleep(Duration::from_millis(200));
        if let Some(pid) = args.pid {
            let rss = status_kb(pid, "VmRSS:").unwrap_or(0);
            max_rss_kb = max_rss_kb.max(rss);
            if samples.len() < start.elapsed().as_secs() as usize / 10 + 1 {
                samples.push(rss / 1024);
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let wall = start.elapsed();
    for t in threads {
        let _ = t.join();
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "bench-load: {} writers ({} rows x {} columns per tablet, {} databases), {} readers, {:.0} s (+{:.1} s to drain)",
        args.writers,
        args.rows,
        args.columns,
        args.databases,
        args.readers,
        wall.as_secs_f64(),
        elapsed - wall.as_secs_f64()
    );
    println!(
        "{:<16} {:>8} {:>10} {:>10} {:>10} {:>8}",
        "operation", "count", "p50 ms", "p99 ms", "max ms", "errors"
    );
    let all = shared.lock().unwrap();
    let mut total_errors = 0;
    for (op, st) in all.iter() {
        let mut m = st.micros.clone();
        m.sort_unstable();
        let errors: u64 = st.errors.values().sum();
        total_errors += errors;
        println!(
            "{op:<16} {:>8} {:>10.1} {:>10.1} {:>10.1} {:>8}",
            m.len(),
            pct(&m, 0.5),
            pct(&m, 0.99),
            pct(&m, 1.0),
            errors
        );
        for (k, n) in &st.errors {
            println!("    {n} x {k}");
        }
    }
    let p = points.load(Ordering::Relaxed);
    println!(
        "written: {p} points, {:.2} M points/s; errors: {total_errors}",
        p as f64 / elapsed / 1e6
    );
    if let Some(pid) = args.pid {
        let hwm = status_kb(pid, "VmHWM:").unwrap_or(max_rss_kb);
        println!(
            "server RSS: peak {} MB (VmHWM), sampled every 10 s: {:?} MB",
            hwm / 1024,
            samples
        );
        if let Some(b) = args.budget_mb {
            let within = hwm / 1024 <= b;
            println!(
                "memory budget {b} MB: {}",
                if within { "held" } else { "EXCEEDED" }
            );
        }
    }
}
