//! The sliced series scan against a straightforward reference: the same series read whole
//! and joined at once, itself checked against a plain model of the writes and deletions. Random data with overlapping (unsequence) flushes, deletions and
//! points left in memtables, sliced with tiny budgets so that every query crosses many
//! slice boundaries, ascending and descending.

mod common;

use model::{Column, ColumnData, InsertTablet, PartialPath, PathPattern, TSDataType, Value};
use proptest::prelude::*;
use query::expr::{CmpOp, Expr};
use query::join::{Chunk, TimeJoin};
use query::scan::{read_slice, SlicedJoin};
use storage::{Engine, TimeRange, TimeseriesSpec};

/// One write: which series (bit mask of 3), the times, and whether a FLUSH follows.
#[derive(Debug, Clone)]
enum Op {
    Write { mask: u8, times: Vec<i64> },
    Flush,
    Delete { series: usize, from: i64, len: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1u8..8, proptest::collection::btree_set(0i64..600, 1..60))
            .prop_map(|(mask, t)| Op::Write { mask, times: t.into_iter().collect() }),
        2 => Just(Op::Flush),
        2 => (0usize..3, 0i64..600, 0i64..80).prop_map(|(series, from, len)| Op::Delete { series, from, len }),
    ]
}

fn path(i: usize) -> PartialPath {
    PartialPath::parse(&format!("root.sc.d.s{i}")).unwrap()
}

fn run_ops(engine: &Engine, ops: &[Op], aligned: bool) {
    for (k, op) in ops.iter().enumerate() {
        match op {
            Op::Write { mask, times } => {
                let ms: Vec<usize> = (0..3).filter(|i| mask & (1 << i) != 0).collect();
                engine
                    .insert_tablet(&InsertTablet {
                        device: PartialPath::parse("root.sc.d").unwrap(),
                        measurements: ms.iter().map(|i| format!("s{i}")).collect(),
                        types: vec![TSDataType::Int64; ms.len()],
                        times: times.clone(),
                        columns: ms
                            .iter()
                            .map(|&i| {
                                let v = times.iter().map(|t| t * 1000 + k as i64 * 10 + i as i64);
                                Column::new(ColumnData::Int64(v.collect()))
                            })
                            .collect(),
                        aligned,
                    })
                    .unwrap();
            }
            Op::Flush => engine.flush().unwrap(),
            Op::Delete { series, from, len } => engine
                .delete_data(
                    &[PathPattern::parse(&format!("root.sc.d.s{series}")).unwrap()],
                    TimeRange::new(*from, from + len),
                )
                .unwrap(),
        }
    }
}

type Rows = Vec<(i64, Vec<Option<Value>>)>;

fn rows_of(c: &Chunk, out: &mut Rows) {
    for (r, &t) in c.times.iter().enumerate() {
        out.push((t, c.columns.iter().map(|col| col.value(r)).collect()));
    }
}

fn drain_sliced(mut j: SlicedJoin, step: usize) -> Rows {
    let mut rows = Vec::new();
    while let Some(c) = j.next_chunk(step).unwrap() {
        assert!(!c.is_empty() && c.len() <= step);
        rows_of(&c, &mut rows);
    }
    rows
}

/// Drained with `next_block` (a slice of series sharing their times may come whole).
fn drain_blocks(mut j: SlicedJoin, step: usize) -> Rows {
    let mut rows = Vec::new();
    while let Some(c) = j.next_block(step).unwrap() {
        assert!(!c.is_empty());
        rows_of(&c, &mut rows);
    }
    rows
}

fn drain_join(mut j: TimeJoin) -> Rows {
    let mut rows = Vec::new();
    while let Some(c) = j.next_chunk(1000) {
        rows_of(&c, &mut rows);
    }
    rows
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]
    #[test]
    fn sliced_scan_equals_whole_read(
        ops in proptest::collection::vec(op(), 1..14),
        budget in 1u64..120,
        step in 1usize..50,
        lo in -10i64..400,
        len in 0i64..700,
        aligned in proptest::bool::ANY,
        (pruned, threshold) in (0usize..3, 0i64..600_000),
        split_at in 0u64..80,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let engine = common::engine_without_wal(dir.path());
        engine.create_database(&PartialPath::parse("root.sc").unwrap()).unwrap();
        let specs = (0..3).map(|i| TimeseriesSpec::new(path(i), TSDataType::Int64));
        if aligned {
            // columns of an aligned device are read together (one time column decode)
            engine
                .create_aligned_timeseries(&PartialPath::parse("root.sc.d").unwrap(), specs.collect())
                .unwrap();
        } else {
            for spec in specs {
                engine.create_timeseries(spec).unwrap();
            }
        }
        run_ops(&engine, &ops, aligned);
        let paths: Vec<PartialPath> = (0..3).map(path).collect();
        let range = TimeRange::new(lo, lo + len);
        // the engine's whole read against a plain model of the writes and deletions
        let mut model: Vec<std::collections::BTreeMap<i64, i64>> = vec![Default::default(); 3];
        for (k, op) in ops.iter().enumerate() {
            match op {
                Op::Write { mask, times } => {
                    for i in (0..3).filter(|i| mask & (1 << i) != 0) {
                        for &t in times {
                            model[i].insert(t, t * 1000 + k as i64 * 10 + i as i64);
                        }
                    }
                }
                Op::Flush => {}
                Op::Delete { series, from, len } => model[*series].retain(|t, _| !(*from..=from + len).contains(t)),
            }
        }
        let mut expected: std::collections::BTreeMap<i64, Vec<Option<Value>>> = Default::default();
        for (i, m) in model.iter().enumerate() {
            for (&t, &v) in m.range(range.start..=range.end) {
                expected.entry(t).or_insert_with(|| vec![None; 3])[i] = Some(Value::Int64(v));
            }
        }
        let whole = drain_join(TimeJoin::new(read_slice(&engine, &paths, range).unwrap(), false));
        prop_assert_eq!(whole, expected.into_iter().collect::<Rows>());
        for desc in [false, true] {
            let whole = drain_join(TimeJoin::new(read_slice(&engine, &paths, range).unwrap(), desc));
            let sliced = drain_sliced(
                SlicedJoin::with_budget(engine.clone(), paths.clone(), range, desc, budget).unwrap(),
                step,
            );
            prop_assert_eq!(&sliced, &whole, "desc={}", desc);
            // series read in two halves on two cores, rows taken in blocks
            let split = drain_blocks(
                SlicedJoin::with_budget(engine.clone(), paths.clone(), range, desc, budget)
                    .unwrap()
                    .with_split_points(split_at),
                step,
            );
            prop_assert_eq!(&split, &whole, "split desc={}", desc);
            // a filter on one series pruning by statistics (for an aligned device, the rows
            // of every column): the rows that pass it are unchanged
            let pred = Expr::Cmp(
                CmpOp::Gt,
                Box::new(Expr::Input(0)),
                Box::new(Expr::Const(Value::Int64(threshold), threshold.to_string())),
            );
            let mut prune = vec![None; 3];
            prune[pruned] = Some(pred);
            let passes = |rows: &Rows| -> Rows {
                rows.iter()
                    .filter(|(_, v)| matches!(v[pruned], Some(Value::Int64(x)) if x > threshold))
                    .cloned()
                    .collect()
            };
            let filtered = drain_sliced(
                SlicedJoin::with_budget(engine.clone(), paths.clone(), range, desc, budget)
                    .unwrap()
                    .with_prune(prune),
                step,
            );
            prop_assert_eq!(passes(&filtered), passes(&whole), "pruned desc={}", desc);
        }
    }
}
