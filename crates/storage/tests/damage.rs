//! Damaged files: a byte flipped inside a page of a flushed TsFile is reported as a
//! corrupted file (checksums beside the file), never served as values.

mod common;
use common::*;
use storage::{Engine, StorageConfig, TimeRange, WalMode};

fn cfg(dir: &std::path::Path) -> StorageConfig {
    StorageConfig {
        enable_compaction: false,
        ..config(dir, WalMode::Sync)
    }
}

const N: i64 = 20_000;

/// Writes `N` points into `root.sg.d.a` and `root.sg.d.b` (and `root.sg.e.c` in a second
/// file when `two_files`), flushed.
fn flushed(dir: &std::path::Path, two_files: bool) {
    let e = Engine::open(cfg(dir)).unwrap();
    let times: Vec<i64> = (0..N).collect();
    let vals: Vec<f64> = times.iter().map(|&t| (t as f64 * 0.37).sin()).collect();
    e.insert_tablet(&doubles(
        "root.sg.d",
        &["a", "b"],
        times.clone(),
        vec![vals.clone(), vals.clone()],
    ))
    .unwrap();
    e.flush().unwrap();
    if two_files {
        let later: Vec<i64> = (N..2 * N).collect();
        e.insert_tablet(&doubles("root.sg.d", &["a"], later, vec![vals.clone()]))
            .unwrap();
        e.flush().unwrap();
    }
    e.close().unwrap();
}

fn tsfiles(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    tsfiles_in(dir, &["sequence", "unsequence"])
}

fn sidecar(file: &std::path::Path) -> std::path::PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".checksums");
    s.into()
}

/// Flips one byte 30 % into the page data of the first chunk of `root.sg.d.<m>`; returns
/// the chunk's offset.
fn flip_in_page(file: &std::path::Path, m: &str) -> u64 {
    let reader = tsfile::reader::TsFileReader::open(file).unwrap();
    let (_, series) = reader
        .all_series()
        .unwrap()
        .into_iter()
        .find(|(d, _)| d.path() == "root.sg.d")
        .unwrap();
    let meta = series.iter().find(|s| s.measurement == m).unwrap();
    let chunk = reader.read_chunk(&meta.chunks[0]).unwrap();
    let at = chunk.data_offset() + chunk.header.data_size as u64 * 3 / 10;
    drop(reader);
    let mut bytes = std::fs::read(file).unwrap();
    bytes[at as usize] ^= 0x5a;
    std::fs::write(file, bytes).unwrap();
    chunk.offset
}

#[test]
fn flipped_page_byte_is_a_corrupted_file_error() {
    let dir = tempfile::tempdir().unwrap();
    flushed(dir.path(), false);
    let files = tsfiles(dir.path());
    assert_eq!(files.len(), 1);
    assert!(sidecar(&files[0]).exists(), "no checksums beside {files:?}");
    let offset = flip_in_page(&files[0], "a");

    let e = Engine::open(cfg(dir.path())).unwrap();
    let err = e
        .read_series(&p("root.sg.d.a"), TimeRange::ALL)
        .unwrap_err();
    assert_eq!(err.status_code().code(), 604, "{err}");
    let msg = err.to_string();
    let name = files[0].file_name().unwrap().to_string_lossy().to_string();
    assert!(msg.contains(&name), "{msg}");
    assert!(msg.contains(&format!("offset {offset}")), "{msg}");
    // the other series of the same file is served, complete and right
    let b = e.read_series(&p("root.sg.d.b"), TimeRange::ALL).unwrap();
    assert_eq!(b.times, (0..N).collect::<Vec<_>>());
    // and writes and later reads go on
    e.insert_tablet(&doubles("root.sg.d", &["b"], vec![N], vec![vec![1.0]]))
        .unwrap();
    let b = e.read_series(&p("root.sg.d.b"), TimeRange::ALL).unwrap();
    assert_eq!(b.times.len(), N as usize + 1);
    e.close().unwrap();
    drop(e);

    // verification switched off: no checksum error (whatever the damaged page decodes to)
    let e = Engine::open(StorageConfig {
        verify_chunk_checksums: false,
        ..cfg(dir.path())
    })
    .unwrap();
    if let Err(err) = e.read_series(&p("root.sg.d.a"), TimeRange::ALL) {
        assert_ne!(err.status_code().code(), 604, "{err}");
    }
}

#[test]
fn files_without_or_with_damaged_checksums_are_read_as_before() {
    let dir = tempfile::tempdir().unwrap();
    flushed(dir.path(), false);
    let files = tsfiles(dir.path());
    // a damaged sidecar is ignored (with a warning): the file is read unchecked
    let side = sidecar(&files[0]);
    let mut bytes = std::fs::read(&side).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&side, bytes).unwrap();
    let e = Engine::open(cfg(dir.path())).unwrap();
    assert_eq!(
        e.read_series(&p("root.sg.d.a"), TimeRange::ALL)
            .unwrap()
            .times
            .len(),
        N as usize
    );
    drop(e);
    // no sidecar at all (a file from elsewhere or an older build)
    std::fs::remove_file(&side).unwrap();
    let e = Engine::open(cfg(dir.path())).unwrap();
    assert_eq!(
        e.read_series(&p("root.sg.d.b"), TimeRange::ALL)
            .unwrap()
            .times
            .len(),
        N as usize
    );
}

#[test]
fn compaction_writes_checksums_and_drops_the_sources_ones() {
    let dir = tempfile::tempdir().unwrap();
    flushed(dir.path(), true);
    let before = tsfiles(dir.path());
    assert_eq!(before.len(), 2);
    // an orphaned sidecar (crash before its file was renamed into place) is removed
    let orphan = before[0].with_file_name("1-999-0-0.tsfile.checksums");
    std::fs::write(&orphan, b"x").unwrap();
    let e = Engine::open(StorageConfig {
        compaction_max_files: 2,
        ..cfg(dir.path())
    })
    .unwrap();
    assert!(!orphan.exists());
    assert!(e.compact().unwrap() > 0);
    let after = tsfiles(dir.path());
    assert_eq!(after.len(), 1);
    for f in &before {
        assert!(!sidecar(f).exists(), "{f:?}");
    }
    assert!(sidecar(&after[0]).exists());
    let a = e.read_series(&p("root.sg.d.a"), TimeRange::ALL).unwrap();
    assert_eq!(a.times.len(), 2 * N as usize);
    e.close().unwrap();
    drop(e);
    // the merged file is checked too
    let offset = flip_in_page(&after[0], "a");
    let e = Engine::open(cfg(dir.path())).unwrap();
    let err = e
        .read_series(&p("root.sg.d.a"), TimeRange::ALL)
        .unwrap_err();
    assert_eq!(err.status_code().code(), 604, "{err}");
    assert!(err.to_string().contains(&format!("offset {offset}")));
}

/// The schema log of `dir` (`system/schema-<gen>.log`).
fn schema_log(dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::read_dir(dir.join("system"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "log"))
        .unwrap()
}

#[test]
fn damaged_schema_log_is_rebuilt_from_files_and_wal() {
    use model::{CompressionType, TSDataType, TSEncoding};
    use storage::TimeseriesSpec;
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(cfg(dir.path())).unwrap();
    e.create_database(&p("root.sg")).unwrap();
    let mut spec = TimeseriesSpec::new(p("root.sg.d.a"), TSDataType::Double);
    spec.encoding = TSEncoding::Gorilla;
    spec.compressor = CompressionType::Zstd;
    spec.tags = vec![("unit".into(), "C".into())];
    e.create_timeseries(spec).unwrap();
    let mut x = TimeseriesSpec::new(p("root.sg.al.x"), TSDataType::Int64);
    x.encoding = TSEncoding::Ts2Diff;
    x.compressor = CompressionType::Lz4;
    e.create_aligned_timeseries(&p("root.sg.al"), vec![x])
        .unwrap();
    let times: Vec<i64> = (0..1000).collect();
    let vals: Vec<f64> = times.iter().map(|&t| t as f64).collect();
    // root.sg.d.b is auto-created
    e.insert_tablet(&doubles(
        "root.sg.d",
        &["a", "b"],
        times.clone(),
        vec![vals.clone(), vals.clone()],
    ))
    .unwrap();
    e.insert_tablet(&model::InsertTablet {
        device: p("root.sg.al"),
        measurements: vec!["x".into()],
        types: vec![TSDataType::Int64],
        times: times.clone(),
        columns: vec![model::Column::new(model::ColumnData::Int64(times.clone()))],
        aligned: true,
    })
    .unwrap();
    e.flush().unwrap();
    // root.sg.w.c only in the WAL
    e.insert_tablet(&doubles("root.sg.w", &["c"], times.clone(), vec![vals]))
        .unwrap();
    e.simulate_crash();

    // a byte flipped in the first record: every record from there on is lost
    let log = schema_log(dir.path());
    let mut bytes = std::fs::read(&log).unwrap();
    bytes[12] ^= 0x40;
    std::fs::write(&log, bytes).unwrap();

    let e = Engine::open(cfg(dir.path())).unwrap();
    for s in ["root.sg.d.a", "root.sg.d.b", "root.sg.al.x", "root.sg.w.c"] {
        let got = e.read_series(&p(s), TimeRange::ALL).unwrap();
        assert_eq!(got.times, times, "{s}");
    }
    let series = e.series(&pat("root.**"));
    let a = series.iter().find(|s| s.path == p("root.sg.d.a")).unwrap();
    assert_eq!(a.schema.encoding, TSEncoding::Gorilla);
    assert_eq!(a.schema.compressor, CompressionType::Zstd);
    assert!(a.tags.is_empty(), "tags cannot be rebuilt");
    let x = series.iter().find(|s| s.path == p("root.sg.al.x")).unwrap();
    assert!(x.aligned);
    assert_eq!(x.schema.data_type, TSDataType::Int64);
    assert_eq!(x.schema.encoding, TSEncoding::Ts2Diff);
    let c = series.iter().find(|s| s.path == p("root.sg.w.c")).unwrap();
    assert_eq!(c.schema.data_type, TSDataType::Double);
    assert_eq!(series.len(), 4, "{:?}", names(&series));
    // the rebuilt definitions were logged: a clean restart keeps them and the data
    e.insert_tablet(&doubles("root.sg.d", &["a"], vec![5000], vec![vec![1.0]]))
        .unwrap();
    e.close().unwrap();
    drop(e);
    let e = Engine::open(cfg(dir.path())).unwrap();
    assert_eq!(e.series(&pat("root.**")).len(), 4);
    assert_eq!(
        e.read_series(&p("root.sg.d.a"), TimeRange::ALL)
            .unwrap()
            .times
            .len(),
        1001
    );
}

#[test]
fn damaged_index_is_salvaged_from_the_chunk_groups() {
    let dir = tempfile::tempdir().unwrap();
    flushed(dir.path(), false);
    let [file] = &tsfiles(dir.path())[..] else {
        panic!("one file expected")
    };
    // a byte flipped inside the metadata index: the file no longer opens
    let meta_offset = tsfile::reader::TsFileReader::open(file)
        .unwrap()
        .metadata()
        .meta_offset;
    let mut bytes = std::fs::read(file).unwrap();
    let at = meta_offset as usize + 3;
    bytes[at] ^= 0xff;
    std::fs::write(file, bytes).unwrap();
    assert!(tsfile::reader::TsFileReader::open(file)
        .and_then(|r| r.all_series())
        .is_err());

    let e = Engine::open(cfg(dir.path())).unwrap();
    for s in ["root.sg.d.a", "root.sg.d.b"] {
        let got = e.read_series(&p(s), TimeRange::ALL).unwrap();
        assert_eq!(got.times, (0..N).collect::<Vec<_>>(), "{s}");
    }
    // the rebuilt file is whole again (with checksums); the original is kept aside
    assert!(tsfile::reader::TsFileReader::open(file).is_ok());
    assert!(sidecar(file).exists());
    let aside: Vec<_> = std::fs::read_dir(dir.path().join("corrupted"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(aside.len(), 1);
}

#[test]
fn salvage_sets_aside_only_the_damaged_chunk() {
    let dir = tempfile::tempdir().unwrap();
    flushed(dir.path(), false);
    let [file] = &tsfiles(dir.path())[..] else {
        panic!("one file expected")
    };
    // a damaged page of `a` and a damaged index: `b` survives whole, `a` is set aside
    flip_in_page(file, "a");
    let reader = tsfile::reader::TsFileReader::open(file).unwrap();
    let tail = reader.file_size() as usize - 8;
    drop(reader);
    let mut bytes = std::fs::read(file).unwrap();
    bytes[tail] ^= 0xff; // the metadata size in the tail
    std::fs::write(file, bytes).unwrap();
    let e = Engine::open(cfg(dir.path())).unwrap();
    let b = e.read_series(&p("root.sg.d.b"), TimeRange::ALL).unwrap();
    assert_eq!(b.times, (0..N).collect::<Vec<_>>());
    assert!(e
        .read_series(&p("root.sg.d.a"), TimeRange::ALL)
        .unwrap()
        .times
        .is_empty());
}
