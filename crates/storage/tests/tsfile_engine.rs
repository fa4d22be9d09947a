//! The engine with TsFiles: flush → restart → identical reads, out-of-order data in the
//! unsequence space, deletions across files and restarts, compaction equivalence, chunk
//! skipping by statistics, torn-file recovery, LOAD of a file written by the tsfile crate.

mod common;
use common::*;
use model::{ColumnData, CompressionType, MeasurementSchema, TSDataType, TSEncoding, Value};
use storage::{
    ChunkSummary, Engine, StorageConfig, SummaryUse, TimeRange, TimeseriesSpec, WalMode,
};

fn cfg(dir: &std::path::Path) -> StorageConfig {
    StorageConfig {
        enable_compaction: false,
        ..config(dir, WalMode::Sync)
    }
}

fn open_nc(dir: &std::path::Path) -> Engine {
    Engine::open(cfg(dir)).unwrap()
}

fn ramp(t0: i64, n: i64, k: f64) -> (Vec<i64>, Vec<f64>) {
    let times: Vec<i64> = (t0..t0 + n).collect();
    let vals = times.iter().map(|&t| t as f64 * k).collect();
    (times, vals)
}

fn write(e: &Engine, dev: &str, t0: i64, n: i64, k: f64) {
    let (times, vals) = ramp(t0, n, k);
    e.insert_tablet(&doubles(dev, &["a", "b"], times, vec![vals.clone(), vals]))
        .unwrap();
}

fn all(e: &Engine, path: &str) -> storage::SeriesData {
    e.read_series(&p(path), TimeRange::ALL).unwrap()
}

fn tsfiles(dir: &std::path::Path, space: &str) -> Vec<std::path::PathBuf> {
    tsfiles_in(dir, &[space])
}

#[test]
fn flush_restart_identical_reads_and_wal_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let e = open_nc(dir.path());
    let mut spec = TimeseriesSpec::new(p("root.sg.d.a"), TSDataType::Double);
    spec.encoding = TSEncoding::Gorilla;
    spec.compressor = CompressionType::Zstd;
    e.create_timeseries(spec).unwrap();
    write(&e, "root.sg.d", 0, 10_000, 0.5);
    e.flush().unwrap();
    write(&e, "root.sg.d", 10_000, 100, 0.5);
    let before = (all(&e, "root.sg.d.a"), all(&e, "root.sg.d.b"));
    assert_eq!(before.0.times.len(), 10_100);
    assert_eq!(e.tsfile_stats().seq_files, 1);
    drop(e);
    // clean close flushed the rest; the WAL holds nothing any more
    let wal_segments: usize = std::fs::read_dir(dir.path().join("wal"))
        .unwrap()
        .flatten()
        .map(|r| std::fs::read_dir(r.path()).map(|d| d.count()).unwrap_or(0))
        .sum();
    assert_eq!(wal_segments, 0);
    let files = tsfiles(dir.path(), "sequence");
    assert_eq!(files.len(), 2, "{files:?}");
    // the chunk of `a` carries its schema's encoding and compressor
    let r = tsfile::reader::TsFileReader::open(&files[0]).unwrap();
    let dev = tsfile::device::DeviceId::from_path("root.sg.d");
    let meta = r.series_metadata(&dev, "a").unwrap().unwrap();
    let h = r.read_chunk(&meta.chunks[0]).unwrap().header;
    assert_eq!(
        (h.encoding, h.compression),
        (TSEncoding::Gorilla, CompressionType::Zstd)
    );
    let e = open_nc(dir.path());
    assert_eq!((all(&e, "root.sg.d.a"), all(&e, "root.sg.d.b")), before);
    assert_eq!(
        e.last_point(&p("root.sg.d.a")).unwrap(),
        Some((10_099, Value::Double(10_099.0 * 0.5)))
    );
}

#[test]
fn out_of_order_goes_to_unsequence_and_newest_wins() {
    let dir = tempfile::tempdir().unwrap();
    let e = open_nc(dir.path());
    write(&e, "root.sg.d", 0, 1000, 1.0);
    e.flush().unwrap();
    write(&e, "root.sg.d", 500, 1000, 2.0); // 500..999 out of order, 1000..1499 in order
    e.flush().unwrap();
    let st = e.tsfile_stats();
    assert_eq!((st.seq_files, st.unseq_files), (2, 1));
    let d = all(&e, "root.sg.d.a");
    assert_eq!(d.times, (0..1500).collect::<Vec<_>>());
    let ColumnData::Double(v) = &d.values else {
        panic!()
    };
    assert_eq!(v[499], 499.0);
    assert_eq!(v[500], 1000.0, "the later write wins");
    drop(e);
    let e = open_nc(dir.path());
    assert_eq!(all(&e, "root.sg.d.a"), d);
}

#[test]
fn time_filter_skips_chunks_by_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let e = open_nc(dir.path());
    for i in 0..4 {
        write(&e, "root.sg.d", i * 1000, 1000, 1.0);
        e.flush().unwrap();
    }
    let before = e.tsfile_stats();
    let d = e
        .read_series(&p("root.sg.d.a"), TimeRange::new(3100, 3200))
        .unwrap();
    assert_eq!(d.times.len(), 101);
    let after = e.tsfile_stats();
    let skipped = (after.files_skipped - before.files_skipped)
        + (after.chunks_skipped - before.chunks_skipped);
    assert_eq!(skipped, 3, "three files are outside the range");
    assert_eq!(after.chunks_read - before.chunks_read, 1);
}

#[test]
fn deletions_across_files_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let e = open_nc(dir.path());
    write(&e, "root.sg.d", 0, 100, 1.0);
    e.flush().unwrap();
    write(&e, "root.sg.d", 100, 100, 1.0);
    e.flush().unwrap();
    write(&e, "root.sg.d", 200, 100, 1.0);
    e.delete_data(&[pat("root.sg.d.a")], TimeRange::new(50, 249))
        .unwrap();
    assert_eq!(all(&e, "root.sg.d.a").times.len(), 100);
    assert_eq!(all(&e, "root.sg.d.b").times.len(), 300);
    drop(e);
    let mods: Vec<_> = tsfiles(dir.path(), "sequence")
        .into_iter()
        .filter(|f| {
            let mut m = f.as_os_str().to_owned();
            m.push(".mods");
            std::path::Path::new(&m).exists()
        })
        .collect();
    assert_eq!(mods.len(), 2, "both earlier files got a .mods record");
    let e = open_nc(dir.path());
    let d = all(&e, "root.sg.d.a");
    assert_eq!(
        d.times,
        (0..50).chain(250..300).collect::<Vec<_>>(),
        "deletion honoured after restart"
    );
    // DELETE TIMESERIES then re-create: old points stay gone
    e.delete_timeseries(&[pat("root.sg.d.b")]).unwrap();
    e.create_timeseries(TimeseriesSpec::new(p("root.sg.d.b"), TSDataType::Double))
        .unwrap();
    assert!(all(&e, "root.sg.d.b").times.is_empty());
    drop(e);
    let e = open_nc(dir.path());
    assert!(all(&e, "root.sg.d.b").times.is_empty());
    // DELETE DATABASE removes the files
    e.delete_databases(&[pat("root.sg")]).unwrap();
    drop(e);
    assert!(tsfiles(dir.path(), "sequence").is_empty());
    assert!(tsfiles(dir.path(), "unsequence").is_empty());
}

#[test]
fn compaction_is_equivalent_and_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let e = open_nc(dir.path());
    for i in 0..6 {
        write(&e, "root.sg.d", i * 100, 100, 1.0);
        e.flush().unwrap();
        // out-of-order rewrites of an earlier range
        write(&e, "root.sg.d", i * 37, 20, 3.0 + i as f64);
        e.flush().unwrap();
    }
    e.delete_data(&[pat("root.sg.d.b")], TimeRange::new(10, 30))
        .unwrap();
    let before = (all(&e, "root.sg.d.a"), all(&e, "root.sg.d.b"));
    let st = e.tsfile_stats();
    assert!(st.unseq_files > 0 && st.seq_files > 1, "{st:?}");
    assert!(e.compact().unwrap() >= 1);
    let st = e.tsfile_stats();
    assert_eq!((st.seq_files, st.unseq_files), (1, 0));
    assert_eq!((all(&e, "root.sg.d.a"), all(&e, "root.sg.d.b")), before);
    drop(e);
    let e = open_nc(dir.path());
    assert_eq!((all(&e, "root.sg.d.a"), all(&e, "root.sg.d.b")), before);
    assert_eq!(tsfiles(dir.path(), "sequence").len(), 1);
    assert!(tsfiles(dir.path(), "unsequence").is_empty());
}

/// Flushes whose first page GORILLA does not shrink store a series PLAIN (docs/adr/0014);
/// a compaction of such files with GORILLA ones writes the series in one encoding and
/// compressor (the C++ TsFile reader fails on a series whose chunks differ) and reads the same.
#[test]
fn compaction_keeps_one_encoding_per_series_across_fallen_back_sources() {
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        Engine::open(StorageConfig {
            compaction_max_files: 2,
            ..cfg(dir.path())
        })
        .unwrap()
    };
    let e = open();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut noise = |n: usize| -> Vec<f64> {
        let mut v = Vec::with_capacity(n);
        while v.len() < n {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // random bits with an exponent below all ones: finite, GORILLA cannot shrink them
            v.push(f64::from_bits(
                (x & !(0x7FF << 52)) | (((x >> 52) % 0x7FF) << 52),
            ));
        }
        v
    };
    let n = 4_000i64;
    for (k, noisy) in [true, false, true, false].into_iter().enumerate() {
        let times: Vec<i64> = (k as i64 * n..(k as i64 + 1) * n).collect();
        let vals = if noisy {
            noise(n as usize)
        } else {
            times.iter().map(|&t| (t / 100) as f64).collect()
        };
        e.insert_tablet(&doubles("root.fb.d", &["v"], times, vec![vals]))
            .unwrap();
        e.flush().unwrap();
    }
    let kinds = |path: &std::path::Path| -> Vec<(TSEncoding, CompressionType)> {
        let r = tsfile::TsFileReader::open(path).unwrap();
        let dev = tsfile::DeviceId::from_path("root.fb.d");
        let meta = r.series_metadata(&dev, "v").unwrap().unwrap();
        meta.chunks
            .iter()
            .map(|c| {
                let h = r.read_chunk(c).unwrap().header;
                (h.encoding, h.compression)
            })
            .collect()
    };
    let mut per_file: Vec<_> = tsfiles(dir.path(), "sequence")
        .iter()
        .map(|f| kinds(f)[0])
        .collect();
    per_file.sort_by_key(|k| k.0 == TSEncoding::Plain);
    assert_eq!(per_file.len(), 4);
    assert!(
        per_file[..2].iter().all(|k| k.0 == TSEncoding::Gorilla),
        "{per_file:?}"
    );
    assert!(
        per_file[2..].iter().all(|k| k.0 == TSEncoding::Plain),
        "{per_file:?}"
    );
    let before = all(&e, "root.fb.d.v");
    assert!(e.compact().unwrap() >= 1);
    let files = tsfiles(dir.path(), "sequence");
    assert_eq!(files.len(), 1);
    let chunks = kinds(&files[0]);
    assert!(
        chunks.len() > 1 && chunks.windows(2).all(|w| w[0] == w[1]),
        "{chunks:?}"
    );
    assert_eq!(all(&e, "root.fb.d.v"), before);
    drop(e);
    let e = open();
    assert_eq!(all(&e, "root.fb.d.v"), before);
}

#[test]
fn compaction_copies_untouched_chunks_unchanged() {
    // FREQ is lossy: a chunk decoded and encoded again would come back with other values,
    // so equal reads before and after prove the untouched chunks were copied, not rewritten
    let dir = tempfile::tempdir().unwrap();
    let e = open_nc(dir.path());
    for m in ["f", "g"] {
        e.create_timeseries(TimeseriesSpec {
            encoding: TSEncoding::Freq,
            ..TimeseriesSpec::new(p(&format!("root.sg.d.{m}")), TSDataType::Double)
        })
        .unwrap();
    }
    let wave = |t0: i64, n: i64, k: f64| -> (Vec<i64>, Vec<f64>) {
        let times: Vec<i64> = (t0..t0 + n).collect();
        let vals = times
            .iter()
            .map(|&t| (t as f64 / 7.0).sin() * k + (t as f64 / 3.0).cos())
            .collect();
        (times, vals)
    };
    for (t0, k) in [(0, 10.0), (1000, 20.0), (2000, 30.0)] {
        let (times, vals) = wave(t0, 600, k);
        e.insert_tablet(&doubles(
            "root.sg.d",
            &["f", "g"],
            times,
            vec![vals.clone(), vals],
        ))
        .unwrap();
        e.flush().unwrap();
    }
    // an unsequence rewrite inside the second chunk of `f` only, and a deletion in the third
    // chunk of `g`: those chunks are merged and re-encoded, the others copied
    let (times, vals) = wave(1100, 50, -5.0);
    e.insert_tablet(&doubles("root.sg.d", &["f"], times, vec![vals]))
        .unwrap();
    e.flush().unwrap();
    e.delete_data(&[pat("root.sg.d.g")], TimeRange::new(2100, 2110))
        .unwrap();
    let before = (all(&e, "root.sg.d.f"), all(&e, "root.sg.d.g"));
    assert!(e.compact().unwrap() >= 1);
    let st = e.tsfile_stats();
    assert_eq!((st.seq_files, st.unseq_files), (1, 0));
    let after = (all(&e, "root.sg.d.f"), all(&e, "root.sg.d.g"));
    let untouched = |d: &storage::SeriesData, lo: i64, hi: i64| -> Vec<(i64, u64)> {
        let ColumnData::Double(v) = &d.values else {
            panic!("not DOUBLE")
        };
        d.times
            .iter()
            .zip(v)
            .filter(|(t, _)| (lo..hi).contains(*t))
            .map(|(t, x)| (*t, x.to_bits()))
            .collect()
    };
    for (lo, hi) in [(0, 1000), (2000, 3000)] {
        assert_eq!(untouched(&after.0, lo, hi), untouched(&before.0, lo, hi));
    }
    for (lo, hi) in [(0, 1000), (1000, 2000)] {
        assert_eq!(untouched(&after.1, lo, hi), untouched(&before.1, lo, hi));
    }
    assert_eq!(after.0.times, before.0.times);
    assert_eq!(after.1.times, before.1.times);
    drop(e);
    let e = open_nc(dir.path());
    assert_eq!(all(&e, "root.sg.d.f").times, before.0.times);
}

#[test]
fn torn_file_is_set_aside_and_wal_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let e = open_nc(dir.path());
    write(&e, "root.sg.d", 0, 100, 1.0);
    e.flush().unwrap();
    write(&e, "root.sg.d", 100, 100, 1.0);
    e.flush().unwrap();
    drop(e);
    let files = tsfiles(dir.path(), "sequence");
    assert_eq!(files.len(), 2);
    // tear the newest file inside its first chunk (nothing left to salvage, see
    // damage.rs for salvage) and leave an unfinished temporary file behind
    let bytes = std::fs::read(&files[1]).unwrap();
    std::fs::write(&files[1], &bytes[..30]).unwrap();
    let mut tmp = files[0].as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, b"partial").unwrap();
    let e = open_nc(dir.path());
    assert_eq!(all(&e, "root.sg.d.a").times, (0..100).collect::<Vec<_>>());
    let mut corrupted: Vec<String> = std::fs::read_dir(dir.path().join("corrupted"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    corrupted.sort();
    // the file went aside with its chunk checksums
    assert_eq!(corrupted.len(), 2, "{corrupted:?}");
    assert!(corrupted[0].ends_with(".tsfile"), "{corrupted:?}");
    assert!(corrupted[1].ends_with(".tsfile.checksums"), "{corrupted:?}");
    assert!(!std::path::Path::new(&tmp).exists());
    // the engine keeps working
    write(&e, "root.sg.d", 100, 10, 1.0);
    e.flush().unwrap();
    assert_eq!(all(&e, "root.sg.d.a").times.len(), 110);
}

#[test]
fn size_threshold_triggers_flush() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(StorageConfig {
        memtable_size_threshold: 16 * 1000,
        ..cfg(dir.path())
    })
    .unwrap();
    for i in 0..10 {
        write(&e, "root.sg.d", i * 300, 300, 1.0);
        // reads are complete while flushes run in the background
        assert_eq!(all(&e, "root.sg.d.a").times.len(), (i as usize + 1) * 300);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while e.tsfile_stats().seq_files < 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "no background flush happened"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(all(&e, "root.sg.d.a").times.len(), 3000);
    drop(e);
    let e = open_nc(dir.path());
    assert_eq!(all(&e, "root.sg.d.a").times.len(), 3000);
}

#[test]
fn load_creates_schema_and_data() {
    let dir = tempfile::tempdir().unwrap();
    let ext = dir.path().join("ext");
    std::fs::create_dir_all(&ext).unwrap();
    let file = ext.join("x.tsfile");
    let schema = MeasurementSchema {
        name: "t".into(),
        data_type: TSDataType::Int32,
        encoding: TSEncoding::Ts2Diff,
        compressor: CompressionType::Lz4,
    };
    let times: Vec<i64> = (0..500).collect();
    let values = ColumnData::Int32((0..500).collect());
    let mut w =
        tsfile::writer::TsFileWriter::create(&file, tsfile::writer::WriterOptions::default())
            .unwrap();
    w.write_device(
        "root.ld.d1",
        &[tsfile::writer::SeriesInput {
            schema: &schema,
            times: &times,
            values: &values,
            nulls: None,
        }],
    )
    .unwrap();
    w.finish().unwrap();
    let e = open_nc(&dir.path().join("db"));
    let sum = e.load_tsfiles(&ext, false).unwrap();
    assert_eq!((sum.files, sum.devices, sum.points), (1, 1, 500));
    let info = e.series_info(&p("root.ld.d1.t")).unwrap();
    assert_eq!(
        (
            info.schema.data_type,
            info.schema.encoding,
            info.schema.compressor
        ),
        (TSDataType::Int32, TSEncoding::Ts2Diff, CompressionType::Lz4)
    );
    let d = all(&e, "root.ld.d1.t");
    assert_eq!(d.times, times);
    assert_eq!(d.values, values);
    assert!(e.load_tsfiles(&dir.path().join("missing"), false).is_err());
    // a V3 file (IoTDB 1.x) into an existing series: overlapping times go through the
    // unsequence space and the loaded values win; ONSUCCESS=DELETE removes the file
    let v3 = ext.join("v3.tsfile");
    let times3: Vec<i64> = (400..600).collect();
    let values3 = ColumnData::Int32((400..600).map(|i| i * 10).collect());
    let mut w = tsfile::writer::TsFileWriter::create(
        &v3,
        tsfile::writer::WriterOptions::for_version(tsfile::format::Version::V3),
    )
    .unwrap();
    w.write_device(
        "root.ld.d1",
        &[tsfile::writer::SeriesInput {
            schema: &schema,
            times: &times3,
            values: &values3,
            nulls: None,
        }],
    )
    .unwrap();
    w.finish().unwrap();
    let sum = e.load_tsfiles(&v3, true).unwrap();
    assert_eq!(sum.points, 200);
    assert!(!v3.exists());
    let d = all(&e, "root.ld.d1.t");
    assert_eq!(d.times, (0..600).collect::<Vec<_>>());
    let ColumnData::Int32(v) = &d.values else {
        panic!()
    };
    assert_eq!((v[399], v[400], v[599]), (399, 4000, 5990));
    assert!(e.tsfile_stats().unseq_files >= 1);
    assert!(file.exists());
}

#[test]
fn aligned_devices_flush_as_aligned_chunk_groups() {
    let dir = tempfile::tempdir().unwrap();
    let e = open_nc(dir.path());
    e.create_aligned_timeseries(
        &p("root.sg.al"),
        vec![
            TimeseriesSpec::new(p("root.sg.al.x"), TSDataType::Int64),
            TimeseriesSpec::new(p("root.sg.al.y"), TSDataType::Text),
        ],
    )
    .unwrap();
    let mut nulls = model::Bitmap::new(4);
    nulls.set(1);
    e.insert_tablet(&model::InsertTablet {
        device: p("root.sg.al"),
        measurements: vec!["x".into(), "y".into()],
        types: vec![TSDataType::Int64, TSDataType::Text],
        times: vec![1, 2, 3, 4],
        columns: vec![
            model::Column::new(ColumnData::Int64(vec![10, 20, 30, 40])),
            model::Column {
                data: ColumnData::Binary(vec![b"a".to_vec(), vec![], b"c".to_vec(), b"d".to_vec()]),
                nulls: Some(nulls),
            },
        ],
        aligned: true,
    })
    .unwrap();
    e.flush().unwrap();
    // an out-of-order rewrite, then compaction merges both files
    let mut xnull = model::Bitmap::new(1);
    xnull.set(0);
    e.insert_tablet(&model::InsertTablet {
        device: p("root.sg.al"),
        measurements: vec!["x".into(), "y".into()],
        types: vec![TSDataType::Int64, TSDataType::Text],
        times: vec![2],
        columns: vec![
            model::Column {
                data: ColumnData::Int64(vec![0]),
                nulls: Some(xnull),
            },
            model::Column::new(ColumnData::Binary(vec![b"b".to_vec()])),
        ],
        aligned: true,
    })
    .unwrap();
    e.flush().unwrap();
    let files = tsfiles(dir.path(), "sequence");
    let r = tsfile::reader::TsFileReader::open(&files[0]).unwrap();
    let series = r
        .device_series(&tsfile::device::DeviceId::from_path("root.sg.al"))
        .unwrap();
    assert!(
        series.iter().any(|s| s.is_aligned_time()),
        "aligned time chunk written"
    );
    let y = all(&e, "root.sg.al.y");
    assert_eq!(y.times, vec![1, 2, 3, 4]);
    assert_eq!(
        y.values,
        ColumnData::Binary(vec![
            b"a".to_vec(),
            b"b".to_vec(),
            b"c".to_vec(),
            b"d".to_vec()
        ])
    );
    assert!(e.compact().unwrap() >= 1);
    assert_eq!(all(&e, "root.sg.al.y"), y);
    assert_eq!(all(&e, "root.sg.al.x").times, vec![1, 2, 3, 4]);
    let files = tsfiles(dir.path(), "sequence");
    assert_eq!(files.len(), 1);
    let r = tsfile::reader::TsFileReader::open(&files[0]).unwrap();
    let series = r
        .device_series(&tsfile::device::DeviceId::from_path("root.sg.al"))
        .unwrap();
    assert!(
        series.iter().any(|s| s.is_aligned_time()),
        "compaction keeps it aligned"
    );
}

#[test]
fn big_series_are_chunked_and_chunks_skipped_by_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let e = open_nc(dir.path());
    write(&e, "root.sg.d", 0, 250_000, 1.0);
    e.flush().unwrap();
    let before = e.tsfile_stats();
    let d = e
        .read_series(&p("root.sg.d.a"), TimeRange::new(120_000, 130_000))
        .unwrap();
    assert_eq!(d.times, (120_000..=130_000).collect::<Vec<_>>());
    let after = e.tsfile_stats();
    assert_eq!(
        after.chunks_skipped - before.chunks_skipped,
        2,
        "3 chunks, 1 read"
    );
    assert_eq!(after.chunks_read - before.chunks_read, 1);
    assert_eq!(all(&e, "root.sg.d.b").times.len(), 250_000);
    // the last point comes from the latest chunk's statistics: nothing is decoded
    let before = e.tsfile_stats();
    assert_eq!(
        e.last_point(&p("root.sg.d.a")).unwrap(),
        Some((249_999, Value::Double(249_999.0)))
    );
    let after = e.tsfile_stats();
    assert_eq!(after.chunks_read - before.chunks_read, 0);
    // an unsequence file ending a chunk at the same time holds the newer value: read it
    write(&e, "root.sg.d", 249_999, 1, 7.0);
    e.flush().unwrap();
    assert_eq!(
        e.last_point(&p("root.sg.d.a")).unwrap(),
        Some((249_999, Value::Double(249_999.0 * 7.0)))
    );
    // deleting the whole latest chunk falls back to earlier ones
    e.delete_data(&[pat("root.sg.d.a")], TimeRange::new(200_000, i64::MAX))
        .unwrap();
    assert_eq!(
        e.last_point(&p("root.sg.d.a")).unwrap(),
        Some((199_999, Value::Double(199_999.0)))
    );
}

#[test]
fn reads_stay_complete_during_flushes_and_compactions() {
    use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let e = Arc::new(
        Engine::open(StorageConfig {
            memtable_size_threshold: 16 * 4000,
            compaction_max_files: 3,
            ..cfg(dir.path())
        })
        .unwrap(),
    );
    for m in ["a", "b"] {
        e.create_timeseries(TimeseriesSpec::new(
            p(&format!("root.sg.d.{m}")),
            TSDataType::Double,
        ))
        .unwrap();
    }
    let acked = Arc::new(AtomicI64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (e, acked, stop) = (e.clone(), acked.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut t = 0;
            while !stop.load(Ordering::Relaxed) && t < 60_000 {
                write(&e, "root.sg.d", t, 500, 2.0);
                // an out-of-order rewrite with the same values
                if t >= 1000 {
                    write(&e, "root.sg.d", t - 1000, 100, 2.0);
                }
                t += 500;
                acked.store(t, Ordering::SeqCst);
            }
        })
    };
    let compactor = {
        let (e, stop) = (e.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += e.compact().unwrap();
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            n
        })
    };
    let mut reads = 0;
    while !writer.is_finished() {
        let floor = acked.load(Ordering::SeqCst);
        let d = all(&e, "root.sg.d.a");
        assert!(d.times.len() as i64 >= floor, "{} < {floor}", d.times.len());
        assert!(d.times.windows(2).all(|w| w[0] + 1 == w[1]));
        let ColumnData::Double(v) = &d.values else {
            panic!()
        };
        assert!(d.times.iter().zip(v).all(|(&t, &x)| x == t as f64 * 2.0));
        reads += 1;
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let compactions = compactor.join().unwrap();
    assert!(reads > 0);
    let st = e.tsfile_stats();
    assert!(st.seq_files >= 1, "{st:?}");
    assert!(compactions > 0, "no compaction ran during the test");
    assert_eq!(
        all(&e, "root.sg.d.a").times.len() as i64,
        acked.load(Ordering::SeqCst)
    );
}

#[test]
fn ttl_applies_to_flushed_data_across_restart() {
    let dir = tempfile::tempdir().unwrap();
    let e = open_nc(dir.path());
    let now = model::time::now_ms();
    // old points (1970) and recent ones, both flushed
    write(&e, "root.sg.d", 0, 100, 1.0);
    write(&e, "root.sg.d", now - 1000, 10, 1.0);
    e.flush().unwrap();
    assert_eq!(all(&e, "root.sg.d.a").times.len(), 110);
    e.set_ttl(&pat("root.sg"), Some(3_600_000)).unwrap();
    assert_eq!(all(&e, "root.sg.d.a").times.len(), 10);
    drop(e);
    let e = open_nc(dir.path());
    let d = all(&e, "root.sg.d.a");
    assert_eq!(d.times.len(), 10);
    assert!(d.times.iter().all(|&t| t >= now - 1000));
    e.set_ttl(&pat("root.sg"), None).unwrap();
    assert_eq!(all(&e, "root.sg.d.a").times.len(), 110);
    // compaction removes the file of the 1970 partition once it is past the TTL
    assert_eq!(e.tsfile_stats().seq_files, 2);
    e.set_ttl(&pat("root.sg"), Some(3_600_000)).unwrap();
    drop(e);
    let e = open_nc(dir.path());
    assert!(e.compact().unwrap() >= 1);
    assert_eq!(e.tsfile_stats().seq_files, 1);
    e.set_ttl(&pat("root.sg"), None).unwrap();
    assert_eq!(all(&e, "root.sg.d.a").times.len(), 10);
}

#[test]
fn writers_outrunning_the_flusher_flush_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(StorageConfig {
        memtable_size_threshold: 16 * 100,
        ..cfg(dir.path())
    })
    .unwrap();
    // one insert of 6x the threshold: flushed on the writer's thread before it returns
    write(&e, "root.sg.d", 0, 300, 1.0);
    assert_eq!(e.tsfile_stats().seq_files, 1);
    assert_eq!(all(&e, "root.sg.d.a").times.len(), 300);
}

#[test]
fn load_aligned_device_with_nulls() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("al.tsfile");
    let sx = MeasurementSchema {
        name: "x".into(),
        data_type: TSDataType::Int64,
        encoding: TSEncoding::Rle,
        compressor: CompressionType::Snappy,
    };
    let sy = MeasurementSchema {
        name: "y".into(),
        data_type: TSDataType::Text,
        encoding: TSEncoding::Plain,
        compressor: CompressionType::Lz4,
    };
    let times: Vec<i64> = vec![1, 2, 3];
    let xv = ColumnData::Int64(vec![10, 0, 30]);
    let mut xn = model::Bitmap::new(3);
    xn.set(1);
    let yv = ColumnData::Binary(vec![b"a".to_vec(), b"b".to_vec(), vec![]]);
    let mut yn = model::Bitmap::new(3);
    yn.set(2);
    let mut w =
        tsfile::writer::TsFileWriter::create(&file, tsfile::writer::WriterOptions::default())
            .unwrap();
    w.write_aligned_device(
        "root.la.dev",
        &times,
        &[
            tsfile::writer::AlignedColumn {
                schema: &sx,
                values: &xv,
                nulls: Some(&xn),
            },
            tsfile::writer::AlignedColumn {
                schema: &sy,
                values: &yv,
                nulls: Some(&yn),
            },
        ],
    )
    .unwrap();
    w.finish().unwrap();
    let e = open_nc(&dir.path().join("db"));
    let sum = e.load_tsfiles(&file, false).unwrap();
    assert_eq!(sum.points, 4);
    let info = e.series_info(&p("root.la.dev.y")).unwrap();
    assert!(info.aligned);
    assert_eq!(
        (info.schema.encoding, info.schema.compressor),
        (TSEncoding::Plain, CompressionType::Lz4)
    );
    let x = all(&e, "root.la.dev.x");
    assert_eq!(x.times, vec![1, 3]);
    assert_eq!(x.values, ColumnData::Int64(vec![10, 30]));
    let y = all(&e, "root.la.dev.y");
    assert_eq!(y.times, vec![1, 2]);
    assert_eq!(
        y.values,
        ColumnData::Binary(vec![b"a".to_vec(), b"b".to_vec()])
    );
}

/// Aggregation reads: chunks no other point overlaps come back as statistics, everything
/// else as points, and together they are exactly the full read.
#[test]
fn summarized_reads_cover_exactly_the_full_read() {
    let dir = tempfile::tempdir().unwrap();
    let e = open_nc(dir.path());
    write(&e, "root.sg.d", 0, 1000, 1.0); // A: a memtable point will land inside
    e.flush().unwrap();
    write(&e, "root.sg.d", 1000, 1000, 1.0); // B: an unsequence file will overlap
    e.flush().unwrap();
    write(&e, "root.sg.d", 2000, 1000, 1.0); // C: a deletion will cut it
    e.flush().unwrap();
    write(&e, "root.sg.d", 3000, 1000, 1.0); // D: clean
    e.flush().unwrap();
    write(&e, "root.sg.d", 4000, 1000, 1.0); // E: clean, cut by the query range below
    e.flush().unwrap();
    write(&e, "root.sg.d", 1500, 10, -1.0); // out of order -> unsequence file
    e.flush().unwrap();
    e.delete_data(&[pat("root.sg.d.a")], TimeRange::new(2500, 2509))
        .unwrap();
    write(&e, "root.sg.d", 500, 1, 7.0); // memtable, inside A

    let full_sum = |d: &storage::SeriesData| match &d.values {
        ColumnData::Double(v) => v.iter().sum::<f64>(),
        other => panic!("{other:?}"),
    };
    for (range, want_clean) in [
        (TimeRange::ALL, vec![(3000, 3999), (4000, 4999)]),
        (TimeRange::new(0, 4500), vec![(3000, 3999)]),
        (TimeRange::new(3500, 3600), vec![]),
    ] {
        let full = e.read_series(&p("root.sg.d.a"), range).unwrap();
        let s = e
            .read_series_summarized(&p("root.sg.d.a"), range, &|_: &ChunkSummary| {
                SummaryUse::Use
            })
            .unwrap();
        let got: Vec<(i64, i64)> = s.summaries.iter().map(|c| (c.start, c.end)).collect();
        assert_eq!(got, want_clean, "{range:?}");
        let count: u64 =
            s.data.times.len() as u64 + s.summaries.iter().map(|c| c.count).sum::<u64>();
        assert_eq!(count, full.times.len() as u64, "{range:?}");
        let sum = full_sum(&s.data) + s.summaries.iter().map(|c| c.sum.unwrap()).sum::<f64>();
        assert_eq!(sum, full_sum(&full), "{range:?}");
        for c in &s.summaries {
            assert!(!s.data.times.iter().any(|t| (c.start..=c.end).contains(t)));
            assert_eq!(c.first, Value::Double(c.start as f64));
            assert_eq!(c.max, Some(Value::Double(c.end as f64)));
        }
        let kept: Vec<i64> = full
            .times
            .iter()
            .copied()
            .filter(|t| !s.summaries.iter().any(|c| (c.start..=c.end).contains(t)))
            .collect();
        assert_eq!(s.data.times, kept, "{range:?}");
        // a caller that can use no chunk gets the full read
        let none = e
            .read_series_summarized(&p("root.sg.d.a"), range, &|_: &ChunkSummary| {
                SummaryUse::Decode
            })
            .unwrap();
        assert!(none.summaries.is_empty());
        assert_eq!(none.data, full);
        // a caller that rejects the clean chunks (say, by a value filter) reads the rest only
        let skipped = e
            .read_series_summarized(&p("root.sg.d.a"), range, &|_: &ChunkSummary| {
                SummaryUse::Skip
            })
            .unwrap();
        assert!(skipped.summaries.is_empty());
        assert_eq!(skipped.data.times, s.data.times, "{range:?}");
    }
}

/// A flush writes out a sealed memtable while inserts keep going into a fresh one: small
/// inserts from another thread are acknowledged while a big flush is still running, and
/// nothing is lost.
#[test]
fn inserts_are_acknowledged_while_a_flush_runs() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Instant;
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(StorageConfig {
        memtable_size_threshold: u64::MAX / 4,
        ..cfg(dir.path())
    })
    .unwrap();
    let cols: Vec<String> = (0..8).map(|i| format!("s{i}")).collect();
    let ms: Vec<&str> = cols.iter().map(|s| s.as_str()).collect();
    let rows = 50_000i64;
    for chunk in 0..4 {
        let times: Vec<i64> = (chunk * rows..(chunk + 1) * rows).collect();
        let data = ms
            .iter()
            .enumerate()
            .map(|(k, _)| {
                times
                    .iter()
                    .map(|&t| (t as f64 * 0.01 + k as f64).sin())
                    .collect()
            })
            .collect();
        e.insert_tablet(&doubles("root.sg.big", &ms, times, data))
            .unwrap();
    }
    let flushing = AtomicBool::new(false);
    let done = AtomicBool::new(false);
    let (start, end, acks) = std::thread::scope(|s| {
        let writer = s.spawn(|| {
            while !flushing.load(Ordering::Acquire) {
                std::thread::yield_now();
            }
            let mut acks = Vec::new();
            let mut t = 0;
            while !done.load(Ordering::Acquire) {
                e.insert_tablet(&doubles("root.sg.small", &["a"], vec![t], vec![vec![1.0]]))
                    .unwrap();
                acks.push(Instant::now());
                t += 1;
            }
            acks
        });
        flushing.store(true, Ordering::Release);
        let start = Instant::now();
        e.flush().unwrap();
        let end = Instant::now();
        done.store(true, Ordering::Release);
        (start, end, writer.join().unwrap())
    });
    let during = acks.iter().filter(|&&a| a > start && a < end).count();
    assert!(
        during >= 3,
        "only {during} insert(s) of {} acknowledged during a flush of {:?}",
        acks.len(),
        end - start
    );
    let small = e
        .read_series(&p("root.sg.small.a"), TimeRange::ALL)
        .unwrap();
    assert_eq!(small.times.len(), acks.len());
    let big = e.read_series(&p("root.sg.big.s7"), TimeRange::ALL).unwrap();
    assert_eq!(big.times.len(), 4 * rows as usize);
}

/// The chunk bytes of every series of a TsFile: (device, measurement) → page data per chunk.
fn chunk_bytes(file: &std::path::Path) -> Vec<(String, String, Vec<u8>)> {
    let r = tsfile::TsFileReader::open(file).unwrap();
    let mut out = Vec::new();
    for (dev, series) in r.all_series().unwrap() {
        for s in series {
            for c in &s.chunks {
                out.push((
                    dev.path(),
                    s.measurement.clone(),
                    r.read_chunk(c).unwrap().data,
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn load_places_v4_chunks_unchanged_and_newest() {
    let dir = tempfile::tempdir().unwrap();
    let ext = dir.path().join("ext");
    std::fs::create_dir_all(&ext).unwrap();
    let file = ext.join("x.tsfile");
    let schema = MeasurementSchema {
        name: "a".into(),
        data_type: TSDataType::Double,
        encoding: TSEncoding::Gorilla,
        compressor: CompressionType::Snappy,
    };
    // three chunks of one series, and a second series of one chunk
    let mut w =
        tsfile::writer::TsFileWriter::create(&file, tsfile::writer::WriterOptions::default())
            .unwrap();
    for k in 0..3i64 {
        let (times, vals) = ramp(k * 1000, 1000, 0.5);
        let values = ColumnData::Double(vals);
        let b = MeasurementSchema {
            name: "b".into(),
            ..schema.clone()
        };
        let series = [
            tsfile::writer::SeriesInput {
                schema: &schema,
                times: &times,
                values: &values,
                nulls: None,
            },
            tsfile::writer::SeriesInput {
                schema: &b,
                times: &times,
                values: &values,
                nulls: None,
            },
        ];
        w.write_device("root.ld.d1", &series[..if k == 0 { 2 } else { 1 }])
            .unwrap();
    }
    w.finish().unwrap();
    let db = dir.path().join("db");
    let e = open_nc(&db);
    // older points at the same times, one flushed, one still in memory: the loaded win
    write(&e, "root.ld.d1", 0, 10, -1.0);
    e.flush().unwrap();
    write(&e, "root.ld.d1", 2500, 10, -1.0);
    let sum = e.load_tsfiles(&ext, false).unwrap();
    assert_eq!((sum.files, sum.devices, sum.points), (1, 1, 4000));
    let (times, vals) = ramp(0, 3000, 0.5);
    let check = |e: &Engine| {
        let d = all(e, "root.ld.d1.a");
        assert_eq!(d.times, times);
        assert_eq!(d.values, ColumnData::Double(vals.clone()));
        // b was loaded for [0, 1000) only: the older points after that stay
        let (old_t, old_v) = ramp(2500, 10, -1.0);
        let d = all(e, "root.ld.d1.b");
        assert_eq!(d.times, [&times[..1000], &old_t[..]].concat());
        assert_eq!(
            d.values,
            ColumnData::Double([&vals[..1000], &old_v[..]].concat())
        );
    };
    check(&e);
    // the chunks sit unchanged in an unsequence file of their own
    let placed: Vec<_> = tsfiles(&db, "unsequence")
        .iter()
        .flat_map(|f| chunk_bytes(f))
        .collect();
    assert_eq!(placed, chunk_bytes(&file));
    // and stay there across a restart, still the newest
    drop(e);
    let e = open_nc(&db);
    check(&e);
}

#[test]
fn load_places_v3_chunks_unless_their_encoding_reads_differently_in_v4() {
    let dir = tempfile::tempdir().unwrap();
    let ext = dir.path().join("ext");
    std::fs::create_dir_all(&ext).unwrap();
    let file = ext.join("x.tsfile");
    let gorilla = MeasurementSchema {
        name: "a".into(),
        data_type: TSDataType::Double,
        encoding: TSEncoding::Gorilla,
        compressor: CompressionType::Snappy,
    };
    // GORILLA_V1 is gone from V4 readers: that series must be re-encoded, not copied
    let v1 = MeasurementSchema {
        name: "b".into(),
        encoding: TSEncoding::GorillaV1,
        ..gorilla.clone()
    };
    let opts = tsfile::writer::WriterOptions {
        version: tsfile::Version::V3,
        ..Default::default()
    };
    let mut w = tsfile::writer::TsFileWriter::create(&file, opts).unwrap();
    let (times, vals) = ramp(0, 2000, 0.25);
    let values = ColumnData::Double(vals.clone());
    let input = |schema| tsfile::writer::SeriesInput {
        schema,
        times: &times,
        values: &values,
        nulls: None,
    };
    w.write_device("root.v3.d1", &[input(&gorilla), input(&v1)])
        .unwrap();
    w.finish().unwrap();
    let db = dir.path().join("db");
    let e = open_nc(&db);
    let sum = e.load_tsfiles(&ext, false).unwrap();
    assert_eq!((sum.files, sum.points), (1, 4000));
    let check = |e: &Engine| {
        for m in ["a", "b"] {
            let d = all(e, &format!("root.v3.d1.{m}"));
            assert_eq!(d.times, times, "{m}");
            assert_eq!(d.values, ColumnData::Double(vals.clone()), "{m}");
        }
    };
    check(&e);
    // a's chunk sits unchanged in an unsequence file; b went through the insert path
    let placed: Vec<_> = tsfiles(&db, "unsequence")
        .iter()
        .flat_map(|f| chunk_bytes(f))
        .collect();
    let source: Vec<_> = chunk_bytes(&file)
        .into_iter()
        .filter(|c| c.1 == "a")
        .collect();
    assert_eq!(placed, source);
    drop(e);
    let e = open_nc(&db);
    check(&e);
}

#[test]
fn load_places_aligned_chunk_groups_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let ext = dir.path().join("ext");
    std::fs::create_dir_all(&ext).unwrap();
    let file = ext.join("x.tsfile");
    let sa = MeasurementSchema {
        name: "a".into(),
        data_type: TSDataType::Double,
        encoding: TSEncoding::Gorilla,
        compressor: CompressionType::Snappy,
    };
    let sb = MeasurementSchema {
        name: "b".into(),
        data_type: TSDataType::Int64,
        encoding: TSEncoding::Ts2Diff,
        compressor: CompressionType::Lz4,
    };
    // three chunk groups of an aligned device; b is null on every third row
    let mut w =
        tsfile::writer::TsFileWriter::create(&file, tsfile::writer::WriterOptions::default())
            .unwrap();
    let mut want_b = (Vec::new(), Vec::new());
    for k in 0..3i64 {
        let (times, vals) = ramp(k * 1000, 1000, 0.25);
        let a = ColumnData::Double(vals);
        let b = ColumnData::Int64(times.iter().map(|t| t * 3).collect());
        let mut nulls = model::Bitmap::new(times.len());
        for (i, t) in times.iter().enumerate() {
            if t % 3 == 0 {
                nulls.set(i);
            } else {
                want_b.0.push(*t);
                want_b.1.push(t * 3);
            }
        }
        let columns = [
            tsfile::writer::AlignedColumn {
                schema: &sa,
                values: &a,
                nulls: None,
            },
            tsfile::writer::AlignedColumn {
                schema: &sb,
                values: &b,
                nulls: Some(&nulls),
            },
        ];
        w.write_aligned_device("root.la.d1", &times, &columns)
            .unwrap();
    }
    w.finish().unwrap();
    let db = dir.path().join("db");
    let e = open_nc(&db);
    let sum = e.load_tsfiles(&ext, false).unwrap();
    assert_eq!((sum.files, sum.devices), (1, 1));
    assert_eq!(sum.points, 3000 + want_b.0.len() as u64);
    let (times, vals) = ramp(0, 3000, 0.25);
    let check = |e: &Engine| {
        assert!(e.series_info(&p("root.la.d1.a")).unwrap().aligned);
        let d = all(e, "root.la.d1.a");
        assert_eq!(d.times, times);
        assert_eq!(d.values, ColumnData::Double(vals.clone()));
        let d = all(e, "root.la.d1.b");
        assert_eq!(d.times, want_b.0);
        assert_eq!(d.values, ColumnData::Int64(want_b.1.clone()));
    };
    check(&e);
    // every chunk (time and value) sits unchanged in a placed file
    let placed: Vec<_> = tsfiles(&db, "unsequence")
        .iter()
        .flat_map(|f| chunk_bytes(f))
        .collect();
    assert_eq!(placed, chunk_bytes(&file));
    drop(e);
    let e = open_nc(&db);
    check(&e);
}
