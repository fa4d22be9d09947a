//! Failed writes of the schema log, a mods file, the compaction log and a new WAL segment's
//! header (simulated ENOSPC, torn half-way): each is an error, refuses further writes while
//! the schema in memory is ahead of its log, and loses no acknowledged point or series, also
//! across a restart.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use storage::{fault, Engine, StorageConfig, TimeRange, TimeseriesSpec, WalMode};

fn cfg(dir: &Path) -> StorageConfig {
    StorageConfig {
        enable_compaction: false,
        ..config(dir, WalMode::Sync)
    }
}

fn tablet(device: &str, k: i64) -> model::InsertTablet {
    let times: Vec<i64> = (k * 100..(k + 1) * 100).collect();
    let vals = times.iter().map(|&t| t as f64).collect();
    doubles(device, &["s"], times, vec![vals])
}

fn times(e: &Engine, series: &str) -> Vec<i64> {
    e.read_series(&p(series), TimeRange::ALL)
        .unwrap()
        .times
        .into_vec()
}

fn assert_disk_full(err: &model::Error) {
    assert!(err.to_string().contains("No space left on device"), "{err}");
}

/// Retries `f` until the engine accepts writes again (after its probe back-off).
fn until_writable<T>(mut f: impl FnMut() -> model::Result<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match f() {
            Ok(v) => return v,
            Err(e) => {
                assert_eq!(e.status_code().code(), 600, "{e}");
                assert!(Instant::now() < deadline, "writes never resumed: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

#[test]
fn failed_schema_log_write_refuses_writes_and_keeps_every_series() {
    let dir = tempfile::tempdir().unwrap();
    let system = dir.path().join("system");
    let e = Engine::open(cfg(dir.path())).unwrap();
    e.insert_tablet(&tablet("root.sg.a", 0)).unwrap();
    fault::fail_writes_under(&system);
    // an explicit creation fails with the cause
    let err = e
        .create_timeseries(TimeseriesSpec::new(
            p("root.sg.x.s"),
            model::TSDataType::Int64,
        ))
        .unwrap_err();
    assert_disk_full(&err);
    // a creation applied in memory before its append failed stays pending for the log
    // (and no write is acknowledged until it is written): the same after a restart
    let x_created = e.series_info(&p("root.sg.x.s")).is_some();
    // an auto-creation (applied first) fails: its series stays pending for the log, and no
    // write is acknowledged meanwhile, not even on an existing series
    assert_disk_full(&e.insert_tablet(&tablet("root.sg.b", 0)).unwrap_err());
    let refused = e.insert_tablet(&tablet("root.sg.a", 1)).unwrap_err();
    assert_eq!(refused.status_code().code(), 600, "{refused}");
    assert!(
        refused.to_string().contains("schema log write failed"),
        "{refused}"
    );
    // reads go on
    assert_eq!(times(&e, "root.sg.a.s").len(), 100);
    fault::heal_writes_under(&system);
    // writes resume once the probe passes; the pending series is logged first
    until_writable(|| e.insert_tablet(&tablet("root.sg.a", 1)));
    e.insert_tablet(&tablet("root.sg.b", 1)).unwrap();
    e.insert_tablet(&tablet("root.sg.c", 0)).unwrap();
    e.simulate_crash();
    // the record torn by the failed append hides nothing appended after it
    let e = Engine::open(cfg(dir.path())).unwrap();
    assert_eq!(times(&e, "root.sg.a.s").len(), 200);
    assert_eq!(times(&e, "root.sg.b.s"), (100..200).collect::<Vec<_>>());
    assert_eq!(times(&e, "root.sg.c.s").len(), 100);
    assert_eq!(e.series_info(&p("root.sg.x.s")).is_some(), x_created);
}

#[test]
fn failed_schema_snapshot_keeps_the_log_authoritative() {
    let dir = tempfile::tempdir().unwrap();
    let system = dir.path().join("system");
    let e = Engine::open(cfg(dir.path())).unwrap();
    e.insert_tablet(&tablet("root.sg.a", 0)).unwrap();
    fault::fail_writes_under(&system);
    assert_disk_full(&e.snapshot_schema().unwrap_err());
    fault::heal_writes_under(&system);
    // appended to the log of the generation that is still current
    e.insert_tablet(&tablet("root.sg.b", 0)).unwrap();
    e.simulate_crash();
    let e = Engine::open(cfg(dir.path())).unwrap();
    assert_eq!(times(&e, "root.sg.a.s").len(), 100);
    assert_eq!(times(&e, "root.sg.b.s").len(), 100);
}

fn partition_dirs(dir: &Path) -> Vec<PathBuf> {
    tsfiles_in(dir, &["sequence"])
        .iter()
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect()
}

#[test]
fn failed_mods_write_is_an_error_and_a_later_deletion_still_applies() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(cfg(dir.path())).unwrap();
    for k in 0..3 {
        e.insert_tablet(&tablet("root.sg.a", k)).unwrap();
    }
    e.flush().unwrap();
    let mods_dir = partition_dirs(dir.path()).remove(0);
    fault::fail_writes_under(&mods_dir);
    let err = e
        .delete_data(&[pat("root.sg.a.s")], TimeRange::new(0, 9))
        .unwrap_err();
    assert_disk_full(&err);
    fault::heal_writes_under(&mods_dir);
    until_writable(|| e.check_writable());
    // the torn line was cut off: this entry is read back whole
    e.delete_data(&[pat("root.sg.a.s")], TimeRange::new(100, 149))
        .unwrap();
    let check = |e: &Engine| {
        let got = times(e, "root.sg.a.s");
        // the failed deletion is all or nothing (its WAL record may replay); the other
        // one applies; every other acknowledged point is there
        let first_gone = !got.contains(&0);
        let want: Vec<i64> = (0..300)
            .filter(|t| !((100..150).contains(t) || (first_gone && *t < 10)))
            .collect();
        assert_eq!(got, want);
    };
    check(&e);
    e.simulate_crash();
    let e = Engine::open(cfg(dir.path())).unwrap();
    check(&e);
    assert!(
        !dir.path().join("corrupted").exists(),
        "a file was set aside"
    );
}

#[test]
fn failed_compaction_log_write_keeps_the_sources() {
    let dir = tempfile::tempdir().unwrap();
    let c = StorageConfig {
        compaction_max_files: 3,
        ..cfg(dir.path())
    };
    let e = Engine::open(c.clone()).unwrap();
    for k in 0..3 {
        e.insert_tablet(&tablet("root.sg.a", k)).unwrap();
        e.flush().unwrap();
    }
    let files = tsfiles_in(dir.path(), &["sequence"]);
    assert_eq!(files.len(), 3);
    let log = files[0].parent().unwrap().join("compaction.log");
    fault::fail_writes_under(&log);
    assert_disk_full(&e.compact().unwrap_err());
    // nothing renamed, nothing left behind but the sources
    assert_eq!(tsfiles_in(dir.path(), &["sequence"]), files);
    assert!(!log.exists());
    let leftovers: Vec<_> = std::fs::read_dir(files[0].parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".staging") || n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(times(&e, "root.sg.a.s").len(), 300);
    fault::heal_writes_under(&log);
    until_writable(|| e.check_writable());
    assert!(e.compact().unwrap() >= 1);
    assert_eq!(tsfiles_in(dir.path(), &["sequence"]).len(), 1);
    e.simulate_crash();
    let e = Engine::open(c).unwrap();
    assert_eq!(times(&e, "root.sg.a.s"), (0..300).collect::<Vec<_>>());
}

#[test]
fn schema_snapshots_are_written_periodically() {
    let dir = tempfile::tempdir().unwrap();
    let c = StorageConfig {
        schema_snapshot_interval_ms: 200,
        ..cfg(dir.path())
    };
    let system = dir.path().join("system");
    let snaps = || -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&system)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".snap"))
            .collect();
        v.sort();
        v
    };
    let log_len = || -> u64 {
        std::fs::read_dir(&system)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".log"))
            .map(|e| e.metadata().unwrap().len())
            .sum()
    };
    let e = Engine::open(c.clone()).unwrap();
    // an idle, empty log is not snapshotted
    std::thread::sleep(Duration::from_millis(500));
    assert!(snaps().is_empty(), "{:?}", snaps());
    for d in 0..20 {
        e.insert_tablet(&tablet(&format!("root.sg.d{d}"), 0))
            .unwrap();
    }
    assert!(log_len() > 8);
    // within a few intervals the log's records are in a snapshot and the log is empty
    let deadline = Instant::now() + Duration::from_secs(10);
    while snaps().is_empty() || log_len() > 8 {
        assert!(
            Instant::now() < deadline,
            "no periodic snapshot: {:?}",
            snaps()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let first = snaps();
    // nothing new: no new generation
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(snaps(), first);
    e.simulate_crash();
    // start-up reads the snapshot (an empty log) and finds every series
    let e = Engine::open(c).unwrap();
    for d in 0..20 {
        assert_eq!(times(&e, &format!("root.sg.d{d}.s")).len(), 100);
    }
}

/// A WAL segment whose header a full disk refuses is removed and its name given up: once the
/// disk takes writes again, writes resume (they failed for good with "File exists" before,
/// the next segment's name being taken by the torn one), and nothing acknowledged is lost
/// across a restart.
#[test]
fn failed_wal_segment_creation_does_not_block_later_writes() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("wal");
    let e = Engine::open(cfg(dir.path())).unwrap();
    e.insert_tablet(&tablet("root.sg.a", 0)).unwrap();
    // a flush closes the segment: the next write starts a new one
    e.flush().unwrap();
    fault::fail_writes_under(&wal);
    assert_disk_full(&e.insert_tablet(&tablet("root.sg.a", 1)).unwrap_err());
    fault::heal_writes_under(&wal);
    until_writable(|| e.insert_tablet(&tablet("root.sg.a", 1)));
    e.insert_tablet(&tablet("root.sg.a", 2)).unwrap();
    e.simulate_crash();
    let e = Engine::open(cfg(dir.path())).unwrap();
    assert_eq!(times(&e, "root.sg.a.s"), (0..300).collect::<Vec<_>>());
}
