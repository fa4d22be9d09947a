//! Non-aligned series of one device read together (`Engine::read_series_many`) decode their
//! time column once when their pages carry the same encoded times: the answers must be
//! exactly those of reading each series alone, whatever the layout (series written
//! together or apart, chunks of several pages, several files, deletions, cut ranges).

mod common;
use common::*;
use model::{ColumnData, PartialPath};
use proptest::prelude::*;
use storage::{Engine, StorageConfig, TimeRange, WalMode};

fn open_nc(dir: &std::path::Path) -> Engine {
    Engine::open(StorageConfig {
        enable_compaction: false,
        ..config(dir, WalMode::Disable)
    })
    .unwrap()
}

fn paths() -> Vec<PartialPath> {
    ["a", "b", "c"]
        .iter()
        .map(|m| p(&format!("root.sg.d.{m}")))
        .collect()
}

fn values(times: &[i64], k: f64) -> Vec<f64> {
    times.iter().map(|&t| t as f64 * k + 0.25).collect()
}

/// One write: `len` points every `step` ms from `gap` ms after the previous write's last
/// point (a negative gap overlaps it), into the series `mask` selects (bit 0 `a`, 1 `b`,
/// 2 `c`) in one tablet; `b` alone on every other of those times when `b_apart`; a flush
/// afterwards when `flush`.
#[derive(Debug, Clone)]
struct Write {
    gap: i64,
    len: i64,
    step: i64,
    mask: u8,
    b_apart: bool,
    flush: bool,
}

fn write_strategy() -> impl Strategy<Value = Write> {
    (
        prop_oneof![3 => 1i64..500, 1 => -3000i64..0],
        1i64..25_000,
        1i64..3,
        prop_oneof![2 => Just(7u8), 1 => 1u8..8],
        proptest::bool::weighted(0.25),
        proptest::bool::weighted(0.75),
    )
        .prop_map(|(gap, len, step, mask, b_apart, flush)| Write {
            gap,
            len,
            step,
            mask,
            b_apart,
            flush,
        })
}

/// Writes `w` after `end` (the previous write's last time); returns its last time.
fn apply(e: &Engine, w: &Write, end: i64) -> i64 {
    let start = end + w.gap;
    let times: Vec<i64> = (0..w.len).map(|i| start + i * w.step).collect();
    let together: Vec<&str> = ["a", "b", "c"]
        .iter()
        .enumerate()
        .filter(|(i, m)| w.mask & (1 << i) != 0 && !(w.b_apart && **m == "b"))
        .map(|(_, m)| *m)
        .collect();
    if !together.is_empty() {
        let cols = together
            .iter()
            .map(|m| values(&times, m.len() as f64 + (m.as_bytes()[0] - b'a') as f64))
            .collect();
        e.insert_tablet(&doubles("root.sg.d", &together, times.clone(), cols))
            .unwrap();
    }
    if w.b_apart && w.mask & 2 != 0 {
        let t: Vec<i64> = times.iter().copied().step_by(2).collect();
        let v = values(&t, 7.0);
        e.insert_tablet(&doubles("root.sg.d", &["b"], t, vec![v]))
            .unwrap();
    }
    if w.flush {
        e.flush().unwrap();
    }
    times.last().copied().unwrap_or(end).max(end)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn series_read_together_match_series_read_alone(
        writes in proptest::collection::vec(write_strategy(), 1..5),
        delete in proptest::option::weighted(0.3, (0i64..80_000, 0i64..20_000)),
        lo in -10i64..60_000, width in prop_oneof![0i64..3_000, 0i64..120_000],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let e = open_nc(dir.path());
        // every series exists (a point before any range read)
        e.insert_tablet(&doubles("root.sg.d", &["a", "b", "c"], vec![-1000], vec![vec![1.0]; 3]))
            .unwrap();
        let mut end = 0;
        for w in &writes {
            end = apply(&e, w, end);
        }
        if let Some((at, len)) = delete {
            e.delete_data(&[pat("root.sg.d.b")], TimeRange::new(at, at + len)).unwrap();
        }
        let range = TimeRange::new(lo, lo + width);
        let together = e.read_series_many(&paths(), range).unwrap();
        for (path, got) in paths().iter().zip(&together) {
            let alone = e.read_series(path, range).unwrap();
            prop_assert_eq!(got, &alone, "{}", path);
        }
    }
}

/// Series written together and flushed share one decoded time column, across several
/// pages, chunks and files, and also within a cut range; a series written apart does not.
#[test]
fn series_written_together_share_their_times() {
    let dir = tempfile::tempdir().unwrap();
    let e = open_nc(dir.path());
    for part in 0..3 {
        // 30,000 points a file: chunks of several pages
        let times: Vec<i64> = (part * 30_000..(part + 1) * 30_000).collect();
        let cols = vec![
            values(&times, 1.0),
            values(&times, 2.0),
            values(&times, 3.0),
        ];
        e.insert_tablet(&doubles("root.sg.d", &["a", "b", "c"], times, cols))
            .unwrap();
        e.flush().unwrap();
    }
    for range in [TimeRange::ALL, TimeRange::new(12_345, 71_234)] {
        let got = e.read_series_many(&paths(), range).unwrap();
        assert!(got[0].times.len() > 50_000);
        assert!(got[1].times.shared_with(&got[0].times), "{range:?}");
        assert!(got[2].times.shared_with(&got[0].times), "{range:?}");
        assert_eq!(got[2].values, {
            let alone = e.read_series(&paths()[2], range).unwrap();
            assert_eq!(alone.times, got[0].times);
            alone.values
        });
    }
    // `b` rewritten on other times in a later file: it decodes its own
    let times: Vec<i64> = (90_000..90_100).step_by(3).collect();
    let v = values(&times, 9.0);
    e.insert_tablet(&doubles("root.sg.d", &["b"], times, vec![v]))
        .unwrap();
    e.flush().unwrap();
    let got = e.read_series_many(&paths(), TimeRange::ALL).unwrap();
    assert!(!got[1].times.shared_with(&got[0].times));
    assert!(got[2].times.shared_with(&got[0].times));
    assert_eq!(got[1], e.read_series(&paths()[1], TimeRange::ALL).unwrap());
    assert!(matches!(&got[1].values, ColumnData::Double(v) if v.len() == got[1].times.len()));
}
