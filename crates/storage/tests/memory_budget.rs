//! The memtable budget holds: writers wait for flushes instead of growing the memtables,
//! and every point written is still read back.

use model::{Column, ColumnData, InsertTablet, PartialPath, TSDataType};
use std::sync::Arc;
use storage::{Engine, StorageConfig, TimeRange};

const ROWS: usize = 1000;
/// Estimated bytes of one tablet (16 per point, two columns).
const TABLET_BYTES: u64 = (ROWS * 2 * 16) as u64;

fn tablet(device: &str, t0: i64) -> InsertTablet {
    let times: Vec<i64> = (t0..t0 + ROWS as i64).collect();
    InsertTablet {
        device: PartialPath::parse(device).unwrap(),
        measurements: vec!["s1".into(), "s2".into()],
        types: vec![TSDataType::Double, TSDataType::Int64],
        columns: vec![
            Column::new(ColumnData::Double(
                times.iter().map(|&t| t as f64).collect(),
            )),
            Column::new(ColumnData::Int64(times.clone())),
        ],
        times,
        aligned: false,
    }
}

#[test]
fn concurrent_writers_stay_within_the_memtable_budget() {
    writers_stay_within(1 << 20, None);
}

/// A server whose other memory takes more than expected lowers the memtables' limit
/// (`Engine::limit_memtables`); the lowered limit holds the same way.
#[test]
fn concurrent_writers_stay_within_a_lowered_limit() {
    writers_stay_within(1 << 20, Some(600 << 10));
}

/// Four writers of 100 tablets each, two per database, against a memtable budget of
/// `configured` bytes (lowered to `lowered` if given): the count never passes the limit in
/// force, matches the memtables once the writes are done, and every point is read back.
fn writers_stay_within(configured: u64, lowered: Option<u64>) {
    let dir = tempfile::tempdir().unwrap();
    let config = StorageConfig {
        memtable_budget_bytes: configured,
        ..StorageConfig::with_data_dir(dir.path().join("data"))
    };
    let engine = Arc::new(Engine::open(config).unwrap());
    if let Some(l) = lowered {
        engine.limit_memtables(l);
    }
    let budget = lowered.unwrap_or(configured);
    assert_eq!(engine.memtable_limit(), budget);
    let flushes_before = storage::stats().flushes;
    let writers = 4;
    let tablets = 100;
    let threads: Vec<_> = (0..writers)
        .map(|w| {
            let engine = engine.clone();
            std::thread::spawn(move || {
                let mut peak = 0;
                for i in 0..tablets {
                    let device = format!("root.mb{}.d{w}", w % 2);
                    engine
                        .insert_tablet(&tablet(&device, (i * ROWS) as i64))
                        .unwrap();
                    peak = peak.max(engine.memory_use().memtable_bytes);
                }
                peak
            })
        })
        .collect();
    for t in threads {
        let peak = t.join().unwrap();
        // Admission reserves a tablet's bytes in one atomic step that never passes the
        // budget, and the reservation becomes the memtable's share when the tablet is
        // applied: the count never exceeds the budget, however the writers interleave
        // (without a budget the writers would hold all their tablets).
        assert!(budget < (writers * tablets) as u64 * TABLET_BYTES);
        assert!(
            peak <= budget,
            "memtables reached {peak} bytes, budget {budget}"
        );
    }
    // the count is the memtables' own estimate once no write is in flight (and the
    // background flush, which holds a sealed memtable until it is done, has finished)
    let settled = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (counted, recounted) = (
            engine.memory_use().memtable_bytes,
            engine.memtable_bytes_recounted(),
        );
        if counted == recounted {
            break;
        }
        assert!(
            std::time::Instant::now() < settled,
            "counted {counted} bytes, memtables hold {recounted}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(storage::stats().flushes >= flushes_before + 4);
    for w in 0..writers {
        let path = PartialPath::parse(&format!("root.mb{}.d{w}.s2", w % 2)).unwrap();
        let data = engine.read_series(&path, TimeRange::ALL).unwrap();
        assert_eq!(data.times.len(), tablets * ROWS, "writer {w}");
        assert_eq!(data.times, (0..(tablets * ROWS) as i64).collect::<Vec<_>>());
    }
    // flushed memtables give their bytes back
    engine.flush().unwrap();
    assert_eq!(engine.memory_use().memtable_bytes, 0);
    assert_eq!(engine.memtable_bytes_recounted(), 0);
    engine.close().unwrap();
}
