//! Memory of a scan stays bounded by the slice budget, whatever the series length: a counting
//! global allocator measures the peak of live heap bytes while a raw query, a filtered
//! aggregate and a GROUP BY page through a flushed series several times larger than that
//! peak. (One test in this binary: the allocator counts every thread.)

mod common;

use model::time::TimeZone;
use model::{Column, ColumnData, InsertTablet, PartialPath, TSDataType};
use query::{Executor, Outcome, SessionContext};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const MIB: usize = 1 << 20;

#[test]
fn scans_hold_a_bounded_amount_of_memory() {
    let points = 2_000_000usize;
    query::scan::set_slice_points(50_000);
    let dir = tempfile::tempdir().unwrap();
    let engine = common::engine_without_wal(dir.path());
    let device = PartialPath::parse("root.mem.d").unwrap();
    for start in (0..points).step_by(100_000) {
        let times: Vec<i64> = (start as i64..start as i64 + 100_000).collect();
        let values = times
            .iter()
            .map(|&t| ((t as f64) / 900.0).sin() * 50.0)
            .collect();
        engine
            .insert_tablet(&InsertTablet {
                device: device.clone(),
                measurements: vec!["s0".into()],
                types: vec![TSDataType::Double],
                times,
                columns: vec![Column::new(ColumnData::Double(values))],
                aligned: false,
            })
            .unwrap();
    }
    engine.flush().unwrap();
    let ex = Executor::new(engine.clone());
    let ctx = SessionContext::new("root", TimeZone::default());
    // the whole series as the executor would hold it: 16 bytes per point
    let whole = points * 16;
    for sql in [
        "select s0 from root.mem.d",
        "select s0 from root.mem.d where s0 > 10",
        "select count(s0), avg(s0) from root.mem.d where s0 > 10",
        "select avg(s0) from root.mem.d group by ([0, 2000000), 100ms)",
        // answered from statistics: planned in fewer, larger slices
        "select count(s0), avg(s0), max_value(s0) from root.mem.d",
        "select avg(s0) from root.mem.d group by ([0, 2000000), 100000ms)",
        "select s0 from root.mem.d order by time desc",
    ] {
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let mut rows = 0;
        let Outcome::Rows(mut r) = ex.execute_sql(sql, &ctx).unwrap() else {
            panic!("{sql}: no rows")
        };
        while let Some(b) = r.stream.next_batch(10_000).unwrap() {
            rows += b.len();
        }
        drop(r);
        let grew = PEAK.load(Ordering::Relaxed).saturating_sub(base);
        assert!(rows > 0, "{sql}: no rows");
        assert!(
            grew < 12 * MIB && grew * 2 < whole,
            "{sql}: peak heap grew by {:.1} MiB while scanning {points} points ({:.1} MiB whole)",
            grew as f64 / MIB as f64,
            whole as f64 / MIB as f64
        );
        eprintln!("{sql}: +{:.1} MiB peak", grew as f64 / MIB as f64);
    }
    // A GROUP BY over ten billion windows of a sparse series: the first pages of rows come
    // at once, and only windows holding points are ever opened.
    let sparse = PartialPath::parse("root.mem.sparse").unwrap();
    let times: Vec<i64> = (0..5).map(|k| k * 2_500_000_000).collect();
    engine
        .insert_tablet(&InsertTablet {
            device: sparse,
            measurements: vec!["s0".into()],
            types: vec![TSDataType::Double],
            columns: vec![Column::new(ColumnData::Double(vec![1.0; times.len()]))],
            times,
            aligned: false,
        })
        .unwrap();
    engine.flush().unwrap();
    let sql = "select count(s0) from root.mem.sparse group by ([0, 10000000000), 1ms)";
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let Outcome::Rows(mut r) = ex.execute_sql(sql, &ctx).unwrap() else {
        panic!("{sql}: no rows")
    };
    let mut counted = 0;
    for _ in 0..3 {
        let b = r.stream.next_batch(10_000).unwrap().expect("rows");
        assert_eq!(b.len(), 10_000);
        counted += b.columns[0].data.len();
    }
    drop(r);
    let grew = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    assert_eq!(counted, 30_000);
    assert!(
        grew < 4 * MIB,
        "{sql}: peak heap grew by {:.1} MiB for 30,000 windows",
        grew as f64 / MIB as f64
    );
}
