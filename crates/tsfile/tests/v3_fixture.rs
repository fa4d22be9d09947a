//! The V3 fixture `tests/fixtures/v3-d1-s1-s2.tsfile` (378 bytes), written by the Java TsFile
//! writer of apache/tsfile and kept there as its V3 compatibility fixture. Facts from its
//! README: two devices, `d1` and `d2` (two chunk groups), and a V3 self-check reports the file
//! complete; reading `d1.s1`, `d1.s2` (and the absent `d1.s3`) gives exactly one row: time
//! 10000, `s1` = 5.0 (FLOAT), `s2` = 5 (INT32).

use model::{ColumnData, TSDataType};
use tsfile::device::DeviceId;
use tsfile::format::Version;
use tsfile::reader::{TimeRange, TsFileReader};

fn fixture() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v3-d1-s1-s2.tsfile")
}

#[test]
fn v3_fixture_reads_as_documented() {
    let r = TsFileReader::open(fixture()).unwrap();
    assert_eq!(r.version(), Version::V3);
    let devices: Vec<String> = r.devices().unwrap().iter().map(|d| d.path()).collect();
    assert_eq!(devices, vec!["d1", "d2"]);
    let d1 = DeviceId::from_path("d1");
    let s1 = r.read_series(&d1, "s1", TimeRange::ALL).unwrap().unwrap();
    assert_eq!(s1.times, vec![10000]);
    assert_eq!(s1.values.data, ColumnData::Float(vec![5.0]));
    let s2 = r.read_series(&d1, "s2", TimeRange::ALL).unwrap().unwrap();
    assert_eq!(s2.times, vec![10000]);
    assert_eq!(s2.values.data, ColumnData::Int32(vec![5]));
    assert!(r.read_series(&d1, "s3", TimeRange::ALL).unwrap().is_none());
    let meta = r.device_series(&d1).unwrap();
    assert_eq!(meta.len(), 2);
    assert_eq!(meta[0].data_type, Some(TSDataType::Float));
    assert_eq!(meta[1].data_type, Some(TSDataType::Int32));
    assert!(r.may_contain(&d1, "s1"));
    // Range filters skip the only point.
    let none = r
        .read_series(&d1, "s1", TimeRange::new(0, 9999))
        .unwrap()
        .unwrap();
    assert!(none.times.is_empty());
}
