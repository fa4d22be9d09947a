//! A full disk (simulated ENOSPC in the file layer): writes are refused at once with
//! SYSTEM_READ_ONLY naming the cause, reads go on, memtables stay bounded, close completes,
//! and every acknowledged point survives, also after writes resume.

mod common;
use common::*;
use std::time::{Duration, Instant};
use storage::{fault, Engine, StorageConfig, TimeRange, WalMode};

const THRESHOLD: u64 = 16 * 1000;

fn cfg(dir: &std::path::Path) -> StorageConfig {
    StorageConfig {
        memtable_size_threshold: THRESHOLD,
        ..config(dir, WalMode::Sync)
    }
}

fn tablet(k: i64) -> model::InsertTablet {
    let times: Vec<i64> = (k * 500..(k + 1) * 500).collect();
    let vals = times.iter().map(|&t| t as f64).collect();
    doubles("root.sg.d", &["s"], times, vec![vals])
}

fn count(e: &Engine) -> usize {
    e.read_series(&p("root.sg.d.s"), TimeRange::ALL)
        .unwrap()
        .times
        .len()
}

fn assert_refused(err: &model::Error) {
    assert_eq!(err.status_code().code(), 600, "{err}");
    assert!(err.to_string().contains("No space left on device"), "{err}");
}

#[test]
fn failed_flush_refuses_writes_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(cfg(dir.path())).unwrap();
    e.insert_tablet(&tablet(0)).unwrap();
    e.flush().unwrap();
    // TsFiles can no longer be written; the WAL still can
    fault::fail_writes_under(&dir.path().join("sequence"));
    fault::fail_writes_under(&dir.path().join("unsequence"));
    let mut acked = 1;
    let err = loop {
        match e.insert_tablet(&tablet(acked)) {
            Ok(()) => acked += 1,
            Err(err) => break err,
        }
        assert!(acked < 200, "writes never refused");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_refused(&err);
    // memtables did not pile up: a flush failed within a few memtables' worth
    assert!(
        (acked as u64) * 500 * 16 < 8 * THRESHOLD,
        "{acked} tablets accepted"
    );
    // refusals are immediate; reads go on and see every acknowledged point
    let t = Instant::now();
    for k in 0..20 {
        assert_refused(&e.insert_tablet(&tablet(1000 + k)).unwrap_err());
    }
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(count(&e), acked as usize * 500);
    // a clean shutdown completes (its flush fails, the WAL keeps the points)
    let t = Instant::now();
    assert!(e.close().is_err());
    assert!(t.elapsed() < Duration::from_secs(5));
    drop(e);
    fault::heal_writes_under(&dir.path().join("sequence"));
    fault::heal_writes_under(&dir.path().join("unsequence"));
    let e = Engine::open(cfg(dir.path())).unwrap();
    assert_eq!(count(&e), acked as usize * 500);
    e.insert_tablet(&tablet(acked)).unwrap();
    e.flush().unwrap();
    assert_eq!(count(&e), (acked as usize + 1) * 500);
}

#[test]
fn failed_wal_write_refuses_writes_then_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(cfg(dir.path())).unwrap();
    e.insert_tablet(&tablet(0)).unwrap();
    // an empty memtable: recovery has nothing to flush, so the WAL segment that saw the
    // failed write stays the one appended to
    e.flush().unwrap();
    fault::fail_writes_under(dir.path());
    let first = e.insert_tablet(&tablet(1)).unwrap_err();
    assert!(
        first.to_string().contains("No space left on device"),
        "{first}"
    );
    assert_refused(&e.insert_tablet(&tablet(1)).unwrap_err());
    assert_eq!(count(&e), 500);
    // still full when the back-off ends: refused again
    std::thread::sleep(Duration::from_millis(1100));
    assert_refused(&e.insert_tablet(&tablet(1)).unwrap_err());
    // space freed: after the back-off (2 s now) writes resume by themselves
    fault::heal_writes_under(dir.path());
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Err(err) = e.insert_tablet(&tablet(1)) {
        assert_refused(&err);
        assert!(Instant::now() < deadline, "writes never resumed");
        std::thread::sleep(Duration::from_millis(100));
    }
    e.insert_tablet(&tablet(2)).unwrap();
    assert_eq!(count(&e), 1500);
    // the record torn by the failed WAL write hides nothing written after it
    e.simulate_crash();
    let e = Engine::open(cfg(dir.path())).unwrap();
    assert_eq!(count(&e), 1500);
}
