//! `kill -9` crash test: a child process inserts in `Sync` mode and reports every
//! acknowledged insert; the parent kills it at a random moment and checks that every
//! acknowledged point is there after recovery.

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use storage::{Engine, TimeRange, WalMode};

const ROWS: i64 = 100;

/// Child side (runs only when the parent sets `STORAGE_CRASH_DIR`; a no-op otherwise).
#[test]
fn crash_child_process() {
    let Ok(dir) = std::env::var("STORAGE_CRASH_DIR") else {
        return;
    };
    let e = Engine::open(config(std::path::Path::new(&dir), WalMode::Sync)).unwrap();
    for i in 0i64.. {
        let times: Vec<i64> = (i * ROWS..(i + 1) * ROWS).collect();
        let vals: Vec<f64> = times.iter().map(|&t| t as f64).collect();
        e.insert_tablet(&doubles(
            "root.crash.d",
            &["a", "b"],
            times,
            vec![vals.clone(), vals],
        ))
        .unwrap();
        if i % 3 == 0 {
            e.insert_rows(&rows(vec![str_row("root.crash.r", i, &["x"], &["1.5"])]))
                .unwrap();
        }
        println!("acked {i}");
    }
}

#[test]
fn kill_9_loses_no_acknowledged_insert() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "crash_child_process",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("STORAGE_CRASH_DIR", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut last = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("acked ") {
            last = Some(n.parse::<i64>().unwrap());
            if last == Some(40) {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let last = last.expect("child acknowledged inserts");

    let e = open(dir.path());
    let d = e.read_series(&p("root.crash.d.b"), TimeRange::ALL).unwrap();
    let expect = (last + 1) * ROWS;
    assert!(
        d.times.len() as i64 >= expect,
        "lost acknowledged points: have {}, acknowledged {expect}",
        d.times.len()
    );
    assert!(d.times.windows(2).all(|w| w[1] == w[0] + 1));
    let r = e.read_series(&p("root.crash.r.x"), TimeRange::ALL).unwrap();
    assert!(r.times.len() as i64 > last / 3);
}
