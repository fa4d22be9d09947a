//! LOAD honours the deletions recorded beside a TsFile: IoTDB 1.x text mods (`<file>.mods`,
//! path patterns, the file-offset rule) and IoTDB 2.x binary mods (`<file>.mods2`), for
//! non-aligned series and aligned devices; a corrupt mods file fails the LOAD and leaves the
//! engine untouched.

mod common;
use common::*;
use model::{Bitmap, ColumnData, CompressionType, MeasurementSchema, TSDataType, TSEncoding};
use std::path::{Path, PathBuf};
use storage::{Engine, StorageConfig, TimeRange, WalMode};
use tsfile::writer::{AlignedColumn, SeriesInput, TsFileWriter, WriterOptions};

fn open_nc(dir: &Path) -> Engine {
    Engine::open(StorageConfig {
        enable_compaction: false,
        ..config(dir, WalMode::Sync)
    })
    .unwrap()
}

fn schema(name: &str, t: TSDataType) -> MeasurementSchema {
    MeasurementSchema {
        name: name.into(),
        data_type: t,
        encoding: TSEncoding::Plain,
        compressor: CompressionType::Uncompressed,
    }
}

fn times_of(e: &Engine, path: &str) -> Vec<i64> {
    e.read_series(&p(path), TimeRange::ALL)
        .unwrap()
        .times
        .into_vec()
}

/// `lo..hi` without the times in `holes` (inclusive ranges).
fn expect(lo: i64, hi: i64, holes: &[(i64, i64)]) -> Vec<i64> {
    (lo..hi)
        .filter(|t| !holes.iter().any(|(a, b)| a <= t && t <= b))
        .collect()
}

fn with_suffix(f: &Path, suffix: &str) -> PathBuf {
    let mut s = f.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Writes a non-aligned chunk group of INT32 series `ms` over `lo..hi` (value = time).
fn plain_group<W: std::io::Write>(
    w: &mut TsFileWriter<W>,
    dev: &str,
    ms: &[&str],
    lo: i64,
    hi: i64,
) {
    let times: Vec<i64> = (lo..hi).collect();
    let values = ColumnData::Int32((lo..hi).map(|t| t as i32).collect());
    let schemas: Vec<MeasurementSchema> = ms.iter().map(|m| schema(m, TSDataType::Int32)).collect();
    let inputs: Vec<SeriesInput<'_>> = schemas
        .iter()
        .map(|s| SeriesInput {
            schema: s,
            times: &times,
            values: &values,
            nulls: None,
        })
        .collect();
    w.write_device(dev, &inputs).unwrap();
}

/// A file: `root.lm.d1` {s1, s2} over 0..100 (chunk group 1) and 100..200 (chunk group 2),
/// `root.lm.d2` {s1} over 0..100 and root.lm.`a,b` {s1} over 0..50. Returns (file length,
/// offset where chunk group 2 of d1 starts).
fn plain_file(file: &Path) -> (u64, u64) {
    let mut w = TsFileWriter::create(file, WriterOptions::default()).unwrap();
    plain_group(&mut w, "root.lm.d1", &["s1", "s2"], 0, 100);
    plain_group(&mut w, "root.lm.d2", &["s1"], 0, 100);
    plain_group(&mut w, "root.lm.`a,b`", &["s1"], 0, 50);
    let second = w.position();
    plain_group(&mut w, "root.lm.d1", &["s1", "s2"], 100, 200);
    w.finish().unwrap();
    (std::fs::metadata(file).unwrap().len(), second)
}

#[test]
fn v1_text_mods_patterns_and_file_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("1-1-0-0.tsfile");
    let (len, second) = plain_file(&file);
    let lines = [
        // a wildcard over d1, for the whole file
        format!("DELETION,root.lm.d1.*,{len},10,20"),
        // a pattern that matches nothing
        format!("DELETION,root.lm.nomatch.*,{len},0,1000"),
        // made when only chunk group 1 was written: must not reach chunk group 2
        format!("DELETION,root.lm.d1.s1,{second},90,150"),
        // an offset before every chunk: applies to nothing
        "DELETION,root.lm.**,5,0,5".to_string(),
        "DELETION,root.lm.d2.s1,9223372036854775807,50,59".to_string(),
        // a quoted node with a comma
        format!("DELETION,root.lm.`a,b`.s1,{len},0,9"),
    ];
    std::fs::write(with_suffix(&file, ".mods"), lines.join("\n") + "\n").unwrap();
    let e = open_nc(&dir.path().join("db"));
    let sum = e.load_tsfiles(&file, false).unwrap();
    // d1.s1: 200 - 11 - 10; d1.s2: 200 - 11; d2.s1: 100 - 10; `a,b`.s1: 50 - 10
    assert_eq!(sum.points, 179 + 189 + 90 + 40);
    // the deletion at the offset of chunk group 2 reaches only chunks written before it
    assert_eq!(
        times_of(&e, "root.lm.d1.s1"),
        expect(0, 200, &[(10, 20), (90, 99)])
    );
    assert_eq!(times_of(&e, "root.lm.d1.s2"), expect(0, 200, &[(10, 20)]));
    // offset 5 lies before every chunk: times 0..=5 survive
    assert_eq!(times_of(&e, "root.lm.d2.s1"), expect(0, 100, &[(50, 59)]));
    assert_eq!(times_of(&e, "root.lm.`a,b`.s1"), expect(0, 50, &[(0, 9)]));
    let v = e
        .read_series(&p("root.lm.d1.s1"), TimeRange::new(100, 100))
        .unwrap();
    assert_eq!(v.values, ColumnData::Int32(vec![100]));
}

#[test]
fn without_mods_every_point_loads() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("2-2-0-0.tsfile");
    plain_file(&file);
    let e = open_nc(&dir.path().join("db"));
    let sum = e.load_tsfiles(&file, false).unwrap();
    assert_eq!(sum.points, 200 + 200 + 100 + 50);
    assert_eq!(times_of(&e, "root.lm.d1.s1"), expect(0, 200, &[]));
}

/// An aligned device `root.lm.al` {x INT64, y TEXT}: chunk group 1 over times 1..=6,
/// chunk group 2 over 7..=10, every cell set. Returns (file length, chunk group 2 offset).
fn aligned_file(file: &Path) -> (u64, u64) {
    let sx = schema("x", TSDataType::Int64);
    let sy = schema("y", TSDataType::Text);
    let mut w = TsFileWriter::create(file, WriterOptions::default()).unwrap();
    let mut second = 0;
    for (g, (lo, hi)) in [(1i64, 7i64), (7, 11)].into_iter().enumerate() {
        if g == 1 {
            second = w.position();
        }
        let times: Vec<i64> = (lo..hi).collect();
        let xv = ColumnData::Int64(times.iter().map(|t| t * 10).collect());
        let yv = ColumnData::Binary(times.iter().map(|t| t.to_string().into_bytes()).collect());
        w.write_aligned_device(
            "root.lm.al",
            &times,
            &[
                AlignedColumn {
                    schema: &sx,
                    values: &xv,
                    nulls: None,
                },
                AlignedColumn {
                    schema: &sy,
                    values: &yv,
                    nulls: Some(&Bitmap::new(times.len())),
                },
            ],
        )
        .unwrap();
    }
    w.finish().unwrap();
    (std::fs::metadata(file).unwrap().len(), second)
}

#[test]
fn v1_aligned_cells_become_null_and_empty_rows_are_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("3-3-0-0.tsfile");
    let (len, second) = aligned_file(&file);
    std::fs::write(
        with_suffix(&file, ".mods"),
        format!(
            "DELETION,root.lm.al.x,{len},2,3\n\
             DELETION,root.lm.al.y,{len},3,4\n\
             DELETION,root.lm.al.*,{second},6,8\n"
        ),
    )
    .unwrap();
    let e = open_nc(&dir.path().join("db"));
    let sum = e.load_tsfiles(&file, false).unwrap();
    assert!(e.series_info(&p("root.lm.al.x")).unwrap().aligned);
    // x: 1..=10 minus 2,3 minus 6 (group 1 only); y: minus 3,4 minus 6
    assert_eq!(times_of(&e, "root.lm.al.x"), vec![1, 4, 5, 7, 8, 9, 10]);
    assert_eq!(times_of(&e, "root.lm.al.y"), vec![1, 2, 5, 7, 8, 9, 10]);
    assert_eq!(sum.points, 14);
    let y = e.read_series(&p("root.lm.al.y"), TimeRange::ALL).unwrap();
    assert_eq!(
        y.values,
        ColumnData::Binary(
            ["1", "2", "5", "7", "8", "9", "10"]
                .iter()
                .map(|s| s.as_bytes().to_vec())
                .collect()
        )
    );
}

/// One IoTDB 2.x tree deletion entry (`TreeDeletionEntry`): type 0x01, min and max time as
/// big-endian i64, the path pattern as a zig-zag varint length and UTF-8 bytes.
fn tree_entry(pattern: &str, start: i64, end: i64) -> Vec<u8> {
    let mut out = vec![0x01];
    out.extend_from_slice(&start.to_be_bytes());
    out.extend_from_slice(&end.to_be_bytes());
    let mut zz = (pattern.len() as u32) << 1;
    loop {
        let b = (zz & 0x7F) as u8;
        zz >>= 7;
        if zz == 0 {
            out.push(b);
            break;
        }
        out.push(b | 0x80);
    }
    out.extend_from_slice(pattern.as_bytes());
    out
}

#[test]
fn v2_binary_mods_apply_to_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("4-4-0-0.tsfile");
    plain_file(&file);
    let long = format!("root.lm.{}.s1", "n".repeat(100)); // a length of two varint bytes
    let mut bytes = tree_entry("root.lm.d1.**", 10, 20);
    bytes.extend(tree_entry("root.lm.d2.s1", 50, 59));
    bytes.extend(tree_entry(&long, 0, 100));
    // 2.x has no file offset: this reaches chunk group 2 as well
    bytes.extend(tree_entry("root.lm.d1.s1", 90, 150));
    // a torn last entry is ignored (IoTDB's reader stops there too)
    let torn = tree_entry("root.lm.d1.s2", 0, 1000);
    bytes.extend_from_slice(&torn[..torn.len() - 3]);
    std::fs::write(with_suffix(&file, ".mods2"), &bytes).unwrap();
    let e = open_nc(&dir.path().join("db"));
    e.load_tsfiles(&file, false).unwrap();
    assert_eq!(
        times_of(&e, "root.lm.d1.s1"),
        expect(0, 200, &[(10, 20), (90, 150)])
    );
    assert_eq!(times_of(&e, "root.lm.d1.s2"), expect(0, 200, &[(10, 20)]));
    assert_eq!(times_of(&e, "root.lm.d2.s1"), expect(0, 100, &[(50, 59)]));
    assert_eq!(times_of(&e, "root.lm.`a,b`.s1"), expect(0, 50, &[]));
}

#[test]
fn v2_binary_mods_on_an_aligned_device() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("5-5-0-0.tsfile");
    aligned_file(&file);
    let mut bytes = tree_entry("root.lm.al.x", 2, 3);
    bytes.extend(tree_entry("root.lm.al.*", 3, 3));
    bytes.extend(tree_entry("root.lm.al.y", 9, i64::MAX));
    std::fs::write(with_suffix(&file, ".mods2"), &bytes).unwrap();
    let e = open_nc(&dir.path().join("db"));
    let sum = e.load_tsfiles(&file, false).unwrap();
    assert_eq!(times_of(&e, "root.lm.al.x"), vec![1, 4, 5, 6, 7, 8, 9, 10]);
    assert_eq!(times_of(&e, "root.lm.al.y"), vec![1, 2, 4, 5, 6, 7, 8]);
    assert_eq!(sum.points, 15);
}

#[test]
fn both_mods_files_apply() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("6-6-0-0.tsfile");
    let (len, _) = plain_file(&file);
    std::fs::write(
        with_suffix(&file, ".mods"),
        format!("DELETION,root.lm.d2.s1,{len},0,9\n"),
    )
    .unwrap();
    std::fs::write(
        with_suffix(&file, ".mods2"),
        tree_entry("root.lm.d2.s1", 90, 99),
    )
    .unwrap();
    let e = open_nc(&dir.path().join("db"));
    e.load_tsfiles(&file, false).unwrap();
    assert_eq!(
        times_of(&e, "root.lm.d2.s1"),
        expect(0, 100, &[(0, 9), (90, 99)])
    );
}

/// LOAD of `file` fails with an error naming `name` and the engine stays as it was.
fn fails_cleanly(file: &Path, name: &str, needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let e = open_nc(&dir.path().join("db"));
    e.insert_tablet(&doubles(
        "root.keep.d",
        &["v"],
        vec![1, 2],
        vec![vec![1.0, 2.0]],
    ))
    .unwrap();
    let err = e.load_tsfiles(file, false).unwrap_err().to_string();
    assert!(err.contains(name), "{err}");
    assert!(err.contains(needle), "{err}");
    assert!(e.series_info(&p("root.lm.d1.s1")).is_none());
    assert!(e.series_info(&p("root.lm.d2.s1")).is_none());
    assert_eq!(times_of(&e, "root.keep.d.v"), vec![1, 2]);
}

#[test]
fn corrupt_mods_fail_the_load_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("7-7-0-0.tsfile");
    let (len, _) = plain_file(&file);
    let m1 = with_suffix(&file, ".mods");
    let m2 = with_suffix(&file, ".mods2");
    // 1.x: a complete line that is not a deletion
    std::fs::write(
        &m1,
        format!("DELETION,root.lm.d1.s1,{len},0,1\nDELETION,root.lm.d1.s1,x,0,1\nDELETION,root.lm.d2.s1,{len},0,1\n"),
    )
    .unwrap();
    fails_cleanly(&file, "7-7-0-0.tsfile.mods", "line 2");
    // 1.x: an invalid path pattern
    std::fs::write(&m1, format!("DELETION,root..d1,{len},0,1\n")).unwrap();
    fails_cleanly(&file, "7-7-0-0.tsfile.mods", "line 1");
    // 1.x: not UTF-8
    std::fs::write(&m1, b"DELETION,root.lm.\xff.s,1,0,1\n").unwrap();
    fails_cleanly(&file, "7-7-0-0.tsfile.mods", "UTF-8");
    std::fs::remove_file(&m1).unwrap();
    // 2.x: an unknown entry type, named with its offset
    let mut bytes = tree_entry("root.lm.d1.s1", 0, 1);
    let second = bytes.len();
    bytes.push(0x07);
    bytes.extend_from_slice(&[0; 16]);
    std::fs::write(&m2, &bytes).unwrap();
    fails_cleanly(&file, "7-7-0-0.tsfile.mods2", &format!("offset {second}"));
    // 2.x: a negative path length
    let mut bytes = tree_entry("root.lm.d1.s1", 0, 1);
    bytes.truncate(17);
    bytes.extend_from_slice(&[0x03, b'x', b'y']);
    std::fs::write(&m2, &bytes).unwrap();
    fails_cleanly(&file, "7-7-0-0.tsfile.mods2", "negative path length");
    // 2.x: a table-model deletion is refused, not guessed at
    let mut bytes = vec![0x00];
    bytes.extend_from_slice(&[0; 16]);
    bytes.extend_from_slice(&[0x02, b't', 0x00, 0x00]);
    std::fs::write(&m2, &bytes).unwrap();
    fails_cleanly(&file, "7-7-0-0.tsfile.mods2", "table-model deletion");
    std::fs::remove_file(&m2).unwrap();
    // and with the bad sidecars gone the file loads
    let e = open_nc(&dir.path().join("db"));
    assert_eq!(e.load_tsfiles(&file, false).unwrap().points, 550);
}

#[test]
fn torn_last_text_line_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("8-8-0-0.tsfile");
    let (len, _) = plain_file(&file);
    std::fs::write(
        with_suffix(&file, ".mods"),
        format!("DELETION,root.lm.d2.s1,{len},0,9\nDELETION,root.lm.d2.s1,{len},50,5"),
    )
    .unwrap();
    let e = open_nc(&dir.path().join("db"));
    e.load_tsfiles(&file, false).unwrap();
    assert_eq!(times_of(&e, "root.lm.d2.s1"), expect(0, 100, &[(0, 9)]));
}
